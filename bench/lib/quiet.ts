/**
 * The machine is shared: before measuring, wait (bounded) until the rest of
 * the machine is quiet, and measure how busy it was during each run.
 * "Other" CPU is the machine's busy time minus what the bench's own
 * processes used (this process, wrk once reaped, origin, proxy), in % of one
 * core. A run during which others used more than a quarter of a core is
 * marked disturbed (perf-baseline.md's threshold).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CLK_TCK, groupTicks, machineCpu, selfTicks } from './proc-stats.ts';

export const DISTURBED_OTHER_PCT = 25;

/** CPU counters of the machine and of the bench's process groups at one instant. */
export interface CpuSnapshot {
  at: number;
  busy: number;
  steal: number;
  self: number;
  groups: Array<{ cpu: number; sys: number }>;
}

export function snapshot(pgids: readonly number[]): CpuSnapshot {
  const m = machineCpu();
  return { at: performance.now(), busy: m.busy, steal: m.steal, self: selfTicks(), groups: pgids.map(groupTicks) };
}

export interface CpuUse {
  seconds: number;
  /** Each group's CPU, % of one core, in the order given to snapshot(). */
  groupPct: number[];
  /** The kernel's part of it (stime). */
  groupSysPct: number[];
  /** This process + reaped children (wrk). */
  benchPct: number;
  otherPct: number;
  stealPct: number;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  const pct = (ticks: number): number => (seconds > 0 ? (ticks / CLK_TCK / seconds) * 100 : 0);
  const groups = b.groups.map((t, i) => t.cpu - a.groups[i].cpu);
  const ours = b.self - a.self + groups.reduce((x, y) => x + y, 0);
  return {
    seconds,
    groupPct: groups.map(pct),
    groupSysPct: b.groups.map((t, i) => pct(t.sys - a.groups[i].sys)),
    benchPct: pct(b.self - a.self),
    otherPct: Math.max(0, pct(b.busy - a.busy - ours)),
    stealPct: pct(b.steal - a.steal),
  };
}

export interface QuietResult {
  quiet: boolean;
  waitedS: number;
  otherPct: number;
}

/**
 * Samples 1 s windows until others use less than `thresholdPct` of a core,
 * for at most `maxWaitS` seconds. Never throws: a machine that stays busy is
 * reported, and the runs are marked.
 */
export async function waitQuiet(
  pgids: readonly number[],
  maxWaitS: number,
  thresholdPct = DISTURBED_OTHER_PCT,
): Promise<QuietResult> {
  const start = performance.now();
  let other = 0;
  for (;;) {
    const a = snapshot(pgids);
    await sleep(1000);
    other = cpuBetween(a, snapshot(pgids)).otherPct;
    const waited = (performance.now() - start) / 1000;
    if (other < thresholdPct) return { quiet: true, waitedS: waited, otherPct: other };
    if (waited >= maxWaitS) return { quiet: false, waitedS: waited, otherPct: other };
  }
}
