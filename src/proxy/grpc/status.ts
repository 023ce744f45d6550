/**
 * gRPC status codes and the answers the gateway gives gRPC clients itself.
 *
 * A gRPC client reads the outcome of a call from `grpc-status`, not from the
 * HTTP status, so a local reply to a gRPC request (no route, no healthy
 * upstream, timeout, invalid backend...) is an HTTP 200 "trailers-only"
 * response: one HEADERS frame carrying `grpc-status` and `grpc-message`,
 * nothing else. The code comes from the HTTP status the gateway would have
 * sent, with Envoy's mapping (`Grpc::Utility::httpToGrpcStatus`, itself
 * grpc's doc/http-grpc-status-mapping.md); the body becomes `grpc-message`.
 */

/** The gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const NAMES = Object.keys(GrpcStatus);

/** `UNIMPLEMENTED` for 12; `CODE_<n>` for a code outside the list. */
export function grpcStatusName(code: number): string {
  return NAMES[code] ?? `CODE_${code}`;
}

/**
 * The gRPC status for an HTTP status the gateway answers with. Envoy's
 * table, except 504 and 200. The gateway only answers 504 when a route
 * timeout expired, and DEADLINE_EXCEEDED says that, where Envoy's
 * UNAVAILABLE tells clients the call is safe to retry (it may have run on
 * the backend). A 200 (a direct response) is OK, not Envoy's UNKNOWN.
 */
export function grpcStatusForHttp(status: number): GrpcStatus {
  switch (status) {
    case 200:
      return GrpcStatus.OK;
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 504:
      return GrpcStatus.DEADLINE_EXCEEDED;
    case 429:
    case 502:
    case 503:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/**
 * `grpc-message` encoding (PROTOCOL-HTTP2.md): bytes outside printable
 * ASCII, and `%` itself, as `%XX` of the UTF-8 bytes.
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out +=
      b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** Inverse of encodeGrpcMessage (clients and tests); malformed escapes are kept as they are. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
