/**
 * A downstream HTTP/2 stream entering the request path: the same parse,
 * routing, filters and forwarding as HTTP/1 (handle-request.ts), with the
 * stream as request body and an H2Response as response.
 *
 * Rapid reset (CVE-2023-44487): nghttp2 hands over every HEADERS frame of a
 * read before the RST_STREAM frames that follow in the same read, so a
 * handler that started upstream work at once would do it thousands of
 * times per flood. The stream is therefore only taken up on the next turn
 * of the event loop, once the frames read with it have been processed; a
 * stream reset meanwhile costs nothing but this check. A reset that comes
 * later cancels the upstream attempt through the stream's 'close'.
 */
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { SocketTable } from '../compile/compiled-route.ts';
import { abandon } from '../http/forward.ts';
import { routeAndRun } from '../http/handle-request.ts';
import { RequestContext, type ListenerInfo } from '../http/request-context.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { H2Response } from './h2-response.ts';

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;
const NO_HEADERS: string[] = [];

export function acceptStream(
  runtime: ProxyRuntime,
  listener: ListenerInfo,
  table: SocketTable,
  socket: Socket,
  stream: ServerHttp2Stream,
  flags: number,
  rawHeaders: string[],
): void {
  // A stream error with no listener would be thrown; the request path learns of it through 'close'.
  stream.on('error', ignore);
  setImmediate(startStream, runtime, listener, table, socket, stream, flags, rawHeaders);
}

function startStream(
  runtime: ProxyRuntime,
  listener: ListenerInfo,
  table: SocketTable,
  socket: Socket,
  stream: ServerHttp2Stream,
  flags: number,
  rawHeaders: string[],
): void {
  if (stream.destroyed || stream.closed) return;
  const method = methodOf(rawHeaders);
  const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
  const res = new H2Response(stream);
  const ctx = new RequestContext(
    runtime,
    listener,
    endStream ? stream : bodyOf(stream),
    res,
    null,
    method,
    NO_HEADERS,
    socket,
  );
  ctx.metricsSeries = table.metricsSeries;
  ctx.telemetry = table.telemetry;
  stream.once('close', () => {
    if (!ctx.done) abandon(ctx);
  });
  if (!ctx.parseH2(rawHeaders, endStream)) return;
  routeAndRun(ctx, table);
}

/**
 * The request body as a stream of its own: body consumers (undici) destroy
 * the body stream once read, which on the duplex HTTP/2 stream would also
 * end the response.
 */
function bodyOf(stream: ServerHttp2Stream): Readable {
  return stream.pipe(new PassThrough());
}

/** `:method` (nghttp2 guarantees exactly one). */
function methodOf(raw: readonly string[]): string {
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === ':method') return raw[i + 1];
  return 'GET';
}

function ignore(): void {}
