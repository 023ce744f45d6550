/**
 * The TLS half of an HTTPS listener: node's https.Server, but the listener
 * of a shared port is picked before TLS starts, from the SNI of the
 * ClientHello (read without consuming it, l4/preamble.ts), so that the
 * handshake runs with that listener's own context: its certificates (RSA
 * and ECDSA side by side), versions, ciphers, curves and client
 * certificate policy (tls/sni-contexts.ts). ALPN `h2` or `http/1.1` per
 * listener; the ClientHello read and the handshake are bounded. After the
 * handshake the client certificate policy is checked where OpenSSL cannot
 * (tls/client-validation.ts), then `h2` connections go to the HTTP/2
 * endpoint and the rest to node's HTTP/1 handling of the same server.
 */
import type { IncomingMessage, ServerOptions as HttpServerOptions } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import {
  ConnCounter,
  DataPlaneMetrics,
  TlsFailure,
  tlsFailureReason,
} from '../../observability/metrics/data-plane-metrics.ts';
import type { ProxyResponse } from '../http/handle-request.ts';
import type { ProxyTuning } from '../http/tuning.ts';
import { readPreamble } from '../l4/preamble.ts';
import type { ProxyHeader } from '../l4/proxy-protocol.ts';
import type { SniContexts, TlsListener } from '../tls/sni-contexts.ts';
import { adoptClientAddress, type ProxyProtocolMode } from './client-address.ts';
import { takeOverConnections } from './connection-takeover.ts';

export type HttpsServer = https.Server<typeof IncomingMessage, typeof ProxyResponse>;

/**
 * What node's tls.Server reads when it wraps a new connection (its
 * `tlsConnectionListener`, synchronously): plain properties, missing from
 * its types. Set right before each wrap, they make that one handshake use
 * the selected listener's context and client certificate flags.
 */
