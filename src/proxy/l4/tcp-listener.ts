/**
 * One bound TCP socket serving a TCP listener or the TLS listeners of a
 * port. Its table is swapped by assignment when a new IR is applied; a
 * connection reads it once, when it arrives, and keeps it.
 */
import net, { type Socket } from 'node:net';
import type { ProxyRuntime } from '../http/runtime.ts';
import type { L4Table } from './compile.ts';
import { serveConnection, type ConnectionEnv } from './tcp-connection.ts';

type StreamTable = Exclude<L4Table, { kind: 'udp' }>;

export class TcpL4Listener {
  table: StreamTable;
  private readonly server: net.Server;
  private readonly sockets = new Set<Socket>();
  private readonly env: ConnectionEnv;
  private closing: Promise<void> | null = null;
  private readonly forceTimers: NodeJS.Timeout[] = [];

  constructor(
    private readonly runtime: ProxyRuntime,
    readonly address: string,
    /** Requested port (0 = any); see `port` for the bound one. */
    readonly requestedPort: number,
    table: StreamTable,
  ) {
    this.table = table;
    this.env = { runtime, track: (s) => this.track(s) };
    // allowHalfOpen: a client's FIN must reach the backend without closing the way back.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.track(socket);
      serveConnection(this.env, this.table, socket);
    });
  }

  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.requestedPort;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.address, port: this.requestedPort }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.runtime.log.error({ err, address: this.address }, 'listener error'));
        resolve();
      });
    });
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  /**
   * Stops accepting now; connections get up to `graceMs` to end on their
   * own (L4 has no request boundary to wait for), then are cut. Calling it
   * again with a shorter grace shortens the wait.
   */
  close(graceMs: number): Promise<void> {
    this.forceTimers.push(setTimeout(() => this.cutAll(), Math.max(0, graceMs)));
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => {
        for (const t of this.forceTimers) clearTimeout(t);
        resolve();
      });
    });
    return this.closing;
  }

  private cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}
