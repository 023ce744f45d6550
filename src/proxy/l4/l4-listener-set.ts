/**
 * The bound TCP/TLS/UDP sockets of a data plane, reconciled with each
 * compiled IR like the HTTP ListenerSet: sockets still needed keep running
 * with the new table, new ones are bound, the others stop accepting and
 * drain in the background.
 */
import type { BoundSocket } from '../dataplane.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import type { L4Config, L4Socket } from './compile.ts';
import { TcpL4Listener } from './tcp-listener.ts';
import { UdpL4Listener } from './udp-listener.ts';

type L4Listener = TcpL4Listener | UdpL4Listener;

export class L4ListenerSet {
  private readonly listeners = new Map<string, L4Listener>();
  private readonly draining = new Map<L4Listener, Promise<void>>();

  constructor(private readonly runtime: ProxyRuntime) {}

  /**
   * Stops the sockets `config` no longer has. Separate from `apply` so that
   * the data plane can free them before the HTTP listeners bind (a port may
   * move from a TCP listener to an HTTP one). Resolves once they are unbound.
   */
  async release(config: L4Config): Promise<void> {
    const removed = [...this.listeners].filter(([key]) => !config.sockets.has(key));
    for (const [key, l] of removed) {
      this.listeners.delete(key);
      this.drain(l, this.runtime.tuning.removedListenerGraceMs);
    }
    if (removed.length > 0) await new Promise((r) => setImmediate(r));
  }

  async apply(config: L4Config): Promise<{ bound: BoundSocket[]; errors: string[] }> {
    const errors = [...config.errors];
    await this.release(config);
    const fresh = new Map<string, L4Listener>();
    await Promise.all(
      [...config.sockets.values()]
        .filter((s) => !this.listeners.has(s.key))
        .map(async (s) => {
          const l = create(this.runtime, s);
          try {
            await l.listen();
            fresh.set(s.key, l);
          } catch (err) {
            const why = (err as Error).message;
            for (const name of s.listeners) {
              errors.push(`listener ${name}: cannot listen on ${s.address}:${s.boundPort}/${s.transport}: ${why}`);
            }
            void l.close(0);
          }
        }),
    );

    // The swap: one synchronous pass.
    const bound: BoundSocket[] = [];
    for (const s of config.sockets.values()) {
      const l = this.listeners.get(s.key) ?? fresh.get(s.key);
      if (l === undefined) continue;
      if (l instanceof UdpL4Listener) {
        if (s.table.kind === 'udp') l.table = s.table;
      } else if (s.table.kind !== 'udp') {
        l.table = s.table;
      }
      this.listeners.set(s.key, l);
      bound.push({
        address: s.address,
        port: s.port,
        boundPort: l.port,
        protocol: s.transport,
        listeners: [...s.listeners],
      });
    }
    return { bound, errors };
  }

  /** Closes every socket, draining for up to `graceMs`. */
  async closeAll(graceMs: number): Promise<void> {
    for (const l of this.listeners.values()) this.drain(l, graceMs);
    this.listeners.clear();
    for (const l of [...this.draining.keys()]) this.drain(l, graceMs);
    await Promise.all([...this.draining.values()]);
  }

  private drain(l: L4Listener, graceMs: number): void {
    const p = l.close(graceMs).finally(() => this.draining.delete(l));
    this.draining.set(l, p);
  }
}

function create(runtime: ProxyRuntime, s: L4Socket): L4Listener {
  const t = s.table;
  return t.kind === 'udp'
    ? new UdpL4Listener(runtime, s.address, s.boundPort, t)
    : new TcpL4Listener(runtime, s.address, s.boundPort, t);
}
