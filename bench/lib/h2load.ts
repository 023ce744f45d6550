/**
 * One h2load run (HTTP/2 with prior knowledge, cleartext): the h2c and gRPC
 * rows. h2load prints throughput and error counts but no percentiles, so
 * the latencies are computed here from its per-request `--log-file`
 * (start, status, µs until the end of the response).
 */
import { readFileSync } from 'node:fs';
import { startGroup, stopGroup } from './procs.ts';
import type { WrkResult } from './wrk.ts';

export interface H2loadOptions {
  h2load: string;
  url: string;
  /** `name: value`; `:authority: host` overrides the authority. */
  headers: readonly string[];
  /** Request body file (POST), or null (GET). */
  dataFile: string | null;
  connections: number;
  /** Concurrent streams per connection. */
  streams: number;
  seconds: number;
  logFile: string;
  cpus: string | null;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Same shape as a wrk result, so that every row is summarised alike. */
export async function runH2load(o: H2loadOptions): Promise<WrkResult> {
  const reqLog = `${o.logFile}.requests.tsv`;
  const args = [
    '-t',
    String(Math.min(2, o.connections)),
    '-c',
    String(o.connections),
    '-m',
    String(o.streams),
    '-D',
    String(Math.max(1, Math.round(o.seconds))),
    `--log-file=${reqLog}`,
  ];
  for (const h of o.headers) args.push('-H', h);
  if (o.dataFile !== null) args.push('-d', o.dataFile);
  args.push(o.url);
  const p = startGroup({ name: 'h2load', cmd: o.h2load, args, logFile: o.logFile, cpus: o.cpus });
  const guard = setTimeout(() => void stopGroup(p, 1000), (o.seconds + 15) * 1000);
  const code = await p.exited;
  clearTimeout(guard);
  const out = readFileSync(o.logFile, 'utf8');
  const fin = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(out);
  const req =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  const st = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (code !== 0 || fin === null || req === null || st === null) {
    throw new Error(`h2load exited with ${code} without a report; see ${o.logFile}:\n${out.slice(-500)}`);
  }
  const seconds = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
  const done = Number(req[3]);
  const failed = Number(req[5]);
  const errored = Number(req[6]);
  const timeout = Number(req[7]);
  const httpErrors = Number(st[3]) + Number(st[4]);
  let durations = new Float64Array(0);
  try {
    const lines = readFileSync(reqLog, 'utf8').split('\n');
    durations = new Float64Array(lines.length);
    let n = 0;
    for (const line of lines) {
      const f = line.split('\t');
      if (f.length >= 3) durations[n++] = Number(f[2]);
    }
    durations = durations.subarray(0, n).sort();
  } catch {
    // no per-request log: latencies stay NaN
  }
  let sum = 0;
  for (const d of durations) sum += d;
  return {
    requests: done,
    durationUs: seconds * 1e6,
    rps: Number(fin[3]),
    // h2load's "failed" = stream/connection errors ("errored") + responses other than 2xx/3xx.
    errors: { connect: 0, read: errored, write: 0, status: httpErrors, timeout },
    errorCount: failed + timeout,
    latencyUs: {
      p50: percentile(durations, 50),
      p90: percentile(durations, 90),
      p99: percentile(durations, 99),
      p999: percentile(durations, 99.9),
      max: durations.length > 0 ? durations[durations.length - 1] : NaN,
      mean: durations.length > 0 ? sum / durations.length : NaN,
    },
  };
}
