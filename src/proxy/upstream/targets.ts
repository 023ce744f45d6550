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

/** `host[:port]` form of an endpoint for URLs (IPv6 in brackets). */
function hostPort(e: EndpointIR): string {
  const host = e.kind === 'ip' && e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${host}:${e.port}`;
}

export class Http1Target {
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
  ) {
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

export class Http2Target {
  readonly kind = 'h2';
  /** `address:port` of the endpoint (access logs' %UPSTREAM_HOST%). */
  readonly address: string;
  readonly hostname: string;
  private session: ClientHttp2Session | null = null;
  private readonly authority: string;
  private readonly connectOptions: http2.SecureClientSessionOptions;
  private closed = false;

  constructor(
    readonly key: string,
    backend: BackendIR,
    endpoint: EndpointIR,
    tuning: ProxyTuning,
    dns: DnsCache,
  ) {
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
    if (current !== null && !current.closed && !current.destroyed) return current;
    if (this.closed) throw Object.assign(new Error('upstream closed'), { code: 'UND_ERR_CLOSED' });
    const s = http2.connect(this.authority, this.connectOptions);
    const forget = (): void => {
      if (this.session === s) this.session = null;
    };
    // Streams in flight finish on the old session; new ones open a new one.
    s.on('goaway', forget);
    s.on('close', forget);
    s.on('error', forget);
    this.session = s;
    return s;
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
