/**
 * From runs to the table: medians per row over the rounds (disturbed runs
 * left out when undisturbed ones exist), ratios against NGINX measured in
 * the same bench, and the issues' targets (issue 3: against NGINX; issue 5:
 * the cost of metrics + access log).
 */
import type { Section } from './load.ts';
import type { RssResult } from './proc-stats.ts';
import type { CpuUse, QuietResult } from './quiet.ts';
import type { WrkResult } from './wrk.ts';

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface RunRecord {
  row: string;
  section: Section;
  round: number;
  at: string;
  /** 64 connections. */
  rps: number;
  requests: number;
  errors: WrkResult['errors'];
  errorCount: number;
  /** ms */
  latency64: Latency;
  /** 1 connection. */
  rps1: number;
  latency1: Latency;
  errorCount1: number;
  /** During the measured 64-connection run, % of one core. */
  cpu: {
    proxyPct: number;
    /** Kernel time of the proxy (stime), part of proxyPct. */
    proxySysPct: number;
    originPct: number;
    benchPct: number;
    otherPct: number;
    stealPct: number;
  };
  /** Proxy CPU time per request, µs. */
  cpuUsPerRequest: number;
  rss: RssResult;
  quietBefore: QuietResult;
  disturbed: boolean;
  /** What the row was checked to serve (TLS version and cipher, gRPC trailers, connections per request). */
  checks: string[];
}

