/** What every request of a data plane shares, whatever the configuration. */
import type { Logger } from '../../observability/logger.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { ProxyTuning } from './tuning.ts';

export interface ProxyRuntime {
  readonly tuning: ProxyTuning;
  readonly log: Logger;
  readonly upstreams: UpstreamRegistry;
  /** Mirrored requests in flight (bounded by `tuning.maxConcurrentMirrors`). */
  mirrorsInFlight: number;
}
