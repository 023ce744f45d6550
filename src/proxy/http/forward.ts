/**
 * Forwarding one request upstream: the route's request timeout, body
 * buffering (only when retries or mirrors need the body twice), attempts,
 * retries with backoff, and the mapping of failures to the client's status.
 */
import { Readable } from 'node:stream';
import { ResponseFlag } from '../../observability/access-log.ts';
import { UpstreamEvent } from '../../observability/metrics/data-plane-metrics.ts';
import {
  FAILURE_NAMES,
  UpstreamFailure,
  classifyUpstreamError,
  messageForFailure,
  statusForFailure,
} from '../upstream/errors.ts';
import { startH2cExchange } from './h2c-exchange.ts';
import { startHttp1Exchange } from './http1-exchange.ts';
import type { RequestContext } from './request-context.ts';

/** Retries wait at least this long when the route gives no backoff (Envoy's base interval). */
const DEFAULT_BACKOFF_MS = 25;

export function forward(ctx: RequestContext): void {
  const route = ctx.route!;
  if (route.requestTimeoutMs > 0) ctx.requestTimer = setTimeout(onRequestTimeout, route.requestTimeoutMs, ctx);
  ctx.retriesLeft = route.retry === null ? 0 : route.retry.retries;
  if (ctx.expectContinue && ctx.res !== null) ctx.res.writeContinue();
  if (!ctx.hasBody) {
    sendMirrors(ctx, null);
    startAttempt(ctx);
  } else if (ctx.retriesLeft === 0 && ctx.mirrors === null) {
    ctx.body = ctx.requestBody ?? ctx.req;
    startAttempt(ctx);
  } else {
    bufferBody(ctx);
  }
}

/** One attempt against the next endpoint of the picked backend. */
export function startAttempt(ctx: RequestContext): void {
  ctx.retryTimer = null;
  if (ctx.done) return;
  const target = ctx.backend!.pickTarget();
  if (target === null) {
    ctx.responseFlags |= ResponseFlag.NoHealthyUpstream;
    ctx.respondError(503, 'no healthy upstream');
    return;
  }
  ctx.target = target;
  ctx.attempts++;
  if (ctx.hostFromBackend) ctx.headers[1] = target.hostname;
  if (ctx.trace !== null) ctx.trace.startAttempt(ctx); // client span; its context replaces the caller's in ctx.headers
  if (target.kind === 'http1') {
    startHttp1Exchange(ctx, target);
  } else if (ctx.res === null) {
    ctx.respondError(502, 'upgrade not supported by an h2c backend');
  } else {
    startH2cExchange(ctx, target);
  }
}

/** Called before a response is written: true when this status should be retried instead. */
export function shouldRetryStatus(ctx: RequestContext, status: number): boolean {
  if (ctx.trace !== null) ctx.trace.attemptStatus(status); // every upstream response passes here first
  const retry = ctx.route!.retry;
  return retry !== null && ctx.retriesLeft > 0 && !ctx.done && retry.codes.has(status);
}

/** The attempt failed before its response started. */
export function attemptFailed(ctx: RequestContext, err: unknown): void {
  attemptFailedWith(ctx, classifyUpstreamError(err));
}

export function attemptFailedWith(ctx: RequestContext, failure: UpstreamFailure): void {
  ctx.exchange = null;
  if (ctx.done) return;
  if (ctx.trace !== null) ctx.trace.attemptFailed(FAILURE_NAMES[failure]);
  countFailure(ctx, failure);
  if (ctx.responseStarted) {
    ctx.abortDownstream();
    return;
  }
  const status = statusForFailure(failure);
  const retry = ctx.route!.retry;
  if (retry !== null && ctx.retriesLeft > 0 && failure !== UpstreamFailure.BadRequest) {
    // Connection failures are always retried (HTTPRouteRetryConnectionError); the rest only when listed.
    const connection = failure === UpstreamFailure.ConnectFailure || failure === UpstreamFailure.Reset;
    if (connection || retry.codes.has(status)) {
      retryAttempt(ctx);
      return;
    }
  }
  if (ctx.attempts > 1) ctx.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
  ctx.respondError(status, messageForFailure(failure));
}

