/**
 * Load balancing: a weighted random pick across a route's backendRefs
 * (cumulative weights computed once), then round-robin across the picked
 * backend's endpoints.
 */
import type { HttpFilter } from '../filters/filter.ts';
import type { UpstreamTarget } from './targets.ts';

export class CompiledBackend {
  private next = 0;
  /** Metrics ids set at compile time: the (route, backend) series and the backend (-1 = not counted). */
  metricsSeries = -1;
  metricsBackend = -1;

  constructor(
    /** `Service/<ns>/<name>:<port>` or `Backend/<ns>/<name>`. */
    readonly name: string,
    readonly targets: readonly UpstreamTarget[],
    /** The backendRef is invalid: requests picked for it answer 500. */
    readonly invalid: boolean,
    /** Per-backendRef filters, run only when this backend is picked. */
    readonly requestFilters: readonly HttpFilter[],
    readonly responseFilters: readonly HttpFilter[],
  ) {}

  /** Next endpoint, or null when the backend has none (→ 503). */
  pickTarget(): UpstreamTarget | null {
    const n = this.targets.length;
    if (n === 0) return null;
    if (n === 1) return this.targets[0];
    const i = this.next;
    this.next = i + 1 === n ? 0 : i + 1;
    return this.targets[i];
  }
}

export class BackendPicker {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(
    readonly backends: readonly CompiledBackend[],
    weights: readonly number[],
  ) {
    this.cumulative = new Float64Array(backends.length);
    let sum = 0;
    for (let i = 0; i < backends.length; i++) {
      sum += Math.max(0, weights[i] ?? 0);
      this.cumulative[i] = sum;
    }
    this.total = sum;
  }

  /** A backend in proportion to its weight; null when every weight is 0 or there is none (→ 500). */
  pick(): CompiledBackend | null {
    const n = this.backends.length;
    if (this.total === 0) return null;
    if (n === 1) return this.backends[0];
    const r = Math.random() * this.total;
    const c = this.cumulative;
    for (let i = 0; i < n; i++) {
      if (r < c[i]) return this.backends[i];
    }
    return this.backends[n - 1];
  }
}