interface PerConnection {
  _sharedCreds: SecureContext;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export class TlsTermination {
  readonly server: HttpsServer;
  private contexts: SniContexts;
  /** Connections whose ClientHello is still being read. */
  private readonly reading = new Set<Socket>();
  /** A PROXY header comes before the ClientHello (the socket's listeners enable it). */
  proxyProtocol: ProxyProtocolMode | undefined;
  /**
   * What was read on a raw socket before TLS, for the TLS socket node wraps
   * it in; `settled` once the handshake's outcome is counted.
   */
  private readonly before = new WeakMap<
    Socket,
    { listener: TlsListener; proxy: ProxyHeader | undefined; settled: boolean }
  >();
  private readonly metrics: DataPlaneMetrics;

  constructor(
    contexts: SniContexts,
    private readonly tuning: ProxyTuning,
    httpOptions: HttpServerOptions<typeof IncomingMessage, typeof ProxyResponse>,
    h2: (socket: Socket) => void,
    /** Connection and handshake counters, per listener (TlsListener.metricsSeries). */
    metrics: DataPlaneMetrics | null = null,
  ) {
    this.contexts = contexts;
    const m = (this.metrics = metrics ?? new DataPlaneMetrics(false));
    this.server = https.createServer<typeof IncomingMessage, typeof ProxyResponse>({
      ...httpOptions,
      ...contexts.defaultOptions,
      handshakeTimeout: tuning.tlsHandshakeTimeoutMs,
      // The context was chosen before the handshake: SNI keeps it.
      SNICallback: (_servername, cb) => cb(null, undefined),
      ALPNCallback: ({ servername, protocols }) => this.contexts.alpn(servername, protocols),
    });
    if (!('_sharedCreds' in this.server)) throw new Error("node's tls.Server no longer has _sharedCreds");
    takeOverConnections(this.server, 'connection', (socket, startTls) => this.accept(socket, startTls));
    takeOverConnections(this.server, 'secureConnection', (socket, http1) => {
      const s = socket as TLSSocket;
      // node's TLSSocket keeps the socket it wraps as `_parent`.
      const raw = (s as unknown as { _parent?: Socket })._parent;
      const pre = raw === undefined ? undefined : this.before.get(raw);
      if (pre?.proxy !== undefined) adoptClientAddress(s, pre.proxy);
      // The policy of the listener whose context (CAs) the handshake used, even if a new IR came in since.
      const l = pre?.listener ?? this.contexts.select(s.servername);
      if (pre !== undefined) pre.settled = true;
      const id = l.metricsSeries;
      if (l.checkAfterHandshake && !l.client!.accepts(s)) {
        m.tlsFailed(id, TlsFailure.ClientCertificate);
        s.destroy();
        return;
      }
      m.connAdd(id, ConnCounter.Handshakes);
      if (s.isSessionReused()) m.connAdd(id, ConnCounter.Resumed);
      m.connAdd(id, ConnCounter.Active);
      s.once('close', () => m.connAdd(id, ConnCounter.Active, -1));
      if (s.alpnProtocol === 'h2') h2(s);
      else http1(s);
    });
    // Failed handshakes (timeout, refused client certificate, not TLS at all) end quietly; node's
    // default hands them to 'clientError', whose handler answers in HTTP.
    this.server.removeAllListeners('tlsClientError');
    this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const raw = (socket as unknown as { _parent?: Socket })._parent;
      const pre = raw === undefined ? undefined : this.before.get(raw);
      if (pre === undefined || !pre.settled) {
        if (pre !== undefined) pre.settled = true;
        // node refuses an unverified client certificate by closing the socket (a reset), setting authorizationError.
        const l = pre?.listener ?? this.contexts.fallback;
        m.tlsFailed(l.metricsSeries, tlsFailureReason(err, socket.authorizationError));
      }
      socket.destroy();
    });
  }

  /** See ListenerInfo.noSniListener. */
  get noSniListener(): string | null {
    return this.contexts.noSniListener;
  }

  /**
   * New certificates, client validation and settings, for handshakes from
   * now on. Connections already established keep what they negotiated.
   */
  update(next: SniContexts): void {
    this.contexts = next;
  }

  /** Cuts the connections still sending their ClientHello (closing). */
  destroyReading(): void {
    for (const s of this.reading) s.destroy();
  }

  /** Reads the ClientHello, selects the listener, then lets node start TLS with its context. */
  private accept(socket: Socket, startTls: (socket: Socket) => void): void {
    this.reading.add(socket);
    socket.once('close', () => this.reading.delete(socket));
    const pp = this.proxyProtocol;
    const opts = {
      proxyProtocol: pp !== undefined,
      proxyProtocolOptional: pp === 'optional',
      clientHello: true,
      maxBytes: this.tuning.tlsClientHelloMaxBytes,
      timeoutMs: this.tuning.tlsHandshakeTimeoutMs,
    };
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    readPreamble(socket, opts, (r) => {
      this.reading.delete(socket);
      socket.off('error', onError);
      if (!r.ok) {
        // Before a ClientHello the listener is not known: the connection counts under the socket's
        // default listener (the one a handshake without SNI gets).
        const id = this.contexts.fallback.metricsSeries;
        this.metrics.connAdd(id, ConnCounter.Connections);
        const reason =
          r.kind === 'timeout' ? TlsFailure.Timeout : r.kind === 'closed' ? TlsFailure.Closed : TlsFailure.Protocol;
        this.metrics.tlsFailed(id, reason);
        socket.destroy();
        return;
      }
      const hello = r.preamble.hello!;
      const l = this.contexts.select(hello.sni);
      this.metrics.connAdd(l.metricsSeries, ConnCounter.Connections);
      this.before.set(socket, { listener: l, proxy: r.preamble.proxy, settled: false });
      socket.unshift(r.preamble.rest);
      const server = this.server as unknown as PerConnection;
      server._sharedCreds = this.contexts.contextFor(l, hello.ticketName);
      server.requestCert = l.client !== null;
      server.rejectUnauthorized = l.rejectUnauthorized;
      startTls(socket);
    });
  }
}