export function retryAttempt(ctx: RequestContext): void {
  ctx.exchange = null;
  if (ctx.done) return;
  if (ctx.trace !== null) ctx.trace.endAttempt(ctx);
  ctx.runtime.metrics.upstreamEvent(ctx.backend!.metricsBackend, UpstreamEvent.Retry);
  ctx.retriesLeft--;
  const base = ctx.route!.retry?.backoffMs || DEFAULT_BACKOFF_MS;
  // Exponential from the route's minimum, jittered upwards, capped at 10× (Envoy's max interval).
  const exp = Math.min(base * 2 ** (ctx.attempts - 1), base * 10);
  ctx.retryTimer = setTimeout(startAttempt, exp + Math.random() * (exp - base), ctx);
}

function onRequestTimeout(ctx: RequestContext): void {
  ctx.requestTimer = null;
  if (ctx.done) return;
  ctx.responseFlags |= ResponseFlag.UpstreamRequestTimeout;
  if (ctx.backend !== null) ctx.runtime.metrics.upstreamEvent(ctx.backend.metricsBackend, UpstreamEvent.Timeout);
  const ex = ctx.exchange;
  ctx.exchange = null;
  ex?.cancel();
  if (ctx.responseStarted) ctx.abortDownstream();
  else ctx.respondError(504, 'upstream request timeout');
}

/** The client went away: stop everything started for it. */
export function abandon(ctx: RequestContext): void {
  if (ctx.done) return;
  ctx.done = true;
  ctx.finishTimers();
  ctx.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
  ctx.complete();
  const ex = ctx.exchange;
  ctx.exchange = null;
  ex?.cancel();
}

/**
 * Reads the request body into memory so it can be sent more than once. A
 * body above the limit is streamed instead: what was read goes first, then
 * the rest; retries and mirrors are dropped for that request.
 */
function bufferBody(ctx: RequestContext): void {
  const req = ctx.requestBody ?? ctx.req;
  const limit = ctx.runtime.tuning.maxBufferedBodyBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  const cleanup = (): void => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    if (size <= limit) return;
    req.pause();
    cleanup();
    if (ctx.done) return;
    ctx.retriesLeft = 0;
    ctx.mirrors = null;
    ctx.body = Readable.from(replayThenRest(chunks, req), { objectMode: false });
    startAttempt(ctx);
  };
  const onEnd = (): void => {
    cleanup();
    if (ctx.done) return;
    const body = Buffer.concat(chunks, size);
    ctx.body = body;
    ctx.requestBytes = size;
    sendMirrors(ctx, body);
    startAttempt(ctx);
  };
  const onError = (): void => {
    cleanup();
    abandon(ctx);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

async function* replayThenRest(first: Buffer[], rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for (const c of first) yield c;
  for await (const c of rest) yield c;
}

function countFailure(ctx: RequestContext, failure: UpstreamFailure): void {
  ctx.responseFlags |=
    failure === UpstreamFailure.ConnectFailure
      ? ResponseFlag.UpstreamConnectionFailure
      : failure === UpstreamFailure.Timeout
        ? ResponseFlag.UpstreamRequestTimeout
        : failure === UpstreamFailure.Reset
          ? ResponseFlag.UpstreamConnectionTermination
          : failure === UpstreamFailure.Protocol
            ? ResponseFlag.UpstreamProtocolError
            : 0;
  const kind =
    failure === UpstreamFailure.ConnectFailure
      ? UpstreamEvent.ConnectFailure
      : failure === UpstreamFailure.Timeout
        ? UpstreamEvent.Timeout
        : failure === UpstreamFailure.Reset
          ? UpstreamEvent.Reset
          : -1;
  if (kind !== -1 && ctx.backend !== null) ctx.runtime.metrics.upstreamEvent(ctx.backend.metricsBackend, kind);
}

function sendMirrors(ctx: RequestContext, body: Buffer | null): void {
  const mirrors = ctx.mirrors;
  if (mirrors === null) return;
  for (const m of mirrors) m.send(ctx, body);
}
