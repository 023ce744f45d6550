/**
 * Sampling: ParentBased(TraceIdRatioBased(percent / 100)), as Envoy
 * Gateway's `samplingRate`: a caller's sampled (or unsampled) decision is
 * kept, new traces are sampled at the Gateway's rate, or at the rate of a
 * route's BackendTrafficPolicy. Export pipelines are shared by Gateways with
 * different rates, so the provider's sampler only defers to the one the
 * request's context carries.
 */
import { createContextKey, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import {
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';

const SAMPLER = createContextKey('sluice.sampler');
const DROP: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

/** The provider's sampler: the decision of the sampler in the span's context (none = not recorded). */
export class ContextSampler implements Sampler {
  shouldSample(
    context: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const s = context.getValue(SAMPLER) as Sampler | undefined;
    return s === undefined ? DROP : s.shouldSample(context, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return 'ContextSampler';
  }
}

/** `context` with the sampler its spans are decided by. */
export function withSampler(context: Context, sampler: Sampler): Context {
  return context.setValue(SAMPLER, sampler);
}

/** One rate's samplers, built once per distinct percentage. */
export interface Rate {
  readonly percent: number;
  /** ParentBased(TraceIdRatioBased): the default. */
  readonly parentBased: Sampler;
  /** TraceIdRatioBased alone: for a caller's trace that left the decision to us (B3 without a sampled flag). */
  readonly ratio: Sampler;
}

const rates = new Map<number, Rate>();

export function rate(percent: number): Rate {
  const p = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 100));
  let r = rates.get(p);
  if (r === undefined) {
    const ratio = new TraceIdRatioBasedSampler(p / 100);
    r = { percent: p, parentBased: new ParentBasedSampler({ root: ratio }), ratio };
    rates.set(p, r);
  }
  return r;
}
