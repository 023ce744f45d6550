/**
 * What an upstream failure means for the client, following Envoy's response
 * flags: connect failure and reset before response headers → 503 (UF/UC,
 * and what HTTPRouteRetryConnectionError expects once retries are spent),
 * timeouts → 504 (UT), a malformed response → 502 (UPE).
 */
export const UpstreamFailure = {
  /** Never connected: refused, unreachable, DNS, connect timeout. Safe to retry. */
  ConnectFailure: 0,
  /** The connection dropped before a response arrived. */
  Reset: 1,
  Timeout: 2,
  /** The backend spoke broken HTTP. */
  Protocol: 3,
  /** The request could not be sent as it is (e.g. a path undici refuses). */
  BadRequest: 4,
  /** The pool was closed under the request (config change). */
  Unavailable: 5,
} as const;
export type UpstreamFailure = (typeof UpstreamFailure)[keyof typeof UpstreamFailure];

/** A failure's name where one is written (a client span's `error.type`); every failure has one. */
export const FAILURE_NAMES: Readonly<Record<UpstreamFailure, string>> = {
  [UpstreamFailure.ConnectFailure]: 'connect_failure',
  [UpstreamFailure.Reset]: 'reset',
  [UpstreamFailure.Timeout]: 'timeout',
  [UpstreamFailure.Protocol]: 'protocol_error',
  [UpstreamFailure.BadRequest]: 'bad_request',
  [UpstreamFailure.Unavailable]: 'unavailable',
};

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENOENT',
  'EACCES',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
]);

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'HOSTNAME_MISMATCH',
]);

const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
]);

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (CONNECT_CODES.has(code)) return UpstreamFailure.ConnectFailure;
  // A TLS handshake that fails (untrusted or mismatching certificate) is a connect failure too, as in Envoy.
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || TLS_VERIFY_CODES.has(code)) {
    return UpstreamFailure.ConnectFailure;
  }
  // Happy-eyeballs connects fail with an AggregateError of per-address errors.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return classifyUpstreamError(e.errors[0]);
  if (RESET_CODES.has(code)) return UpstreamFailure.Reset;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return UpstreamFailure.Timeout;
  }
  if (code === 'UND_ERR_SOCKET') {
    // "other side closed" / "closed" is a drop; "bad response" / "bad upgrade" a protocol error.
    return typeof e.message === 'string' && e.message.startsWith('bad')
      ? UpstreamFailure.Protocol
      : UpstreamFailure.Reset;
  }
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return UpstreamFailure.BadRequest;
  if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return UpstreamFailure.Unavailable;
  return UpstreamFailure.Protocol;
}

export function statusForFailure(f: UpstreamFailure): number {
  switch (f) {
    case UpstreamFailure.ConnectFailure:
    case UpstreamFailure.Reset:
    case UpstreamFailure.Unavailable:
      return 503;
    case UpstreamFailure.Timeout:
      return 504;
    case UpstreamFailure.BadRequest:
      return 400;
    default:
      return 502;
  }
}

/** Body of the gateway's own error answers, in Envoy's words. */
export function messageForFailure(f: UpstreamFailure): string {
  switch (f) {
    case UpstreamFailure.ConnectFailure:
      return 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
    case UpstreamFailure.Reset:
      return 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';
    case UpstreamFailure.Timeout:
      return 'upstream request timeout';
    case UpstreamFailure.BadRequest:
      return 'bad request';
    case UpstreamFailure.Unavailable:
      return 'no healthy upstream';
    default:
      return 'upstream protocol error';
  }
}
