/**
 * One HTTP/1.1 attempt through undici's `dispatch()`. The handler streams
 * the response straight into the client's response: no promise, no stream
 * object per request; `res.write()` returning false pauses undici's parser
 * and `drain` resumes it, and undici pauses reading the request body when
 * the upstream socket is full. undici's raw (legacy) callbacks are used
 * because undici 7 calls them natively: headers stay a flat Buffer array.
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { UpstreamFailure } from '../upstream/errors.ts';
import type { DispatchOptionsWithSni, Http1Target } from '../upstream/targets.ts';
import { attemptFailed, attemptFailedWith, retryAttempt, shouldRetryStatus } from './forward.ts';
import { responseHeadersFromUpstream, trailerPairs } from './headers.ts';
import type { Exchange, RequestContext } from './request-context.ts';
import { openTunnel } from './tunnel.ts';

const CANCELLED = Object.assign(new Error('request cancelled by the gateway'), { code: 'UND_ERR_ABORTED' });

export function startHttp1Exchange(ctx: RequestContext, target: Http1Target): void {
  const ex = new Http1Exchange(ctx);
  ctx.exchange = ex;
  const timeout = ctx.route!.backendTimeoutMs;
  if (timeout > 0) ex.timer = setTimeout(onAttemptTimeout, timeout, ex);
  const opts: DispatchOptionsWithSni = {
    method: ctx.method,
    path: ctx.upstreamUrl,
    headers: ctx.headers,
    body: ctx.body,
    upgrade: ctx.res === null ? ctx.upgrade : null,
    servername: target.servername,
  };
  target.pool.dispatch(opts, ex);
}

class Http1Exchange implements Exchange, Dispatcher.DispatchHandler {
  timer: NodeJS.Timeout | null = null;
  private abortFn: ((err?: Error) => void) | null = null;
  private cancelled = false;
  /** A retriable status came back: its body is read and dropped, then the next attempt starts. */
  private discarding = false;

  constructor(private readonly ctx: RequestContext) {}

  cancel(): void {
    this.cancelled = true;
    this.clearTimer();
    this.abortFn?.(CANCELLED);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cancelled) abort(CANCELLED);
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.cancelled || statusCode < 200) return true; // 1xx: informational, not forwarded
    const ctx = this.ctx;
    if (shouldRetryStatus(ctx, statusCode)) {
      this.discarding = true;
      return true;
    }
    if (!ctx.startResponse(statusCode, responseHeadersFromUpstream(rawHeaders, false))) {
      this.cancel();
      ctx.exchange = null;
      ctx.responseStarted = false;
      ctx.respondError(502, 'upstream response headers refused');
      return false;
    }
    ctx.onDrain(resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.cancelled || this.discarding) return true;
    return this.ctx.writeBody(chunk);
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    this.clearTimer();
    if (this.cancelled) return;
    const ctx = this.ctx;
    if (this.discarding) {
      retryAttempt(ctx);
      return;
    }
    ctx.exchange = null;
    ctx.endResponse(trailers === null || trailers.length === 0 ? null : trailerPairs(trailers));
  }

  onError(err: Error): void {
    this.clearTimer();
    if (this.cancelled) return;
    this.cancelled = true;
    attemptFailed(this.ctx, err);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.clearTimer();
    if (this.cancelled) {
      socket.destroy();
      return;
    }
    this.ctx.exchange = null;
    openTunnel(this.ctx, statusCode, rawHeaders ?? [], socket as Socket);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Per-attempt timeout (route `timeouts.backendRequest`), until the response is complete. */
  expire(): void {
    this.timer = null;
    if (this.cancelled) return;
    this.cancel();
    attemptFailedWith(this.ctx, UpstreamFailure.Timeout);
  }
}

function onAttemptTimeout(ex: Http1Exchange): void {
  ex.expire();
}
