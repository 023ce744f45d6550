/**
 * The dashboard's arithmetic over counter deltas: the data plane keeps only
 * cumulative counters and a duration histogram, so rates, success ratios
 * and percentiles of "the last N seconds" are all computed here from the
 * differences between two samples. Pure functions, no I/O.
 */
import { DURATION_BUCKETS, DURATION_BUCKET_COUNT } from '../../observability/metrics/data-plane-metrics.ts';

/** What one (route rule, backend) pair did between two samples. */
export interface Delta {
  /** Requests by status code (0: the client went away first). */
  codes: Map<number, number>;
  /** Duration histogram bucket counts (not cumulative), DURATION_BUCKETS then +Inf. */
  buckets: number[];
}

export function emptyDelta(): Delta {
  return { codes: new Map(), buckets: new Array<number>(DURATION_BUCKET_COUNT).fill(0) };
}

/** `into += d`. */
export function addDelta(into: Delta, d: Delta): void {
  for (const [code, n] of d.codes) into.codes.set(code, (into.codes.get(code) ?? 0) + n);
  for (let b = 0; b < into.buckets.length; b++) into.buckets[b] += d.buckets[b] ?? 0;
}

/** `from -= d` (a sample leaving a running window total). */
export function subtractDelta(from: Delta, d: Delta): void {
  for (const [code, n] of d.codes) {
    const v = (from.codes.get(code) ?? 0) - n;
    if (v > 0) from.codes.set(code, v);
    else from.codes.delete(code);
  }
  for (let b = 0; b < from.buckets.length; b++) from.buckets[b] = Math.max(0, from.buckets[b] - (d.buckets[b] ?? 0));
}

/**
 * `now - before`, per code and bucket, never below zero (a counter can only
 * look smaller if a worker's last report was lost; that second counts as 0).
 */
export function diff(now: Delta, before: Delta | undefined): Delta {
  const d = emptyDelta();
  for (const [code, n] of now.codes) {
    const v = n - (before?.codes.get(code) ?? 0);
    if (v > 0) d.codes.set(code, v);
  }
  for (let b = 0; b < d.buckets.length; b++)
    d.buckets[b] = Math.max(0, (now.buckets[b] ?? 0) - (before?.buckets[b] ?? 0));
  return d;
}

export function requestCount(d: Delta): number {
  let n = 0;
  for (const v of d.codes.values()) n += v;
  return n;
}

/** Share of answered requests (code > 0) that were not 5xx; null when nothing was answered. */
export function successRatio(d: Delta): number | null {
  let answered = 0;
  let failed = 0;
  for (const [code, n] of d.codes) {
    if (code === 0) continue;
    answered += n;
    if (code >= 500) failed += n;
  }
  return answered === 0 ? null : (answered - failed) / answered;
}

/**
 * The q-quantile (0 < q <= 1) in seconds, interpolated linearly inside its
 * bucket as Prometheus' histogram_quantile does; a rank in the +Inf bucket
 * answers the highest finite bound. Null for an empty histogram.
 */
export function quantile(buckets: readonly number[], q: number): number | null {
  let total = 0;
  for (const n of buckets) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let b = 0; b < buckets.length; b++) {
    const n = buckets[b];
    if (n > 0 && below + n >= rank) {
      if (b >= DURATION_BUCKETS.length) return DURATION_BUCKETS[DURATION_BUCKETS.length - 1];
      const lower = b === 0 ? 0 : DURATION_BUCKETS[b - 1];
      return lower + (DURATION_BUCKETS[b] - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return DURATION_BUCKETS[DURATION_BUCKETS.length - 1];
}

/** Error codes only (4xx, 5xx, and 0 for clients that left), as a plain object for JSON. */
export function errorCodes(d: Delta): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, n] of [...d.codes].sort((a, b) => a[0] - b[0])) if (code >= 400 || code === 0) out[code] = n;
  return out;
}
