/**
 * A small gRPC client on node:http2 for tests and the conformance runner:
 * unary and server-streaming calls over cleartext HTTP/2 (prior knowledge),
 * reading the status the way grpc-go does, so a test sees what a real
 * client would:
 *
 * - `grpc-status` counts from trailers, or from response headers only when
 *   those end the stream (trailers-only); headers that carry a status but
 *   do not end the stream, followed by no trailers, are INTERNAL.
 * - a non-200 HTTP status without a gRPC status maps by GRPC-ECHO.md's table
 *   (400 Internal, 401 Unauthenticated, 403 PermissionDenied, 404
 *   Unimplemented, 429/502/503/504 Unavailable, else Unknown).
 * - a stream reset maps by RST_STREAM code (CANCEL → Canceled,
 *   REFUSED_STREAM → Unavailable, others → Internal); a connection that
 *   cannot be made is Unavailable.
 */
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { encodeFrame, FrameDecoder } from '../../src/proxy/grpc/frames.ts';
import { decodeGrpcMessage } from '../../src/proxy/grpc/status.ts';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** grpc-go's `codes.Code.String()` names, by code. */
export const GRPC_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** A code from its name: grpc-go's (`Unimplemented`) or the upper-case one (`UNIMPLEMENTED`, `CANCELLED`). */
export function grpcCodeByName(name: string): number | undefined {
  const flat = name
    .replace(/_/g, '')
    .toLowerCase()
    .replace(/^cancelled$/, 'canceled');
  const i = GRPC_CODE_NAMES.findIndex((n) => n.toLowerCase() === flat);
  return i === -1 ? undefined : i;
}

/** The standard HTTP-to-gRPC status mapping a client applies when a response has no grpc-status. */
export function grpcCodeForHttp(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

export interface GrpcCallOptions {
  /** `:authority`; default: the dialled host:port. */
  authority?: string;
  /** Request metadata (lower-case keys). */
  metadata?: Record<string, string | string[]>;
  /** Sent as `grpc-timeout` (e.g. `200m`); the client does not enforce it. */
  grpcTimeout?: string;
  /** Default `application/grpc`. */
  contentType?: string;
  /** Bound on the whole call for the test (rejects after it); default 5000. */
  timeoutMs?: number;
  /** Server streaming: each message as it arrives. */
  onMessage?: (message: Buffer) => void;
}

export interface GrpcCallResult {
  /** 0 when no response headers came (reset, connection failure). */
  httpStatus: number;
  headers: IncomingHttpHeaders;
  /** Empty for a trailers-only response. */
  trailers: IncomingHttpHeaders;
  trailersOnly: boolean;
  messages: Buffer[];
  code: number;
  /** grpc-message, percent-decoded (or the client's own explanation). */
  message: string;
  /** RST_STREAM code when the stream was reset. */
  rstCode?: number;
}

/** `http://host:port` or an open session (left open). */
export type GrpcTarget = string | ClientHttp2Session;

export function grpcUnary(
  target: GrpcTarget,
  path: string,
  request: Buffer,
  opts: GrpcCallOptions = {},
): Promise<GrpcCallResult> {
  return grpcCall(target, path, [request], opts);
}

/** One request message, any number of responses (collected, and passed to `onMessage` as they come). */
export function grpcServerStreaming(
  target: GrpcTarget,
  path: string,
  request: Buffer,
  opts: GrpcCallOptions = {},
): Promise<GrpcCallResult> {
  return grpcCall(target, path, [request], opts);
}

/** A call with these request messages (all sent, then the request side closed). */
export function grpcCall(
  target: GrpcTarget,
  path: string,
  requests: Buffer[],
  opts: GrpcCallOptions = {},
): Promise<GrpcCallResult> {
  const own = typeof target === 'string';
  const session = own ? http2.connect(target) : target;
  if (own) session.on('error', () => undefined);
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise<GrpcCallResult>((resolve, reject) => {
    const result: GrpcCallResult = {
      httpStatus: 0,
      headers: {},
      trailers: {},
      trailersOnly: false,
      messages: [],
      code: 2,
      message: '',
    };
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (own) session.close();
      if (err) reject(err);
      else resolve(result);
    };
    const timer = setTimeout(() => {
      stream.close(NGHTTP2_CANCEL);
      settle(new Error(`gRPC call ${path}: no outcome after ${timeoutMs} ms`));
    }, timeoutMs);

    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      'content-type': opts.contentType ?? 'application/grpc',
      te: 'trailers',
      ...(opts.authority !== undefined ? { ':authority': opts.authority } : {}),
      ...(opts.grpcTimeout !== undefined ? { 'grpc-timeout': opts.grpcTimeout } : {}),
      ...opts.metadata,
    };
    const stream = session.request(headers);
    const decoder = new FrameDecoder();
    let statusFromHeaders: { code: number; message: string } | null = null;
    let trailers: IncomingHttpHeaders | null = null;
    /** Only a gRPC response body is read as messages (an HTTP error page is not). */
    let grpcBody = false;
    let malformed = false;

    stream.on('response', (h, flags) => {
      result.httpStatus = Number(h[':status']);
      result.headers = h;
      grpcBody = /^application\/grpc/i.test(String(h['content-type'] ?? ''));
      if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0 && h['grpc-status'] !== undefined) {
        result.trailersOnly = true;
        statusFromHeaders = statusOf(h);
      }
    });
    stream.on('data', (chunk: Buffer) => {
      if (!grpcBody || malformed) return;
      try {
        for (const f of decoder.push(chunk)) {
          result.messages.push(f.payload);
          opts.onMessage?.(f.payload);
        }
      } catch {
        malformed = true;
        stream.close(NGHTTP2_CANCEL);
      }
    });
    stream.on('trailers', (t) => {
      trailers = t;
      result.trailers = t;
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      const rst = stream.rstCode;
      const status = trailers !== null ? statusOf(trailers) : statusFromHeaders;
      if (malformed) {
        result.code = 13;
        result.message = 'malformed gRPC message framing';
      } else if (status !== null) {
        result.code = status.code;
        result.message = status.message;
      } else if (result.httpStatus !== 0 && result.httpStatus !== 200) {
        result.code = grpcCodeForHttp(result.httpStatus);
        result.message = `HTTP status ${result.httpStatus}`;
      } else if (result.httpStatus === 0 && (session.destroyed || rst === undefined || rst === 0)) {
        result.code = 14;
        result.message = 'connection failed or closed before a response';
      } else if (rst !== undefined && rst !== 0) {
        result.rstCode = rst;
        result.code = rst === NGHTTP2_CANCEL ? 1 : rst === NGHTTP2_REFUSED_STREAM ? 14 : 13;
        result.message = `stream reset with code ${rst}`;
      } else {
        result.code = 13;
        result.message = 'server closed the stream without sending trailers';
      }
      settle();
    });
    for (const r of requests) stream.write(encodeFrame(r));
    stream.end();
  });
}

function statusOf(h: IncomingHttpHeaders): { code: number; message: string } | null {
  const raw = h['grpc-status'];
  if (raw === undefined) return null;
  const code = Number(raw);
  const message = h['grpc-message'];
  return {
    code: Number.isInteger(code) ? code : 2,
    message: typeof message === 'string' ? decodeGrpcMessage(message) : '',
  };
}
