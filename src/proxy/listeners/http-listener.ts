/**
 * One bound socket serving HTTP/1.1: a node:http server with the gateway's
 * limits, whose routing table is swapped by assignment when a new IR is
 * applied. A request reads the table once, when it arrives, and keeps it.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { SocketTable } from '../compile/compiled-route.ts';
import { ProxyResponse, handleRequest, handleUpgrade } from '../http/handle-request.ts';
import { writeRawResponse, type ListenerInfo } from '../http/request-context.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { onClientError } from './client-error.ts';

/** While draining, idle keep-alive connections are closed this often. */
const DRAIN_SWEEP_MS = 100;

export class HttpListener implements ListenerInfo {
  readonly scheme = 'http';
  table: SocketTable;
  readonly server: http.Server<typeof IncomingMessage, typeof ProxyResponse>;
  private readonly tunnels = new Set<Socket>();
  private closing: Promise<void> | null = null;
  private readonly forceTimers: NodeJS.Timeout[] = [];

  constructor(
    private readonly runtime: ProxyRuntime,
    readonly address: string,
    /** Requested port (0 = any); see `port` for the bound one. */
    readonly requestedPort: number,
    table: SocketTable,
  ) {
    this.table = table;
    const t = runtime.tuning;
    this.server = http.createServer<typeof IncomingMessage, typeof ProxyResponse>(
      {
        ServerResponse: ProxyResponse,
        maxHeaderSize: t.maxHeaderBytes,
        headersTimeout: t.headersTimeoutMs,
        requestTimeout: t.requestReceiveTimeoutMs,
        keepAliveTimeout: t.keepAliveTimeoutMs,
        connectionsCheckingInterval: t.connectionsCheckingIntervalMs,
        requireHostHeader: true,
        noDelay: true,
      },
      (req, res) => handleRequest(runtime, this, this.table, req, res, false),
    );
    this.server.on('checkContinue', (req: IncomingMessage, res: ProxyResponse) =>
      handleRequest(runtime, this, this.table, req, res, true),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      handleUpgrade(runtime, this, this.table, req, socket, head),
    );
    this.server.on('clientError', onClientError);
    // No TCP tunnelling through HTTP listeners.
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) => {
      socket.on('error', () => socket.destroy());
      writeRawResponse(socket, 405, [], Buffer.alloc(0));
    });
  }

  /** The port actually bound (differs from the requested one when that was 0). */
  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.requestedPort;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.runtime.log.error({ err, address: this.address }, 'listener error'));
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host: this.address, port: this.requestedPort });
    });
  }

  trackTunnel(downstream: Socket): void {
    this.tunnels.add(downstream);
    downstream.once('close', () => this.tunnels.delete(downstream));
  }

  /**
   * Stops accepting now; requests in flight get up to `graceMs` to finish,
   * then every connection (upgraded ones included) is cut. Calling it again
   * with a shorter grace shortens the wait.
   */
  close(graceMs: number): Promise<void> {
    const force = setTimeout(() => this.cutAll(), Math.max(0, graceMs));
    this.forceTimers.push(force);
    if (this.closing !== null) return this.closing;
    const server = this.server;
    this.closing = new Promise<void>((resolve) => {
      const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_SWEEP_MS);
      server.close(() => {
        clearInterval(sweep);
        for (const t of this.forceTimers) clearTimeout(t);
        resolve();
      });
      server.closeIdleConnections();
    });
    return this.closing;
  }

  private cutAll(): void {
    this.server.closeAllConnections();
    for (const s of this.tunnels) s.destroy();
  }
}