export interface RowSummary {
  id: string;
  label: string;
  group: string;
  section: Section;
  runs: number;
  /** Runs the medians are taken over. */
  kept: number;
  disturbed: number;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50: number;
  p99: number;
  rps1: number;
  p50at1: number;
  p99at1: number;
  cpuUsPerRequest: number;
  proxyCpuPct: number;
  /** Share of the proxy's CPU spent in the kernel, %. */
  proxySysShare: number;
  otherCpuPct: number;
  /** Highest over the rounds, MiB. */
  rssTotalMiB: number;
  rssMaxWorkerMiB: number;
  rssPrimaryMiB: number;
  /** Largest worker at rest, before the load, MiB. */
  rssIdleWorkerMiB: number;
  processes: number;
  errors: number;
  /** The distinct checks over the runs. */
  checks: string[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const MiB = 1024 * 1024;

export function latencyMs(us: WrkResult['latencyUs']): Latency {
  return { p50: us.p50 / 1000, p90: us.p90 / 1000, p99: us.p99 / 1000, p999: us.p999 / 1000, max: us.max / 1000 };
}

export function cpuRecord(use: CpuUse, proxyIsOrigin: boolean): RunRecord['cpu'] {
  return {
    proxyPct: use.groupPct[0],
    proxySysPct: use.groupSysPct[0],
    originPct: proxyIsOrigin ? use.groupPct[0] : use.groupPct[1],
    benchPct: use.benchPct,
    otherPct: use.otherPct,
    stealPct: use.stealPct,
  };
}

export function summarizeRow(
  id: string,
  label: string,
  group: string,
  section: Section,
  runs: readonly RunRecord[],
): RowSummary {
  const clean = runs.filter((r) => !r.disturbed);
  const kept = clean.length > 0 ? clean : runs;
  const m = (f: (r: RunRecord) => number): number => median(kept.map(f));
  const perRound = kept.map((r) => r.rps);
  return {
    id,
    label,
    group,
    section,
    runs: runs.length,
    kept: kept.length,
    disturbed: runs.length - clean.length,
    rps: m((r) => r.rps),
    rpsMin: Math.min(...perRound),
    rpsMax: Math.max(...perRound),
    p50: m((r) => r.latency64.p50),
    p99: m((r) => r.latency64.p99),
    rps1: m((r) => r.rps1),
    p50at1: m((r) => r.latency1.p50),
    p99at1: m((r) => r.latency1.p99),
    cpuUsPerRequest: m((r) => r.cpuUsPerRequest),
    proxyCpuPct: m((r) => r.cpu.proxyPct),
    proxySysShare: m((r) => (r.cpu.proxyPct > 0 ? (r.cpu.proxySysPct / r.cpu.proxyPct) * 100 : NaN)),
    otherCpuPct: m((r) => r.cpu.otherPct),
    rssTotalMiB: Math.max(...runs.map((r) => r.rss.totalBytes)) / MiB,
    rssMaxWorkerMiB: Math.max(...runs.map((r) => r.rss.maxWorkerBytes)) / MiB,
    rssPrimaryMiB: Math.max(...runs.map((r) => r.rss.primaryBytes)) / MiB,
    rssIdleWorkerMiB: Math.max(...runs.map((r) => r.rss.idleMaxWorkerBytes)) / MiB,
    processes: Math.max(...runs.map((r) => r.rss.processes)),
    errors: runs.reduce((n, r) => n + r.errorCount + r.errorCount1, 0),
    checks: [...new Set(runs.flatMap((r) => r.checks))],
  };
}

export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  met: boolean | null;
  note?: string;
}

const RSS_TARGET_BYTES = 120e6;

export function checkTargets(rows: readonly RowSummary[]): TargetCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const sluice = byId.get('sluice-w2');
  const nginx = byId.get('nginx-w2');
  const libs = rows.filter((r) => r.group === 'library');
  const out: TargetCheck[] = [];
  if (sluice === undefined) return out;
  const x = (v: number): string => `${v.toFixed(2)}×`;
  const noisy = (...rs: RowSummary[]): string | undefined => {
    const d = rs.filter((r) => r.disturbed === r.runs).map((r) => r.id);
    return d.length === 0 ? undefined : `not conclusive: every run of ${d.join(', ')} was disturbed`;
  };
  const withNote = (c: TargetCheck, extra: string | undefined): TargetCheck =>
    extra === undefined ? c : { ...c, note: c.note === undefined ? extra : `${c.note}; ${extra}` };
  if (nginx !== undefined) {
    const ratio = sluice.rps / nginx.rps;
    out.push(
      withNote(
        {
          name: 'throughput vs NGINX (2 workers), 64 connections',
          target: '≥ 0.45×',
          value: `${x(ratio)} (${fmtInt(sluice.rps)} vs ${fmtInt(nginx.rps)} req/s)`,
          met: ratio >= 0.45,
        },
        noisy(sluice, nginx),
      ),
    );
    const p99 = sluice.p99 / nginx.p99;
    out.push(
      withNote(
        {
          name: 'p99 latency vs NGINX, 64 connections',
          target: '≤ 2×',
          value: `${x(p99)} (${sluice.p99.toFixed(2)} vs ${nginx.p99.toFixed(2)} ms)`,
          met: p99 <= 2,
          note: `at 1 connection: ${x(sluice.p99at1 / nginx.p99at1)} (${sluice.p99at1.toFixed(2)} vs ${nginx.p99at1.toFixed(2)} ms)`,
        },
        noisy(sluice, nginx),
      ),
    );
  }
  out.push({
    name: 'peak RSS per worker',
    target: '< 120 MB (114.4 MiB)',
    value:
      `${sluice.rssMaxWorkerMiB.toFixed(1)} MiB (${sluice.rssIdleWorkerMiB.toFixed(1)} at rest; ` +
      `control process ${sluice.rssPrimaryMiB.toFixed(1)} MiB; all ${sluice.rssTotalMiB.toFixed(1)} MiB)`,
    met: sluice.rssMaxWorkerMiB * MiB < RSS_TARGET_BYTES,
  });
  if (libs.length > 0) {
    const best = libs.reduce((a, b) => (b.rps > a.rps ? b : a));
    const ratio = sluice.rps / best.rps;
    out.push(
      withNote(
        {
          name: 'throughput vs the best Node.js proxy library',
          target: '≥ 1.3×',
          value: `${x(ratio)} (best: ${best.label}, ${fmtInt(best.rps)} req/s)`,
          met: ratio >= 1.3,
        },
        noisy(sluice, best),
      ),
    );
  }
  return out;
}

/** Issue 5: metrics + access log may cost at most this share of the throughput. */
export const OBSERVABILITY_MAX_COST = 0.15;

export interface ObservabilityCheck {
  on: RowSummary;
  off: RowSummary;
  /** req/s with both on ÷ req/s with both off. */
  ratio: number;
  /** Extra proxy CPU per request with both on, µs. */
  cpuUsDelta: number;
  met: boolean;
  note?: string;
}

/** sluice-w2-obs (metrics + text access log) against sluice-w2 (both off), same run. */
export function checkObservability(rows: readonly RowSummary[]): ObservabilityCheck | null {
  const on = rows.find((r) => r.id === 'sluice-w2-obs');
  const off = rows.find((r) => r.id === 'sluice-w2');
  if (on === undefined || off === undefined) return null;
  const ratio = on.rps / off.rps;
  const d = [on, off].filter((r) => r.disturbed === r.runs).map((r) => r.id);
  return {
    on,
    off,
    ratio,
    cpuUsDelta: on.cpuUsPerRequest - off.cpuUsPerRequest,
    met: ratio >= 1 - OBSERVABILITY_MAX_COST,
    ...(d.length === 0 ? {} : { note: `not conclusive: every run of ${d.join(', ')} was disturbed` }),
  };
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}
