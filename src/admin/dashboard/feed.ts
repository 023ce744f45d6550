/**
 * The dashboard's live data, in the control process: once a second, while
 * at least one page listens, the gateway-wide counters are read and diffed
 * against the previous read. The per-second deltas of each (route rule,
 * backend) pair go into a ring covering the last few minutes, from which
 * the view is computed: observed split beside the configured weights,
 * request rate, success ratio, p50/p99 from histogram bucket deltas, errors
 * by code, upstream events. Nobody listening: no timer, no sampling (the
 * ring is kept, and a gap marks the time nobody watched).
 */
import { MetricsAggregate } from '../../observability/metrics/aggregate.ts';
import { UPSTREAM_EVENT_COUNT, UpstreamEvent } from '../../observability/metrics/data-plane-metrics.ts';
import type { IR } from '../../ir/types.ts';
import { VERSION } from '../../version.ts';
import {
  configuredRules,
  reloadView,
  ruleId,
  statusRows,
  type ConfiguredRule,
  type ReloadView,
  type StatusRow,
} from './overview.ts';
import {
  addDelta,
  diff,
  emptyDelta,
  errorCodes,
  quantile,
  requestCount,
  subtractDelta,
  successRatio,
  type Delta,
} from './stats.ts';

/** What the feed reads; the control loop (through the admin server's source) provides it. */
export interface FeedSource {
  status(): unknown;
  config(): unknown;
  /** Every worker's counters summed, fresh as of the call (absent: no traffic figures). */
  metricsAggregate?(): Promise<MetricsAggregate>;
}

export interface FeedOptions {
  /** Sampling period (default 1000 ms). */
  intervalMs?: number;
  /** How far back the ring (and the observed split) goes (default 300 s). */
  windowSeconds?: number;
  /** The window of rates, success ratio and percentiles (default 10 s). */
  statsSeconds?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

export interface BackendView {
  name: string;
  /** The configured weight; null for a backend seen in metrics but no longer configured. */
  weight: number | null;
  weightShare: number | null;
  invalid: boolean;
  /** Requests per second over the stats window. */
  rps: number;
  /** Non-5xx share of answered requests over the stats window; null: none answered. */
  success: number | null;
  /** Seconds, over the stats window. */
  p50: number | null;
  p99: number | null;
  /** Share of the rule's requests over the whole window, and over the stats window. */
  share: number | null;
  recentShare: number | null;
  /** Requests over the whole window. */
  requests: number;
  /** Error codes (4xx, 5xx, 0) over the whole window. */
  errors: Record<string, number>;
}

export interface RuleView extends Omit<ConfiguredRule, 'backends'> {
  /** False for rules seen in metrics only (a removed route, `no_route`). */
  configured: boolean;
  requests: number;
  rps: number;
  backends: BackendView[];
}

export interface UpstreamView {
  backend: string;
  connectFailures: number;
  timeouts: number;
  resets: number;
  retries: number;
}

export interface DashboardView {
  sluiceVersion: string;
  /** Unix ms of the newest sample (0: none yet). */
  at: number;
  windowSeconds: number;
  statsSeconds: number;
  config: { version: number; ready: boolean; reason?: string };
  reload: ReloadView;
  gateways: string[];
  rules: RuleView[];
  /** Per backend over the whole window, only those with events. */
  upstream: UpstreamView[];
  /** Rate-limit and circuit-breaker events: there is no such policy yet, and the page says so. */
  policies: { rateLimit: boolean; circuitBreaker: boolean };
  status: StatusRow[];
}

/** One chart point: per rule, per backend, [requests per second, share] over the stats window. */
export interface Point {
  /** Unix seconds. */
  t: number;
  rules: Record<string, Record<string, [number, number | null]>>;
}

export type FeedEvent =
  | { type: 'snapshot'; view: DashboardView; history: Point[] }
  | { type: 'tick'; view: DashboardView; point: Point }
  | { type: 'problem'; message: string };

interface Cumulative {
  pairs: Map<string, Delta>;
  upstream: Map<string, number[]>;
}

interface Sample {
  /** Unix ms. */
  t: number;
  /** Seconds since the previous sample. */
  dt: number;
  pairs: Map<string, Delta>;
  upstream: Map<string, number[]>;
}

const SEP = '\u0000';

/** Figures go out with a few significant decimals: the page shows at most four. */
const round = (v: number, places: number): number => Math.round(v * 10 ** places) / 10 ** places;
const roundOrNull = (v: number | null, places: number): number | null => (v === null ? null : round(v, places));

/** The aggregate's series summed per (route rule, backend), codes and buckets only. */
function cumulative(agg: MetricsAggregate): Cumulative {
  const pairs = new Map<string, Delta>();
  for (const t of agg.series.values()) {
    const key = ruleId(t.labels[2], t.labels[3]) + SEP + t.labels[4];
    let d = pairs.get(key);
    if (d === undefined) pairs.set(key, (d = emptyDelta()));
    for (const [k, n] of t.requests) {
      const code = Number(k.slice(k.indexOf('|') + 1));
      d.codes.set(code, (d.codes.get(code) ?? 0) + n);
    }
    for (let b = 0; b < d.buckets.length; b++) d.buckets[b] += t.duration[b] ?? 0;
  }
  const upstream = new Map<string, number[]>();
  for (const [name, u] of agg.upstream) upstream.set(name, u.slice());
  return { pairs, upstream };
}

export class DashboardFeed {
  readonly #source: FeedSource;
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly #statsMs: number;
  readonly #now: () => number;
  readonly #subs = new Set<(e: FeedEvent) => void>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #prev: { t: number; totals: Cumulative } | undefined;
  readonly #samples: Sample[] = [];
  readonly #points: Point[] = [];
  /** Sums of the samples in the ring. */
  readonly #window = new Map<string, Delta>();
  readonly #windowUpstream = new Map<string, number[]>();

