/**
 * A route entry's tracing settings, compiled at reload: its label for span
 * names, and its BackendTrafficPolicy `telemetry.tracing` overrides
 * (sampling rate, extra tags, span names). Read only for requests of a
 * Gateway with tracing on.
 */
import type { ObjectRef, RouteTracingIR } from '../../ir/types.ts';
import { rate, type Rate } from './sampler.ts';
import { compileTags, type CompiledTag } from './tags.ts';

export interface RouteTracing {
  /** `httproute/<ns>/<name>`: the default server span name is `<METHOD> <label>`. */
  readonly label: string;
  /** The route's sampling rate; null = the Gateway's. */
  readonly rate: Rate | null;
  /** Tags added to the Gateway's on the server span. */
  readonly tags: readonly CompiledTag[];
  /** Span names set by the policy; null = the defaults. */
  readonly serverName: string | null;
  readonly clientName: string | null;
}

export function compileRouteTracing(route: ObjectRef, ir: RouteTracingIR | undefined): RouteTracing {
  return {
    label: `${route.kind.toLowerCase()}/${route.namespace}/${route.name}`,
    rate: ir?.samplingPercent === undefined ? null : rate(ir.samplingPercent),
    tags: compileTags(ir?.tags),
    serverName: ir?.spanName?.server || null,
    clientName: ir?.spanName?.client || null,
  };
}
