/**
 * What a Gateway's EnvoyProxy `spec.telemetry` turns into in the data plane,
 * built once per configuration and per Gateway, shared by every route entry
 * (CompiledRoute.telemetry) and socket table (SocketRouter.telemetry, for
 * requests no route takes) of that Gateway. A request reads it through
 * RequestContext.telemetry; L4 sessions through their compiled route.
 *
 * Sinks and exporters behind these objects outlive a reload (they are kept
 * by key in the runtime's registries); only this view is rebuilt.
 */
import type { AccessLogger } from '../../observability/access-log.ts';
import type { Tracer } from '../../observability/tracing/tracer.ts';

export interface GatewayTelemetry {
  /** Where this Gateway's finished requests and sessions are logged; null = not logged. */
  readonly accessLog: AccessLogger | null;
  /** This Gateway's tracer; null = tracing off (the request path then does no tracing work at all). */
  readonly tracer: Tracer | null;
}

export const NO_TELEMETRY: GatewayTelemetry = { accessLog: null, tracer: null };