  constructor(source: FeedSource, opts: FeedOptions = {}) {
    this.#source = source;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#windowMs = (opts.windowSeconds ?? 300) * 1000;
    this.#statsMs = (opts.statsSeconds ?? 10) * 1000;
    this.#now = opts.now ?? Date.now;
  }

  /** Pages listening now. */
  get listeners(): number {
    return this.#subs.size;
  }

  /** Whether the sampling timer runs. */
  get sampling(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * `fn` gets a snapshot at once (view and history), then a tick per sample;
   * the first subscriber starts sampling. Returns the unsubscribe function:
   * the last one out stops it.
   */
  subscribe(fn: (e: FeedEvent) => void): () => void {
    this.#subs.add(fn);
    fn({ type: 'snapshot', view: this.view(), history: this.#points.slice() });
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
      this.#timer.unref();
      void this.#tick();
    }
    return () => {
      this.#subs.delete(fn);
      if (this.#subs.size === 0) this.close();
    };
  }

  /** Stops sampling; the next sample after a restart is a new baseline. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#prev = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const point = await this.sample();
      if (point === undefined || this.#timer === undefined) return;
      const view = this.view();
      for (const fn of this.#subs) fn({ type: 'tick', view, point });
    } catch (err) {
      for (const fn of this.#subs) fn({ type: 'problem', message: (err as Error).message });
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads the counters once. The first read (and the first after a pause)
   * is a baseline and answers undefined; later ones answer the new point.
   */
  async sample(): Promise<Point | undefined> {
    const agg = (await this.#source.metricsAggregate?.()) ?? new MetricsAggregate();
    const now = this.#now();
    const totals = cumulative(agg);
    const prev = this.#prev;
    this.#prev = { t: now, totals };
    if (prev === undefined) {
      // A gap point: the charts break their lines over the time nobody watched.
      if (this.#points.length > 0) this.#points.push({ t: now / 1000, rules: {} });
      return undefined;
    }
    const s: Sample = { t: now, dt: Math.max(0.001, (now - prev.t) / 1000), pairs: new Map(), upstream: new Map() };
    for (const [key, d] of totals.pairs) {
      const delta = diff(d, prev.totals.pairs.get(key));
      s.pairs.set(key, delta);
      let w = this.#window.get(key);
      if (w === undefined) this.#window.set(key, (w = emptyDelta()));
      addDelta(w, delta);
    }
    for (const [name, u] of totals.upstream) {
      const before = prev.totals.upstream.get(name);
      const delta = u.map((v, k) => Math.max(0, v - (before?.[k] ?? 0)));
      s.upstream.set(name, delta);
      let w = this.#windowUpstream.get(name);
      if (w === undefined) this.#windowUpstream.set(name, (w = new Array<number>(UPSTREAM_EVENT_COUNT).fill(0)));
      for (let k = 0; k < w.length; k++) w[k] += delta[k];
    }
    this.#samples.push(s);
    this.#evict(now);
    const point: Point = { t: now / 1000, rules: {} };
    for (const [key, d] of this.#recent()) {
      const [id, backend] = key.split(SEP);
      const rps = requestCount(d.delta) / d.seconds;
      (point.rules[id] ??= {})[backend] = [round(rps, 3), null];
    }
    for (const backends of Object.values(point.rules)) {
      const total = Object.values(backends).reduce((sum, v) => sum + v[0], 0);
      for (const v of Object.values(backends)) v[1] = total > 0 ? round(v[0] / total, 4) : null;
    }
    this.#points.push(point);
    while (this.#points.length > 0 && this.#points[0].t * 1000 <= now - this.#windowMs) this.#points.shift();
    return point;
  }

  #evict(now: number): void {
    while (this.#samples.length > 0 && this.#samples[0].t <= now - this.#windowMs) {
      const old = this.#samples.shift()!;
      for (const [key, d] of old.pairs) {
        const w = this.#window.get(key);
        if (w !== undefined) subtractDelta(w, d);
      }
      for (const [name, u] of old.upstream) {
        const w = this.#windowUpstream.get(name);
        if (w !== undefined) for (let k = 0; k < w.length; k++) w[k] = Math.max(0, w[k] - u[k]);
      }
    }
  }

  /** Per pair, the sum of the samples in the stats window and the seconds they cover. */
  #recent(): Map<string, { delta: Delta; seconds: number }> {
    const out = new Map<string, { delta: Delta; seconds: number }>();
    const last = this.#samples[this.#samples.length - 1];
    if (last === undefined) return out;
    let seconds = 0;
    for (let i = this.#samples.length - 1; i >= 0 && this.#samples[i].t > last.t - this.#statsMs; i--) {
      const s = this.#samples[i];
      seconds += s.dt;
      for (const [key, d] of s.pairs) {
        let r = out.get(key);
        if (r === undefined) out.set(key, (r = { delta: emptyDelta(), seconds: 0 }));
        addDelta(r.delta, d);
      }
    }
    for (const r of out.values()) r.seconds = seconds;
    return out;
  }

  /** Everything the page shows, as of the last sample. */
  view(): DashboardView {
    const status = this.#source.status() as { version?: number; ready?: boolean; reason?: string; resources?: unknown };
    const rows = statusRows(status?.resources);
    const configured = configuredRules(this.#source.config() as IR | undefined);
    const recent = this.#recent();

    // Observed pairs, grouped by rule.
    type Observed = { window: Delta; recent: Delta | undefined; seconds: number };
    const observed = new Map<string, Map<string, Observed>>();
    for (const [key, w] of this.#window) {
      const [id, backend] = key.split(SEP);
      const r = recent.get(key);
      if (requestCount(w) === 0 && (r === undefined || requestCount(r.delta) === 0)) continue;
      let m = observed.get(id);
      if (m === undefined) observed.set(id, (m = new Map<string, Observed>()));
      m.set(backend, { window: w, recent: r?.delta, seconds: r?.seconds ?? 0 });
    }

    const rules: RuleView[] = [];
    const seen = new Set<string>();
    const addRule = (base: Omit<RuleView, 'backends' | 'requests' | 'rps'>, conf: ConfiguredRule['backends']): void => {
      seen.add(base.id);
      const obs = observed.get(base.id) ?? new Map<string, Observed>();
      const names = [...conf.map((b) => b.name), ...[...obs.keys()].filter((n) => !conf.some((b) => b.name === n))];
      const windowTotal = [...obs.values()].reduce((s, o) => s + requestCount(o.window), 0);
      const recentTotal = [...obs.values()].reduce((s, o) => s + (o.recent ? requestCount(o.recent) : 0), 0);
      const seconds = [...obs.values()].reduce((s, o) => Math.max(s, o.seconds), 0);
      const backends = names.map((name): BackendView => {
        const c = conf.find((b) => b.name === name);
        const o = obs.get(name);
        const requests = o ? requestCount(o.window) : 0;
        const recentN = o?.recent ? requestCount(o.recent) : 0;
        return {
          name,
          weight: c?.weight ?? null,
          weightShare: c?.weightShare ?? null,
          invalid: c?.invalid ?? false,
          rps: seconds > 0 ? round(recentN / seconds, 3) : 0,
          success: o?.recent ? roundOrNull(successRatio(o.recent), 4) : null,
          p50: o?.recent ? roundOrNull(quantile(o.recent.buckets, 0.5), 6) : null,
          p99: o?.recent ? roundOrNull(quantile(o.recent.buckets, 0.99), 6) : null,
          share: windowTotal > 0 ? round(requests / windowTotal, 4) : null,
          recentShare: recentTotal > 0 ? round(recentN / recentTotal, 4) : null,
          requests,
          errors: o ? errorCodes(o.window) : {},
        };
      });
      rules.push({ ...base, requests: windowTotal, rps: seconds > 0 ? round(recentTotal / seconds, 3) : 0, backends });
    };
    for (const c of configured) {
      const { backends, ...base } = c;
      addRule({ ...base, configured: true }, backends);
    }
    for (const id of [...observed.keys()].sort()) {
      if (seen.has(id)) continue;
      const i = id.lastIndexOf('#');
      const route = id.slice(0, i);
      const rule = id.slice(i + 1);
      addRule({ id, kind: '', route, rule, hostnames: [], listeners: [], configured: false }, []);
    }

    const upstream: UpstreamView[] = [];
    for (const [backend, u] of [...this.#windowUpstream].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const v = {
        backend,
        connectFailures: u[UpstreamEvent.ConnectFailure],
        timeouts: u[UpstreamEvent.Timeout],
        resets: u[UpstreamEvent.Reset],
        retries: u[UpstreamEvent.Retry],
      };
      if (v.connectFailures + v.timeouts + v.resets + v.retries > 0) upstream.push(v);
    }

    return {
      sluiceVersion: VERSION,
      at: this.#samples[this.#samples.length - 1]?.t ?? 0,
      windowSeconds: this.#windowMs / 1000,
      statsSeconds: this.#statsMs / 1000,
      config: {
        version: Number(status?.version) || 0,
        ready: status?.ready === true,
        ...(typeof status?.reason === 'string' ? { reason: status.reason } : {}),
      },
      reload: reloadView(status),
      gateways: rows.filter((r) => r.kind === 'Gateway').map((r) => r.name),
      rules,
      upstream,
      policies: { rateLimit: false, circuitBreaker: false },
      status: rows,
    };
  }
}
