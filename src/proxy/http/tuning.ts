/**
 * Limits and timeouts of the data plane. Defaults follow Envoy (and Envoy
 * Gateway) where there is a clear equivalent, so that moving a Gateway to
 * Sluice does not change what clients and backends see.
 */
export interface ProxyTuning {
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
}

export const DEFAULT_TUNING: Readonly<ProxyTuning> = {
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
};
