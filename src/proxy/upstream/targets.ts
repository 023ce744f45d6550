/**
 * One upstream endpoint and the connections to it: an undici Pool for
 * HTTP/1.1 (keep-alive, no pipelining), or one node:http2 session for
 * HTTP/2 backends, cleartext (h2c) or over TLS with ALPN h2 when a
 * BackendTLSPolicy applies (reused for every request, replaced after GOAWAY
 * or an error).
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Pool, type Dispatcher } from 'undici';
import type { BackendIR, EndpointIR } from '../../ir/types.ts';
import type { DataPlaneMetrics } from '../../observability/metrics/data-plane-metrics.ts';
import type { ProxyTuning } from '../http/tuning.ts';
import { backendTlsOptions } from './backend-tls.ts';
import type { DnsCache } from './dns-cache.ts';

export type UpstreamTarget = Http1Target | Http2Target;

/** undici reads `servername` from dispatch options, though its types do not list it. */
export interface DispatchOptionsWithSni extends Dispatcher.DispatchOptions {
  servername?: string | null;
}

/**
 * True for backends spoken to with HTTP/2 (appProtocol kubernetes.io/h2c, gRPC): cleartext, or TLS with
 * ALPN h2 when the backend has TLS (gRPC needs HTTP/2 either way; undici would offer only http/1.1).
 */
export function usesHttp2(backend: BackendIR): boolean {
  return backend.protocol === 'h2c' || backend.protocol === 'grpc';
}

/**
 * Connection metrics of one target: the backends (metrics ids) whose
 * endpoint it is; a target shared by several backends counts under each.
 * Connections are counted as they are established; open connections and
 * waiting requests are read when a snapshot is taken (`sample`).
 */
abstract class TargetMetrics {
  /** Backend ids, added at compile time (a backend seen once stays: ids are stable). */
  readonly metricsBackends: number[] = [];

  constructor(protected readonly metrics: DataPlaneMetrics | null) {}

  /** Compile time: connections to this target count for backend `id`. */
  countFor(id: number): void {
    if (id >= 0 && !this.metricsBackends.includes(id)) this.metricsBackends.push(id);
  }

  protected connected(): void {
    const m = this.metrics;
    if (m === null) return;
    for (const b of this.metricsBackends) m.upstreamConnected(b);
  }

  /** Snapshot time: open connections and waiting requests, added to each backend's. */
  sample(m: DataPlaneMetrics): void {
    const open = this.open();
    const waiting = this.waiting();
    if (open === 0 && waiting === 0) return;
    for (const b of this.metricsBackends) m.upstreamSample(b, open, waiting);
  }

  protected abstract open(): number;
  protected abstract waiting(): number;
}

/** `host[:port]` form of an endpoint for URLs (IPv6 in brackets). */
function hostPort(e: EndpointIR): string {
  const host = e.kind === 'ip' && e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${host}:${e.port}`;
}

export class Http1Target extends TargetMetrics {
  readonly kind = 'http1';
  /** `address:port` of the endpoint (access logs' %UPSTREAM_HOST%). */
  readonly address: string;
  readonly pool: Pool;
  /** What `hostFromBackend` rewrites Host to: the endpoint's name or address. */
  readonly hostname: string;
  /**
   * SNI for TLS backends. It must go with every dispatch: undici otherwise
   * derives it from each request's Host (and reconnects when it changes).
   */
  readonly servername: string | null;

  constructor(
    readonly key: string,
    backend: BackendIR,
    endpoint: EndpointIR,
    tuning: ProxyTuning,
    dns: DnsCache,
    metrics: DataPlaneMetrics | null = null,
  ) {
    super(metrics);
    const secure = backend.tls !== undefined;
    const unix = endpoint.kind === 'unix';
    this.address = unix ? endpoint.address : hostPort(endpoint);
    this.hostname = unix ? 'localhost' : endpoint.address;
    this.servername = backend.tls?.sni ?? null;
    const origin = unix
      ? `${secure ? 'https' : 'http'}://localhost`
      : `${secure ? 'https' : 'http'}://${hostPort(endpoint)}`;
    this.pool = new Pool(origin, {
      connections: tuning.upstreamMaxConnectionsPerEndpoint,
      pipelining: 1,
      headersTimeout: tuning.upstreamHeadersTimeoutMs,
      bodyTimeout: tuning.upstreamBodyTimeoutMs,
      maxHeaderSize: tuning.maxHeaderBytes,
      socketPath: unix ? endpoint.address : undefined,
      connect: {
        timeout: tuning.upstreamConnectTimeoutMs,
        ...(endpoint.kind === 'fqdn' ? { lookup: dns.lookup } : {}),
        ...(backend.tls ? backendTlsOptions(backend.tls) : {}),
      },
    });
    // Errors reach the request handlers; the pool itself must not crash the process.
    this.pool.on('connectionError', () => {});
    if (metrics !== null) this.pool.on('connect', () => this.connected());
  }

  protected open(): number {
    return this.pool.stats.connected;
  }

  /** Requests queued in the pool or on a connection, not written yet (undici's `pending`: the pool's queue included). */
  protected waiting(): number {
    return this.pool.stats.pending;
  }

  /** Lets dispatched requests finish for up to `graceMs`, then cuts them. */
  close(graceMs: number): Promise<void> {
    const force = setTimeout(() => void this.pool.destroy().catch(() => undefined), graceMs);
    return this.pool
      .close()
      .catch(() => undefined)
      .finally(() => clearTimeout(force));
  }
}

