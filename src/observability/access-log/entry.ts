/**
 * What an access-log line is made from: the finished request or session
 * (RequestContext and L4 sessions implement AccessLogEntry) and Envoy's
 * response flags, which the request path sets as it goes.
 */
/** What a formatter reads from a finished request (RequestContext implements it). */
export interface AccessLogEntry {
  readonly method: string;
  /** Request target as received (path + query), before any rewrite. */
  readonly url: string;
  readonly authority: string;
  readonly status: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** performance.now() at arrival. */
  readonly startMs: number;
  /** Envoy response flags (ResponseFlag bits). */
  readonly responseFlags: number;
  /** Value of a request header as sent upstream (or as received when nothing was sent); lower-case name. */
  requestHeader(name: string): string | undefined;
  /** Path without query, as routed (CEL `request.url_path`). */
  readonly path: string;
  /** Host without port, lower case (CEL `request.host`). */
  readonly host: string;
  /** Request headers as received, `[name, value, ...]` (CEL `request.headers`). */
  readonly rawHeaders: readonly string[];
  /** `HTTP/1.1`, `HTTP/1.0`, `HTTP/2`; null for TCP and UDP sessions. */
  protocol(): string | null;
  /** `address:port` of the last upstream attempt, or null. */
  upstreamHost(): string | null;
  upstreamCluster(): string | null;
  routeName(): string | null;
  downstreamRemoteAddress(): string;
  downstreamLocalAddress(): string;
}

/** Envoy's response flags, the ones the gateway can tell. */
export const ResponseFlag = {
  /** NR: no route. */
  NoRoute: 1,
  /** UH: no healthy upstream. */
  NoHealthyUpstream: 2,
  /** UF: upstream connection failure. */
  UpstreamConnectionFailure: 4,
  /** UT: upstream request timeout. */
  UpstreamRequestTimeout: 8,
  /** UC: upstream connection termination. */
  UpstreamConnectionTermination: 16,
  /** URX: retries exhausted. */
  UpstreamRetryLimitExceeded: 32,
  /** DC: the client went away. */
  DownstreamConnectionTermination: 64,
  /** UPE: upstream protocol error. */
  UpstreamProtocolError: 128,
} as const;

const FLAG_NAMES: Array<[number, string]> = [
  [ResponseFlag.NoHealthyUpstream, 'UH'],
  [ResponseFlag.UpstreamConnectionFailure, 'UF'],
  [ResponseFlag.UpstreamRequestTimeout, 'UT'],
  [ResponseFlag.UpstreamConnectionTermination, 'UC'],
  [ResponseFlag.NoRoute, 'NR'],
  [ResponseFlag.UpstreamRetryLimitExceeded, 'URX'],
  [ResponseFlag.DownstreamConnectionTermination, 'DC'],
  [ResponseFlag.UpstreamProtocolError, 'UPE'],
];

export function responseFlagsText(flags: number): string | null {
  if (flags === 0) return null;
  let out = '';
  for (const [bit, name] of FLAG_NAMES) if ((flags & bit) !== 0) out += out === '' ? name : `,${name}`;
  return out;
}
