/**
 * BackendTrafficPolicy `telemetry.tracing` → HTTPRouteIR.tracing: what a
 * route (or every route of a Gateway) changes in its Gateway's tracing, as
 * Envoy Gateway puts it on the Envoy route: the sampling rate for new
 * traces (`samplingFraction`), extra span tags (`customTags`, and `tags`
 * whose values may be `%REQ(x)%` or `%ENVIRONMENT(X)%`), and the span names.
 * `clientSamplingFraction` and `overallSamplingFraction` are not honoured.
 * Without tracing on the Gateway (EnvoyProxy) there is nothing to change.
 */
import type { BackendTrafficPolicy } from '../../api/generated/index.ts';
import type { RouteTracingIR, TracingTagIR } from '../../ir/types.ts';

type TracingSpec = NonNullable<NonNullable<BackendTrafficPolicy['spec']['telemetry']>['tracing']>;

export function routeTracing(spec: TracingSpec): RouteTracingIR {
  const out: RouteTracingIR = {};
  if (spec.samplingFraction !== undefined) {
    const { numerator, denominator = 100 } = spec.samplingFraction;
    out.samplingPercent = Math.min(100, Math.max(0, denominator > 0 ? (numerator / denominator) * 100 : 0));
  }
  const tags: Record<string, TracingTagIR> = {};
  for (const [name, tag] of Object.entries(spec.customTags ?? {})) {
    if (tag.type === 'Literal' && tag.literal) tags[name] = { type: 'Literal', value: tag.literal.value };
    else if (tag.type === 'Environment' && tag.environment) tags[name] = fromSource('Environment', tag.environment);
    else if (tag.type === 'RequestHeader' && tag.requestHeader)
      tags[name] = fromSource('RequestHeader', tag.requestHeader);
  }
  for (const [name, value] of Object.entries(spec.tags ?? {})) tags[name] = fromOperator(value);
  if (Object.keys(tags).length > 0) out.tags = tags;
  if (spec.spanName) out.spanName = { server: spec.spanName.server, client: spec.spanName.client };
  return out;
}

function fromSource(type: 'Environment' | 'RequestHeader', s: { name: string; defaultValue?: string }): TracingTagIR {
  return s.defaultValue !== undefined ? { type, name: s.name, defaultValue: s.defaultValue } : { type, name: s.name };
}

/** A `tags` value: `%REQ(x)%` reads a request header, `%ENVIRONMENT(X)%` a variable; anything else is literal. */
function fromOperator(value: string): TracingTagIR {
  const req = /^%REQ\(([^)?:]+)\)%$/.exec(value);
  if (req) return { type: 'RequestHeader', name: req[1].toLowerCase() };
  const env = /^%ENVIRONMENT\(([^)]+)\)%$/.exec(value);
  if (env) return { type: 'Environment', name: env[1] };
  return { type: 'Literal', value };
}
