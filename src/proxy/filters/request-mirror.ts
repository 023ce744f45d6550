/**
 * RequestMirror: a copy of the request goes to another backend, fire and
 * forget. Sampling (`percent`) happens in the request phase; the copy is
 * sent when the request is forwarded, with the final headers and path and,
 * when the request has one, its buffered body. The copy's response is read
 * and dropped; it never affects the client's response. Copies in flight are
 * bounded across the data plane: over the bound, copies are dropped.
 */
import type { Dispatcher } from 'undici';
import { UpstreamEvent } from '../../observability/metrics/data-plane-metrics.ts';
import { toH2RequestHeaders } from '../http/h2c-exchange.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import type { CompiledBackend } from '../upstream/backend.ts';
import type { DispatchOptionsWithSni } from '../upstream/targets.ts';
import type { HttpFilter } from './filter.ts';

/** A mirror that hangs is given up after this long. */
const MIRROR_TIMEOUT_MS = 10_000;

export class RequestMirrorFilter implements HttpFilter {
  readonly type = 'RequestMirror';

  constructor(
    readonly backend: CompiledBackend,
    /** 0..100 */
    readonly percent: number,
  ) {}

  onRequest(ctx: RequestContext): boolean {
    if (this.percent >= 100 || Math.random() * 100 < this.percent) (ctx.mirrors ??= []).push(this);
    return true;
  }

  send(ctx: RequestContext, body: Buffer | null): void {
    const rt = ctx.runtime;
    const id = this.backend.metricsBackend;
    if (rt.mirrorsInFlight >= rt.tuning.maxConcurrentMirrors) {
      rt.metrics.upstreamEvent(id, UpstreamEvent.MirrorDropped);
      return;
    }
    const target = this.backend.pickTarget();
    if (target === null || this.backend.invalid) {
      rt.metrics.upstreamEvent(id, UpstreamEvent.MirrorDropped);
      return;
    }
    rt.metrics.upstreamEvent(id, UpstreamEvent.MirrorSent);
    const headers = ctx.headers.slice();
    if (ctx.hostFromBackend) headers[1] = target.hostname;
    rt.mirrorsInFlight++;
    if (target.kind === 'http1') {
      const opts: DispatchOptionsWithSni = {
        method: ctx.method,
        path: ctx.upstreamUrl,
        headers,
        body,
        headersTimeout: MIRROR_TIMEOUT_MS,
        bodyTimeout: MIRROR_TIMEOUT_MS,
        servername: target.servername,
      };
      target.pool.dispatch(opts, new DiscardHandler(rt));
      return;
    }
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        rt.mirrorsInFlight--;
      }
    };
    try {
      const stream = target.getSession().request(toH2RequestHeaders(ctx.method, ctx.upstreamUrl, headers), {
        endStream: body === null,
      });
      stream.setTimeout(MIRROR_TIMEOUT_MS, () => stream.close());
      stream.on('error', finish);
      stream.on('close', finish);
      stream.resume();
      if (body !== null) stream.end(body);
    } catch {
      finish();
    }
  }
}

/** Reads a mirror's response and forgets it. */
class DiscardHandler implements Dispatcher.DispatchHandler {
  constructor(private readonly rt: ProxyRuntime) {}
  onConnect(): void {}
  onHeaders(): boolean {
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.rt.mirrorsInFlight--;
  }
  onError(): void {
    this.rt.mirrorsInFlight--;
  }
}
