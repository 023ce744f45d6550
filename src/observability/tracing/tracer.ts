/**
 * A Gateway's tracer: decides whether a routed request is traced and starts
 * its server span. One per Gateway and configuration (it carries the
 * Gateway's sampling rate and tags); the export pipeline behind it is
 * shared and outlives reloads (registry.ts).
 *
 * The decision comes first and costs little: a request whose caller sent
 * an unsampled context, or a new trace at rate 0, gets no span and its
 * context headers go upstream untouched.
 */
import { ROOT_CONTEXT, SpanKind, type Attributes, type Context, type Tracer as SdkTracer } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SLUICE_GATEWAY,
  ATTR_SLUICE_REQUEST_ID,
  ATTR_SLUICE_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from './attributes.ts';
import { B3Form, extract, parentSampled } from './propagation.ts';
import { RequestTrace, type TracedRequest } from './request-trace.ts';
import type { ObjectRef, RouteTracingIR } from '../../ir/types.ts';
import { compileRouteTracing, type RouteTracing } from './route-tracing.ts';
import { withSampler, type Rate } from './sampler.ts';
import { applyTags, type CompiledTag } from './tags.ts';

export type { RequestTrace, TracedRequest } from './request-trace.ts';

export interface Tracer {
  /** A route entry's tracing settings, compiled at reload (its BackendTrafficPolicy overrides). */
  route(ref: ObjectRef, ir: RouteTracingIR | undefined): RouteTracing;
  /** The spans of a request whose route is known, or null when it is not sampled (nothing more is done for it). */
  startRequest(req: TracedRequest, route: RouteTracing): RequestTrace | null;
}

export class GatewayTracer implements Tracer {
  constructor(
    private readonly sdk: SdkTracer,
    /** `<namespace>/<name>`. */
    private readonly gateway: string,
    private readonly rate: Rate,
    private readonly tags: readonly CompiledTag[],
  ) {}

  route(ref: ObjectRef, ir: RouteTracingIR | undefined): RouteTracing {
    return compileRouteTracing(ref, ir);
  }

  startRequest(req: TracedRequest, route: RouteTracing): RequestTrace | null {
    const rate = route.rate ?? this.rate;
    const ex = extract(req.rawHeaders);
    let context: Context = ROOT_CONTEXT;
    let sampler = rate.parentBased;
    if (ex !== null) {
      if (ex.deny) return null;
      if (ex.parent !== null && !ex.deferred && !parentSampled(ex.parent)) return null;
      context = ex.context;
      if (ex.deferred) sampler = rate.ratio;
    }
    if (rate.percent === 0 && (ex === null || ex.parent === null || ex.deferred)) return null;

    context = withSampler(context, sampler);
    const span = this.sdk.startSpan(
      route.serverName ?? `${req.method} ${route.label}`,
      { kind: SpanKind.SERVER, startTime: hrTime(req.startMs) },
      context,
    );
    if (!span.isRecording()) return null; // not sampled: nothing more is built for it

    const peer = req.socket.remoteAddress ?? '';
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_URL_PATH]: req.path,
      [ATTR_URL_SCHEME]: req.listener.scheme,
      [ATTR_SERVER_ADDRESS]: req.host,
      [ATTR_NETWORK_PEER_ADDRESS]: peer.startsWith('::ffff:') ? peer.slice(7) : peer,
      [ATTR_NETWORK_PEER_PORT]: req.socket.remotePort ?? 0,
      [ATTR_NETWORK_PROTOCOL_VERSION]: req.protocol()?.slice(5) ?? '',
      [ATTR_SLUICE_GATEWAY]: this.gateway,
      [ATTR_SLUICE_ROUTE]: req.route?.name ?? '',
    };
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === 10 && raw[i].toLowerCase() === 'user-agent')
        attributes[ATTR_USER_AGENT_ORIGINAL] = raw[i + 1];
    }
    const h = req.headers;
    for (let i = h.length - 2; i >= 0; i -= 2) {
      if (h[i].length === 12 && h[i].toLowerCase() === 'x-request-id') {
        attributes[ATTR_SLUICE_REQUEST_ID] = h[i + 1];
        break;
      }
    }
    applyTags(this.tags, raw, attributes);
    applyTags(route.tags, raw, attributes);

    span.setAttributes(attributes);
    return new RequestTrace(this.sdk, span, context, ex === null ? B3Form.None : ex.b3, route.clientName);
  }
}
