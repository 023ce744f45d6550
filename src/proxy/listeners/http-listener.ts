/**
 * One bound socket serving HTTP: HTTP/1.1 through a node:http server with
 * the gateway's limits, HTTP/2 through an H2Endpoint, on the same port. In
 * cleartext the first bytes choose (h2c with prior knowledge); over TLS
 * (HTTPS listeners) ALPN does. The routing table, and for HTTPS the SNI
 * contexts, are swapped by assignment when a new IR is applied; a request
 * reads the table once, when it arrives, and keeps it. With PROXY protocol
 * on, its header comes first, before either (client-address.ts).
 */
import http, { type IncomingMessage, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { ConnCounter } from '../../observability/metrics/data-plane-metrics.ts';
import type { SocketTable } from '../compile/compiled-route.ts';
import { ProxyResponse, handleRequest, handleUpgrade } from '../http/handle-request.ts';
import { writeRawResponse, type ListenerInfo } from '../http/request-context.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { H2Endpoint } from '../http2/h2-endpoint.ts';
import { sniffPreface } from '../http2/preface-sniffer.ts';
import { readPreamble } from '../l4/preamble.ts';
import type { SniContexts } from '../tls/sni-contexts.ts';
import { adoptClientAddress, type ProxyProtocolMode } from './client-address.ts';
import { onClientError } from './client-error.ts';
import { takeOverConnections } from './connection-takeover.ts';
import { TlsTermination, type HttpsServer } from './https-listener.ts';

/** While draining, idle keep-alive connections are closed this often. */
const DRAIN_SWEEP_MS = 100;

export class HttpListener implements ListenerInfo {
  readonly scheme: 'http' | 'https';
  table: SocketTable;
  readonly server: http.Server<typeof IncomingMessage, typeof ProxyResponse> | HttpsServer;
  /** Null for cleartext listeners. */
  readonly tls: TlsTermination | null;
  private readonly h2: H2Endpoint;
  private readonly tunnels = new Set<Socket>();
  /** Cleartext connections whose protocol is not known yet. */
  private readonly sniffing = new Set<Socket>();
  private closing: Promise<void> | null = null;
  private readonly forceTimers: NodeJS.Timeout[] = [];
  /** Cleartext: read a PROXY header first (HTTPS: TlsTermination reads it with the ClientHello). */
  private proxyProtocol: ProxyProtocolMode | undefined;

  constructor(
    private readonly runtime: ProxyRuntime,
    readonly address: string,
    /** Requested port (0 = any); see `port` for the bound one. */
    readonly requestedPort: number,
    table: SocketTable,
    tls: SniContexts | null,
    proxyProtocol?: ProxyProtocolMode,
  ) {
    this.table = table;
    this.proxyProtocol = proxyProtocol;
    this.scheme = tls === null ? 'http' : 'https';
    this.h2 = new H2Endpoint(runtime, this);
    const t = runtime.tuning;
    const options: ServerOptions<typeof IncomingMessage, typeof ProxyResponse> = {
      ServerResponse: ProxyResponse,
      maxHeaderSize: t.maxHeaderBytes,
      headersTimeout: t.headersTimeoutMs,
      requestTimeout: t.requestReceiveTimeoutMs,
      keepAliveTimeout: t.keepAliveTimeoutMs,
      connectionsCheckingInterval: t.connectionsCheckingIntervalMs,
      requireHostHeader: true,
      noDelay: true,
    };
    if (tls === null) {
      this.tls = null;
      const server = http.createServer<typeof IncomingMessage, typeof ProxyResponse>(options);
      takeOverConnections(server, 'connection', (socket, http1) => this.sniff(socket, http1));
      this.server = server;
    } else {
      this.tls = new TlsTermination(tls, t, options, (socket) => this.h2.accept(socket), runtime.metrics);
      this.tls.proxyProtocol = proxyProtocol;
      this.server = this.tls.server;
    }
    const server = this.server;
    server.on('request', (req: IncomingMessage, res: ProxyResponse) =>
      handleRequest(runtime, this, this.table, req, res, false),
    );
    server.on('checkContinue', (req: IncomingMessage, res: ProxyResponse) =>
      handleRequest(runtime, this, this.table, req, res, true),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      handleUpgrade(runtime, this, this.table, req, socket, head),
    );
    server.on('clientError', onClientError);
    // No TCP tunnelling through HTTP listeners.
    server.on('connect', (_req: IncomingMessage, socket: Socket) => {
      socket.on('error', () => socket.destroy());
      writeRawResponse(socket, 405, [], Buffer.alloc(0));
    });
  }

  get noSniListener(): string | null {
    return this.tls === null ? null : this.tls.noSniListener;
  }

  /** The port actually bound (differs from the requested one when that was 0). */
  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.requestedPort;
  }

  /** Takes a new configuration: routing table, PROXY protocol and, for HTTPS, certificates and TLS policy. */
  update(table: SocketTable, tls: SniContexts | null, proxyProtocol?: ProxyProtocolMode): void {
    this.table = table;
    this.proxyProtocol = proxyProtocol;
    if (this.tls !== null) this.tls.proxyProtocol = proxyProtocol;
    if (tls !== null) this.tls?.update(tls);
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
   * then every connection (upgraded ones and HTTP/2 sessions included) is
   * cut. Calling it again with a shorter grace shortens the wait.
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
      this.h2.drain();
      for (const s of this.sniffing) s.destroy();
      this.tls?.destroyReading();
    });
    return this.closing;
  }

  private sniff(socket: Socket, http1: (socket: Socket) => void): void {
    const m = this.runtime.metrics;
    const id = this.table.connSeries;
    m.connAdd(id, ConnCounter.Connections);
    m.connAdd(id, ConnCounter.Active);
    socket.once('close', () => m.connAdd(id, ConnCounter.Active, -1));
    this.sniffing.add(socket);
    socket.once('close', () => this.sniffing.delete(socket));
    const pp = this.proxyProtocol;
    if (pp === undefined) {
      this.sniffProtocol(socket, http1);
      return;
    }
    const t = this.runtime.tuning;
    const opts = {
      proxyProtocol: true,
      proxyProtocolOptional: pp === 'optional',
      clientHello: false,
      maxBytes: t.tlsClientHelloMaxBytes,
      timeoutMs: t.headersTimeoutMs,
    };
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    readPreamble(socket, opts, (r) => {
      socket.off('error', onError);
      if (!r.ok) {
        socket.destroy();
        return;
      }
      adoptClientAddress(socket, r.preamble.proxy);
      if (r.preamble.rest.length > 0) socket.unshift(r.preamble.rest);
      this.sniffProtocol(socket, http1);
      socket.resume(); // readPreamble left it paused
    });
  }

  private sniffProtocol(socket: Socket, http1: (socket: Socket) => void): void {
    sniffPreface(socket, this.runtime.tuning.headersTimeoutMs, (protocol) => {
      this.sniffing.delete(socket);
      if (protocol === 'h2') this.h2.accept(socket);
      else http1(socket);
    });
  }

  private cutAll(): void {
    this.server.closeAllConnections();
    this.h2.destroyAll();
    for (const s of this.tunnels) s.destroy();
  }
}
