/**
 * The gRPC hooks of the request path. gRPC needs no special forwarding:
 * messages, `te: trailers`, `grpc-timeout` and content-type travel as any
 * HTTP/2 request does, and trailers come back as trailers. What differs is
 * (1) the gateway's own answers, which must be trailers-only gRPC responses
 * rather than HTTP error pages, and (2) grpc-web, translated both ways.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import type { CompiledRoute } from '../compile/compiled-route.ts';
import { getHeader, nameIs } from '../http/headers.ts';
import type { DownstreamResponse, RequestContext } from '../http/request-context.ts';
import { H2Response } from '../http2/h2-response.ts';
import { Base64Decoder, exposeGrpcStatus, GrpcWebResponse, toGrpcRequestHeaders, webContentType } from './grpc-web.ts';
import { GrpcKind, grpcFormat, grpcKindOf } from './kind.ts';
import { encodeGrpcMessage, grpcStatusForHttp } from './status.ts';

/** Reads the request's content-type before routing, so that a gRPC call no route takes answers UNIMPLEMENTED. */
export function detectGrpc(ctx: RequestContext): void {
  const ct = getHeader(ctx.rawHeaders, 'content-type');
  if (ct === undefined) return;
  ctx.contentType = ct;
  ctx.grpc = grpcKindOf(ct);
}

/** Called once the route is known, before its filters run. */
export function prepareGrpcRequest(ctx: RequestContext, route: CompiledRoute): void {
  const kind = ctx.grpc;
  if (kind === GrpcKind.None) {
    // A GRPCRoute answers gRPC-style whatever the content-type, except CORS
    // preflights, which browsers need as plain HTTP.
    if (route.grpc && ctx.method !== 'OPTIONS') ctx.grpc = GrpcKind.Grpc;
    return;
  }
  if (kind === GrpcKind.Grpc) return;
  const text = kind === GrpcKind.WebText;
  toGrpcRequestHeaders(ctx.headers, ctx.contentType ?? '', text);
  if (text && ctx.hasBody) ctx.requestBody = ctx.req.pipe(new Base64Decoder());
  ctx.grpcWeb = new GrpcWebResponse(text);
}

/**
 * A local reply (no route, no healthy upstream, timeout, direct response...)
 * as gRPC: HTTP 200, trailers-only, the status mapped from `status`, the body
 * as `grpc-message`. Headers the reply carried (a redirect's location, the
 * response filters' edits) stay; its content headers do not.
 */
export function respondGrpc(
  ctx: RequestContext,
  status: number,
  headers: readonly string[],
  body: Buffer | string | null,
): void {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (nameIs(headers[i], 'content-type') || nameIs(headers[i], 'content-length')) continue;
    out.push(headers[i], headers[i + 1]);
  }
  const web = ctx.grpc === GrpcKind.Web || ctx.grpc === GrpcKind.WebText;
  out.push(
    'content-type',
    web ? webContentType(ctx.grpc === GrpcKind.WebText, grpcFormat(ctx.contentType ?? '')) : 'application/grpc',
    'grpc-status',
    String(grpcStatusForHttp(status)),
  );
  const message = body === null ? '' : typeof body === 'string' ? body : body.toString('utf8');
  if (message !== '') out.push('grpc-message', encodeGrpcMessage(message.replace(/\n$/, '')));
  ctx.applyResponseFilters(out);
  if (web) exposeGrpcStatus(out);
  finish(ctx, 200, out);
}

/**
 * A backend's trailers-only answer (status in the headers, stream ended)
 * goes on as one: over HTTP/2 a client only takes `grpc-status` from
 * headers that end the stream.
 */
export function relayTrailersOnly(ctx: RequestContext, status: number, headers: string[]): void {
  ctx.applyResponseFilters(headers);
  if (ctx.grpcWeb !== null) ctx.grpcWeb.responseHeaders(headers);
  finish(ctx, status, headers);
}

function finish(ctx: RequestContext, status: number, headers: readonly string[]): void {
  ctx.finishTimers();
  ctx.responseStarted = true;
  ctx.done = true;
  ctx.status = status;
  ctx.complete();
  writeTrailersOnly(ctx.res!, status, headers);
}

/** Names HTTP/2 forbids in a response (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Status and headers that end the response. Over HTTP/2 they must travel
 * in one HEADERS frame with END_STREAM: gRPC clients only read
 * `grpc-status` from headers that end the stream (grpc-go reports INTERNAL
 * for headers followed by an empty DATA frame, which is what writeHead()
 * then end() send). Over HTTP/1.1, an empty body with `content-length: 0`.
 */
export function writeTrailersOnly(res: DownstreamResponse, status: number, flat: readonly string[]): void {
  if (res instanceof H2Response) {
    const h: OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i].toLowerCase();
      if (CONNECTION_SPECIFIC.has(name) || name === 'content-length') continue;
      const prev = h[name];
      h[name] = prev === undefined ? flat[i + 1] : [...(Array.isArray(prev) ? prev : [String(prev)]), flat[i + 1]];
    }
    try {
      res.stream.respond(h, { endStream: true });
    } catch {
      res.destroy(); // a value nghttp2 refuses, or the stream is gone
    }
    return;
  }
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (nameIs(flat[i], 'content-length') || nameIs(flat[i], 'transfer-encoding')) continue;
    out.push(flat[i], flat[i + 1]);
  }
  out.push('content-length', '0');
  try {
    res.writeHead(status, out);
  } catch {
    // A header value node refuses (from a filter): keep what the client needs to read the status.
    const keep: string[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const n = out[i].toLowerCase();
      if (n === 'content-type' || n === 'grpc-status' || n === 'grpc-message' || n === 'content-length') {
        keep.push(n, out[i + 1]);
      }
    }
    try {
      res.writeHead(status, keep);
    } catch {
      res.destroy();
      return;
    }
  }
  res.end();
}
