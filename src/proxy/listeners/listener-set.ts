/**
 * The bound sockets of a data plane, reconciled with each compiled IR:
 * sockets the new IR still needs are kept (their tables swapped), new ones
 * are bound, the others stop accepting and drain in the background.
 */
import type { BoundSocket } from '../dataplane.ts';
import type { CompiledConfig, CompiledSocket } from '../compile/compile-config.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { HttpListener } from './http-listener.ts';

export class ListenerSet {
  private readonly listeners = new Map<string, HttpListener>();
  private readonly draining = new Map<HttpListener, Promise<void>>();

  constructor(private readonly runtime: ProxyRuntime) {}

  async apply(config: CompiledConfig): Promise<{ bound: BoundSocket[]; errors: string[] }> {
    const errors = [...config.errors];
    // Free the sockets that go first, so that an address moving between them can be bound again.
    // A socket switching between HTTP and HTTPS is bound anew.
    const removed = [...this.listeners].filter(([key, l]) => {
      const next = config.sockets.get(key);
      return next === undefined || (next.tls !== null) !== (l.tls !== null);
    });
    for (const [key, l] of removed) {
      this.listeners.delete(key);
      this.drain(l, this.runtime.tuning.removedListenerGraceMs);
    }
    if (removed.length > 0) await new Promise((r) => setImmediate(r));

    const fresh = new Map<string, HttpListener>();
    await Promise.all(
      [...config.sockets.values()]
        .filter((s) => !this.listeners.has(s.key))
        .map(async (s) => {
          const l = new HttpListener(this.runtime, s.address, s.boundPort, s.table, s.tls, s.proxyProtocol);
          try {
            await l.listen();
            fresh.set(s.key, l);
          } catch (err) {
            const why = (err as Error).message;
            for (const name of s.listeners)
              errors.push(`listener ${name}: cannot listen on ${s.address}:${s.boundPort}: ${why}`);
          }
        }),
    );

    // The swap: one synchronous pass, so no request sees half of it.
    const bound: BoundSocket[] = [];
    for (const s of config.sockets.values()) {
      const l = this.listeners.get(s.key) ?? fresh.get(s.key);
      if (l === undefined) continue;
      l.update(s.table, s.tls, s.proxyProtocol);
      this.listeners.set(s.key, l);
      bound.push(describe(s, l));
    }
    return { bound, errors };
  }

  /** Closes every socket, draining for up to `graceMs`. */
  async closeAll(graceMs: number): Promise<void> {
    for (const l of this.listeners.values()) this.drain(l, graceMs);
    this.listeners.clear();
    // Sockets already draining from an earlier apply get the same (shorter) deadline.
    for (const l of [...this.draining.keys()]) this.drain(l, graceMs);
    await Promise.all([...this.draining.values()]);
  }

  private drain(l: HttpListener, graceMs: number): void {
    const p = l.close(graceMs).finally(() => this.draining.delete(l));
    this.draining.set(l, p);
  }
}

function describe(s: CompiledSocket, l: HttpListener): BoundSocket {
  return { address: s.address, port: s.port, boundPort: l.port, protocol: 'tcp', listeners: [...s.listeners] };
}
