/**
 * One TCP, TLS or UDP session as metrics and access logs see it: started
 * when a backend endpoint is picked, ended once when the session is over
 * (both sockets closed, the upstream connect failed, or a UDP session idled
 * out). At the end it counts its bytes under the route × backend series
 * and writes one access-log line through its Gateway's logger, with Envoy's
 * TCP proxy fields: start time, duration, bytes received and sent, upstream
 * host and cluster, downstream addresses, route name and response flags
 * (UF: upstream connect failure, UH: no healthy upstream).
 */
import { ResponseFlag, type AccessLogEntry } from '../../observability/access-log.ts';
import { L4Counter } from '../../observability/metrics/data-plane-metrics.ts';
import type { L4Backend, L4Route } from './backends.ts';

const NO_HEADERS: readonly string[] = [];

export class L4Session implements AccessLogEntry {
  readonly method = '';
  readonly url = '';
  readonly path = '';
  readonly host = '';
  readonly authority = '';
  readonly rawHeaders = NO_HEADERS;
  readonly status = 0;
  readonly startMs = performance.now();
  /** Bytes received from the client. */
  requestBytes = 0;
  /** Bytes sent to the client. */
  responseBytes = 0;
  responseFlags = 0;
  backend: L4Backend | null = null;
  /** `address:port` of the upstream endpoint, once picked. */
  upstream: string | null = null;
  private ended = false;

  constructor(
    readonly route: L4Route,
    private readonly remote: string,
    private readonly local: string,
  ) {}

  /** A backend endpoint is picked: the session counts as started. */
  started(backend: L4Backend, upstream: string): void {
    this.backend = backend;
    this.upstream = upstream;
    const m = this.route.metrics;
    if (m !== null) {
      m.l4Add(backend.metricsSeries, L4Counter.Sessions);
      m.l4Add(backend.metricsSeries, L4Counter.Active);
    }
  }

  /** Refused before any byte went upstream: no backend with weight, an invalid one, no endpoint (UH). */
  refused(): void {
    this.responseFlags |= ResponseFlag.NoHealthyUpstream;
    this.end();
  }

  /** The upstream connection could not be made. */
  connectFailed(): void {
    this.responseFlags |= ResponseFlag.UpstreamConnectionFailure;
    if (this.backend !== null) this.route.metrics?.l4Add(this.backend.metricsSeries, L4Counter.ConnectFailures);
  }

  /** Once: counters and the access-log line. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const m = this.route.metrics;
    if (m !== null && this.backend !== null) {
      const s = this.backend.metricsSeries;
      m.l4Add(s, L4Counter.Active, -1);
      m.l4Add(s, L4Counter.ReceivedBytes, this.requestBytes);
      m.l4Add(s, L4Counter.SentBytes, this.responseBytes);
    }
    const log = this.route.telemetry.accessLog;
    if (log !== null) log.logSession(this);
  }

  requestHeader(): string | undefined {
    return undefined;
  }

  protocol(): string | null {
    return null;
  }

  upstreamHost(): string | null {
    return this.upstream;
  }

  upstreamCluster(): string | null {
    return this.backend === null ? null : this.backend.name;
  }

  routeName(): string | null {
    return this.route.name;
  }

  downstreamRemoteAddress(): string {
    return this.remote;
  }

  downstreamLocalAddress(): string {
    return this.local;
  }
}

/** `address:port` with IPv4-mapped IPv6 addresses shortened, brackets around IPv6. */
export function addressPort(address: string | undefined, port: number | undefined): string {
  let a = address ?? '';
  if (a.startsWith('::ffff:')) a = a.slice(7);
  return a.includes(':') ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}
