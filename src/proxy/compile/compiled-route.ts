/** The compiled shapes requests walk (built by compile-config.ts, read by http/). */
import type { HttpFilter } from '../filters/filter.ts';
import type { RouteMatcher } from '../router/route-matcher.ts';
import type { SocketRouter } from '../router/router.ts';
import type { BackendPicker } from '../upstream/backend.ts';
import type { RouteTracing } from '../../observability/tracing/route-tracing.ts';
import type { GatewayTelemetry } from './gateway-telemetry.ts';
import type { EndpointStats } from '../../observability/metrics/endpoint-stats.ts';

export interface RetryPolicy {
  /** Response codes that trigger a retry (connection failures always do). */
  readonly codes: ReadonlySet<number>;
  /** Retries after the first attempt (Gateway API `attempts`). */
  readonly retries: number;
  readonly backoffMs: number;
}

/** A response the gateway writes itself, prepared once. */
export interface LocalResponse {
  readonly status: number;
  /** Content headers for `body`; `[name, value, ...]`. */
  readonly headers: readonly string[];
  readonly body: Buffer | null;
}

export interface CompiledRoute {
  /** IR route entry name, for logs. */
  readonly name: string;
  readonly matcher: RouteMatcher;
  readonly requestFilters: readonly HttpFilter[];
  readonly responseFilters: readonly HttpFilter[];
  readonly backends: BackendPicker;
  /** Answer without a backend (after the request filters ran). */
  readonly directResponse: LocalResponse | null;
  /** Whole request, 0 = none. */
  readonly requestTimeoutMs: number;
  /** Each attempt, 0 = none. */
  readonly backendTimeoutMs: number;
  readonly retry: RetryPolicy | null;
  /** A GRPCRoute entry: the gateway's own answers are gRPC statuses, whatever the request's content-type. */
  readonly grpc: boolean;
  /** Metrics series of this entry without a backend (observability/metrics/data-plane-metrics.ts). */
  readonly metricsSeries: number;
  /** Per-endpoint request counters of the Gateway (EnvoyProxy enablePerEndpointStats); null = off. */
  readonly endpointStats: EndpointStats | null;
  /** Per-virtual-host request counter of this entry's virtual host (EnvoyProxy enableVirtualHostStats); -1 = off. */
  readonly vhostSeries: number;
  /** Request/response size histograms for this entry's series (EnvoyProxy enableRequestResponseSizesStats). */
  readonly sizeStats: boolean;
  /** The Gateway's access log and tracer (shared by its entries). */
  readonly telemetry: GatewayTelemetry;
  /** Span names, sampling and tags of this entry; null when its Gateway does not trace. */
  readonly tracing: RouteTracing | null;
}

export type SocketTable = SocketRouter<CompiledRoute>;
