/**
 * Limits and timeouts of the data plane. Defaults follow Envoy (and Envoy
 * Gateway) where there is a clear equivalent, so that moving a Gateway to
 * Sluice does not change what clients and backends see.
 */
import { DEFAULT_L4_TUNING, type L4Tuning } from '../l4/tuning.ts';

export interface ProxyTuning extends L4Tuning {
  /** Request line + headers. Envoy's default `max_request_headers_kb` is 60 KiB; above it → 431. */
  maxHeaderBytes: number;
  /** Envoy's default `max_headers_count`; above it → 431 (node would silently drop the extra ones). */
  maxHeaderCount: number;
  /** Time to receive the request headers (slowloris bound) → 408. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included → 408 (node's default). */
  requestReceiveTimeoutMs: number;
  /** Idle keep-alive connections from clients are closed after this. */
  keepAliveTimeoutMs: number;
  /** How often node enforces the two timeouts above (it only checks on this tick). */
  connectionsCheckingIntervalMs: number;
  /** Request bodies kept in memory for retries and mirrors; bigger bodies stream and lose both. */
  maxBufferedBodyBytes: number;
  /** Mirrored requests in flight at once across the data plane; more are dropped. */
  maxConcurrentMirrors: number;
  /** Upstream connect timeout (Envoy Gateway: 10 s) → 503. */
  upstreamConnectTimeoutMs: number;
  /** Time to wait for upstream response headers when the route sets no timeout (Envoy's stream idle: 5 min) → 504. */
  upstreamHeadersTimeoutMs: number;
  /** Longest silence between two upstream body chunks → stream aborted. */
  upstreamBodyTimeoutMs: number;
  /** Upper bound of connections per upstream endpoint (Envoy's circuit breaker default: 1024). */
  upstreamMaxConnectionsPerEndpoint: number;
  /** How long resolved addresses of FQDN endpoints are reused. */
  dnsTtlMs: number;
  /** Grace period for sockets that a new IR no longer has. */
  removedListenerGraceMs: number;
  /** A TLS handshake not finished after this is cut (Envoy Gateway: 10 s). */
  tlsHandshakeTimeoutMs: number;
  /** Session ticket keys are replaced this often. */
  tlsTicketKeyRotationMs: number;
  /** HTTP/2 streams open at once per client connection (Envoy Gateway: 100; node's default is unbounded). */
  http2MaxConcurrentStreams: number;
  /** HTTP/2 flow-control window per stream and per connection (Envoy Gateway: 64 KiB / 1 MiB). */
  http2StreamWindowBytes: number;
  http2ConnectionWindowBytes: number;
  /** Client RST_STREAM frames allowed per connection: a burst, then this many per second (rapid reset). */
  http2StreamResetBurst: number;
  http2StreamResetRate: number;
  /** Count requests for /metrics (off only to measure what counting costs). */
  metrics: boolean;
}

export const DEFAULT_TUNING: Readonly<ProxyTuning> = {
  ...DEFAULT_L4_TUNING,
  maxHeaderBytes: 60 * 1024,
  maxHeaderCount: 100,
  headersTimeoutMs: 10_000,
  requestReceiveTimeoutMs: 300_000,
  keepAliveTimeoutMs: 60_000,
  connectionsCheckingIntervalMs: 1_000,
  maxBufferedBodyBytes: 1024 * 1024,
  maxConcurrentMirrors: 256,
  upstreamConnectTimeoutMs: 10_000,
  upstreamHeadersTimeoutMs: 300_000,
  upstreamBodyTimeoutMs: 300_000,
  upstreamMaxConnectionsPerEndpoint: 1024,
  dnsTtlMs: 30_000,
  removedListenerGraceMs: 10_000,
  tlsHandshakeTimeoutMs: 10_000,
  tlsTicketKeyRotationMs: 12 * 3600_000,
  http2MaxConcurrentStreams: 100,
  http2StreamWindowBytes: 64 * 1024,
  http2ConnectionWindowBytes: 1024 * 1024,
  http2StreamResetBurst: 1000,
  http2StreamResetRate: 33,
  metrics: true,
};
