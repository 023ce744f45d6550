/**
 * Upstream targets outlive configurations: a new IR that still names an
 * endpoint gets the same pool (and its warm keep-alive connections). After a
 * swap, targets the live IR no longer uses are closed gracefully; undici lets
 * requests already dispatched on them finish.
 */
import type { BackendIR, EndpointIR } from '../../ir/types.ts';
import type { DataPlaneMetrics } from '../../observability/metrics/data-plane-metrics.ts';
import type { ProxyTuning } from '../http/tuning.ts';
import { backendTlsKey } from './backend-tls.ts';
import { DnsCache } from './dns-cache.ts';
import { Http2Target, Http1Target, usesHttp2, type UpstreamTarget } from './targets.ts';

export class UpstreamRegistry {
  private readonly targets = new Map<string, UpstreamTarget>();
  readonly dns: DnsCache;

  constructor(
    private readonly tuning: ProxyTuning,
    /** Where connection counts go; null = not counted. */
    private readonly metrics: DataPlaneMetrics | null = null,
  ) {
    this.dns = new DnsCache(tuning.dnsTtlMs);
  }

  /** The target for one endpoint of a backend; `used` collects the keys a configuration needs. */
  acquire(backend: BackendIR, endpoint: EndpointIR, tlsKey: string, used: Set<string>): UpstreamTarget {
    const h2c = usesHttp2(backend);
    const key = `${h2c ? 'h2' : 'h1'}|${endpoint.kind}|${endpoint.address}|${endpoint.port}|${tlsKey}`;
    used.add(key);
    let t = this.targets.get(key);
    if (t === undefined) {
      t = h2c
        ? new Http2Target(key, backend, endpoint, this.tuning, this.dns, this.metrics)
        : new Http1Target(key, backend, endpoint, this.tuning, this.dns, this.metrics);
      this.targets.set(key, t);
    }
    return t;
  }

  tlsKey(backend: BackendIR): string {
    return backendTlsKey(backend.tls);
  }

  /** Closes every target whose key is not in `keep`; requests on them get `graceMs` to finish. */
  release(keep: ReadonlySet<string>, graceMs: number): Promise<void> {
    const closing: Array<Promise<void>> = [];
    for (const [key, t] of this.targets) {
      if (keep.has(key)) continue;
      this.targets.delete(key);
      closing.push(t.close(graceMs));
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Snapshot time: open connections and waiting requests of the targets in use (DataPlaneMetrics.sampleUpstream). */
  sample(m: DataPlaneMetrics): void {
    for (const t of this.targets.values()) t.sample(m);
  }

  get size(): number {
    return this.targets.size;
  }
}
