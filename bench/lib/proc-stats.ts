/**
 * What the bench reads from /proc: the processes of a process group, their
 * CPU time and resident memory, and the machine's CPU time. Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every Linux the bench targets). */
export const CLK_TCK = 100;
const PAGE = 4096;

export interface ProcStat {
  pid: number;
  /** Executable name (comm). */
  comm: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, in ticks. */
  cpuTicks: number;
  /** stime (kernel), in ticks. */
  sysTicks: number;
  /** cutime + cstime (children waited for), in ticks. */
  childTicks: number;
  rssBytes: number;
}

function parseStat(pid: number, text: string): ProcStat | null {
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close === -1) return null;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): field n is f[n - 3].
  return {
    pid,
    comm: text.slice(open + 1, close),
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    sysTicks: Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
    rssBytes: Number(f[21]) * PAGE,
  };
}

export function readProc(pid: number): ProcStat | null {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Every live process whose process group is `pgid` (a group leader's pid).
 * esbuild helpers (tsx compiling a module at start-up, with `--tsx`) are
 * not the proxy and are left out.
 */
export function groupProcesses(pgid: number): ProcStat[] {
  const out: ProcStat[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const p = readProc(Number(name));
    if (p !== null && p.pgrp === pgid && p.comm !== 'esbuild') out.push(p);
  }
  return out;
}

/** Peak resident set the kernel recorded for a process (VmHWM), in bytes. */
export function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

export interface CpuTimes {
  /** Ticks spent busy by the whole machine (everything but idle and iowait). */
  busy: number;
  steal: number;
  total: number;
}

export function machineCpu(): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, steal, total: busy + idle + iowait };
}

/** CPU ticks of this process and of the children it has reaped (wrk runs count here once they exit). */
export function selfTicks(): number {
  const p = readProc(process.pid);
  return p === null ? 0 : p.cpuTicks + p.childTicks;
}

/** Sum of CPU ticks (user + kernel, and kernel alone) of a group's live processes. */
export function groupTicks(pgid: number): { cpu: number; sys: number } {
  let cpu = 0;
  let sys = 0;
  for (const p of groupProcesses(pgid)) {
    cpu += p.cpuTicks;
    sys += p.sysTicks;
  }
  return { cpu, sys };
}

/**
 * Samples a process group's resident memory every `intervalMs`: the peak of
 * the sum over its processes, and each process's own peak. The group leader
 * is the primary (nginx master, cluster primary); the others are workers.
 */
export class RssSampler {
  peakTotal = 0;
  readonly peakByPid = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly pgid: number,
    private readonly intervalMs = 200,
  ) {}

  /** The group at rest, just after it started serving: sum, and the largest worker. */
  idle = { totalBytes: 0, maxWorkerBytes: 0 };

  start(): this {
    this.sample();
    this.idle = { totalBytes: this.peakTotal, maxWorkerBytes: this.maxWorker() };
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    let total = 0;
    for (const p of groupProcesses(this.pgid)) {
      total += p.rssBytes;
      // VmHWM also catches peaks between two samples.
      const peak = Math.max(p.rssBytes, peakRss(p.pid));
      if (peak > (this.peakByPid.get(p.pid) ?? 0)) this.peakByPid.set(p.pid, peak);
    }
    if (total > this.peakTotal) this.peakTotal = total;
  }

  private maxWorker(): number {
    const workers = [...this.peakByPid].filter(([pid]) => pid !== this.pgid).map(([, b]) => b);
    // A single-process proxy (HAProxy) is its own worker.
    return workers.length === 0 ? (this.peakByPid.get(this.pgid) ?? 0) : Math.max(...workers);
  }

  stop(): RssResult {
    this.sample();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    return {
      totalBytes: this.peakTotal,
      primaryBytes: this.peakByPid.get(this.pgid) ?? 0,
      maxWorkerBytes: this.maxWorker(),
      idleTotalBytes: this.idle.totalBytes,
      idleMaxWorkerBytes: this.idle.maxWorkerBytes,
      processes: this.peakByPid.size,
    };
  }
}

export interface RssResult {
  /** Peak of the sum over the group's processes (sampled). */
  totalBytes: number;
  primaryBytes: number;
  /** Highest peak (VmHWM) among the worker processes. */
  maxWorkerBytes: number;
  /** At rest, just after the proxy started serving (before any load). */
  idleTotalBytes: number;
  idleMaxWorkerBytes: number;
  processes: number;
}
