/**
 * One attempt over HTTP/2 cleartext (h2c backends): a stream on the
 * endpoint's shared session. Response headers, body (with backpressure) and
 * trailers are relayed to the HTTP/1.1 client.
 */
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { relayTrailersOnly } from '../grpc/call.ts';
import { GrpcKind } from '../grpc/kind.ts';
import { UpstreamFailure } from '../upstream/errors.ts';
import type { Http2Target } from '../upstream/targets.ts';
import { attemptFailed, attemptFailedWith, retryAttempt, shouldRetryStatus } from './forward.ts';
import type { Exchange, RequestContext } from './request-context.ts';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;

/** HTTP/2 request headers from the flat upstream list (index 0/1 is host → :authority). */
export function toH2RequestHeaders(method: string, path: string, flat: readonly string[]): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = {
    ':method': method,
    ':path': path,
    ':scheme': 'http',
    ':authority': flat[1],
  };
  for (let i = 2; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    const prev = h[name];
    if (prev === undefined) h[name] = flat[i + 1];
    else if (Array.isArray(prev)) prev.push(flat[i + 1]);
    else h[name] = [String(prev), flat[i + 1]];
  }
  return h;
}

function fromH2Headers(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, v);
  }
  return out;
}

export function startH2cExchange(ctx: RequestContext, target: Http2Target): void {
  let stream: ClientHttp2Stream;
  try {
    const session = target.getSession();
    stream = session.request(toH2RequestHeaders(ctx.method, ctx.upstreamUrl, ctx.headers), {
      endStream: ctx.body === null,
    });
  } catch (err) {
    attemptFailed(ctx, err);
    return;
  }
  const ex = new H2cExchange(ctx, stream);
  ctx.exchange = ex;
  const timeout = ctx.route!.backendTimeoutMs;
  if (timeout > 0) ex.timer = setTimeout(onAttemptTimeout, timeout, ex);
  const body = ctx.body;
  if (body !== null) {
    if (Buffer.isBuffer(body)) stream.end(body);
    else body.pipe(stream);
  }
}

class H2cExchange implements Exchange {
  timer: NodeJS.Timeout | null = null;
  private cancelled = false;
  private discarding = false;
  private trailers: Array<[string, string]> | null = null;

  constructor(
    private readonly ctx: RequestContext,
    private readonly stream: ClientHttp2Stream,
  ) {
    stream.on('response', (headers, flags) => this.onResponse(headers, flags));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      const flat = fromH2Headers(t);
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
      this.trailers = pairs;
    });
    stream.on('end', () => this.onEnd());
    stream.on('error', (err: Error) => this.onError(err));
    stream.on('close', () => {
      // Closed without 'end' or 'error': a reset (REFUSED_STREAM is safe to retry).
      if (!this.cancelled) this.onError(Object.assign(new Error('stream reset'), { code: 'ERR_HTTP2_STREAM_ERROR' }));
    });
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.clearTimer();
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    if (this.cancelled) return;
    const status = Number(headers[':status']);
    const ctx = this.ctx;
    if (shouldRetryStatus(ctx, status)) {
      this.discarding = true;
      this.stream.resume();
      return;
    }
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0 && ctx.grpc !== GrpcKind.None && ctx.res !== null) {
      // A gRPC trailers-only answer must stay one (grpc/call.ts).
      this.clearTimer();
      this.cancelled = true;
      ctx.exchange = null;
      relayTrailersOnly(ctx, status, fromH2Headers(headers));
      return;
    }
    if (!ctx.startResponse(status, fromH2Headers(headers))) {
      this.cancel();
      ctx.exchange = null;
      ctx.responseStarted = false;
      ctx.respondError(502, 'upstream response headers refused');
      return;
    }
    const stream = this.stream;
    ctx.onDrain(() => stream.resume());
  }

  private onData(chunk: Buffer): void {
    if (this.cancelled || this.discarding) return;
    if (!this.ctx.writeBody(chunk)) this.stream.pause();
  }

  private onEnd(): void {
    this.clearTimer();
    if (this.cancelled) return;
    this.cancelled = true;
    const ctx = this.ctx;
    if (this.discarding) {
      retryAttempt(ctx);
      return;
    }
    ctx.exchange = null;
    if (!ctx.responseStarted) {
      attemptFailedWith(ctx, UpstreamFailure.Reset);
      return;
    }
    ctx.endResponse(this.trailers);
  }

  private onError(err: Error): void {
    this.clearTimer();
    if (this.cancelled) return;
    this.cancelled = true;
    const code = this.stream.rstCode;
    attemptFailed(
      this.ctx,
      code === NGHTTP2_REFUSED_STREAM ? Object.assign(new Error('refused stream'), { code: 'ECONNREFUSED' }) : err,
    );
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  expire(): void {
    this.timer = null;
    if (this.cancelled) return;
    this.cancel();
    attemptFailedWith(this.ctx, UpstreamFailure.Timeout);
  }
}

function onAttemptTimeout(ex: H2cExchange): void {
  ex.expire();
}