export class Http2Target extends TargetMetrics {
  readonly kind = 'h2';
  /** `address:port` of the endpoint (access logs' %UPSTREAM_HOST%). */
  readonly address: string;
  readonly hostname: string;
  private session: ClientHttp2Session | null = null;
  private readonly authority: string;
  private readonly connectOptions: http2.SecureClientSessionOptions;
  private closed = false;
  /** Sessions connected and not closed yet (the current one, and older ones finishing their streams). */
  private sessionsOpen = 0;
  /** The current session is still connecting. */
  private connecting = false;
  /** Requests given the current session while it was connecting (they wait for it). */
  private waitingForSession = 0;

  constructor(
    readonly key: string,
    backend: BackendIR,
    endpoint: EndpointIR,
    tuning: ProxyTuning,
    dns: DnsCache,
    metrics: DataPlaneMetrics | null = null,
  ) {
    super(metrics);
    const unix = endpoint.kind === 'unix';
    const scheme = backend.tls ? 'https' : 'http';
    this.address = unix ? endpoint.address : hostPort(endpoint);
    this.hostname = unix ? 'localhost' : endpoint.address;
    this.authority = unix ? `${scheme}://localhost` : `${scheme}://${hostPort(endpoint)}`;
    const tlsOptions = backend.tls ? { ...backendTlsOptions(backend.tls), ALPNProtocols: ['h2'] } : {};
    this.connectOptions = {
      maxHeaderListPairs: tuning.maxHeaderCount * 2,
      ...tlsOptions,
      ...(unix
        ? {
            createConnection: () =>
              backend.tls ? tls.connect({ ...tlsOptions, path: endpoint.address }) : net.connect(endpoint.address),
          }
        : {}),
      ...(endpoint.kind === 'fqdn' ? { lookup: dns.lookup } : {}),
    };
  }

  /** The live session, connecting when there is none (or the last one is going away). */
  getSession(): ClientHttp2Session {
    const current = this.session;
    if (current !== null && !current.closed && !current.destroyed) {
      if (this.connecting) this.waitingForSession++;
      return current;
    }
    if (this.closed) throw Object.assign(new Error('upstream closed'), { code: 'UND_ERR_CLOSED' });
    const s = http2.connect(this.authority, this.connectOptions);
    this.connecting = true;
    this.waitingForSession = 1;
    let up = false;
    s.once('connect', () => {
      up = true;
      this.sessionsOpen++;
      this.connected();
      if (this.session === s) {
        this.connecting = false;
        this.waitingForSession = 0;
      }
    });
    s.once('close', () => {
      if (up) this.sessionsOpen--;
    });
    const forget = (): void => {
      if (this.session !== s) return;
      this.session = null;
      this.connecting = false;
      this.waitingForSession = 0;
    };
    // Streams in flight finish on the old session; new ones open a new one.
    s.on('goaway', forget);
    s.on('close', forget);
    s.on('error', forget);
    this.session = s;
    return s;
  }

  protected open(): number {
    return this.sessionsOpen;
  }

  /** Requests waiting for the session to connect (streams beyond the peer's concurrency limit are not seen). */
  protected waiting(): number {
    return this.connecting ? this.waitingForSession : 0;
  }

  close(graceMs: number): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = null;
    if (s === null || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => s.destroy(), graceMs);
      s.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      s.close();
    });
  }
}
