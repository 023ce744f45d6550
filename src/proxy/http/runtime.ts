/** What every request of a data plane shares, whatever the configuration. */
import type { AccessLogger } from '../../observability/access-log.ts';
import type { AccessLogSinks } from '../../observability/access-log/sinks.ts';
import type { Logger } from '../../observability/logger.ts';
import type { DataPlaneMetrics } from '../../observability/metrics/data-plane-metrics.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { TracerRegistry } from '../../observability/tracing/registry.ts';
import type { ProxyTuning } from './tuning.ts';

export interface ProxyRuntime {
  readonly tuning: ProxyTuning;
  readonly log: Logger;
  readonly upstreams: UpstreamRegistry;
  /** Mirrored requests in flight (bounded by `tuning.maxConcurrentMirrors`). */
  mirrorsInFlight: number;
  /** Counters of this data plane (ids assigned when a configuration is compiled). */
  readonly metrics: DataPlaneMetrics;
  /** One line per finished request; absent or null = no access log. */
  readonly accessLog?: AccessLogger | null;
  /** Files and OTLP exporters of the Gateways' EnvoyProxy access logs, kept across reloads; absent = every Gateway uses `accessLog`. */
  readonly accessLogSinks?: AccessLogSinks;
  /** Trace export pipelines kept across reloads; absent until a configuration traces (and in compile-only runtimes). */
  tracers?: TracerRegistry;
}
