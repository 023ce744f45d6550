/**
 * One wrk run: closed-loop HTTP/1.1 keep-alive load, its result read from
 * the JSON line `wrk-report.lua` prints (wrk's own latency histogram).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startGroup, stopGroup } from './procs.ts';

const REPORT_LUA = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

export interface WrkResult {
  requests: number;
  durationUs: number;
  rps: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** Socket errors + non-2xx/3xx responses. */
  errorCount: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

export interface WrkOptions {
  wrk: string;
  url: string;
  headers: readonly string[];
  threads: number;
  connections: number;
  seconds: number;
  logFile: string;
  cpus: string | null;
}

interface RawReport {
  requests: number;
  duration_us: number;
  errors: WrkResult['errors'];
  latency_us: WrkResult['latencyUs'];
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${Math.max(1, Math.round(o.seconds))}s`,
    '--timeout',
    '5s',
    '-s',
    REPORT_LUA,
  ];
  for (const h of o.headers) args.push('-H', h);
  args.push(o.url);
  const p = startGroup({ name: 'wrk', cmd: o.wrk, args, logFile: o.logFile, cpus: o.cpus });
  // wrk stops by itself; this bounds a wrk that hangs (a proxy that never answers).
  const guard = setTimeout(() => void stopGroup(p, 1000), (o.seconds + 15) * 1000);
  const code = await p.exited;
  clearTimeout(guard);
  const out = readFileSync(o.logFile, 'utf8');
  const lines = out.split('\n').filter((l) => l.startsWith('BENCH-JSON '));
  const last = lines[lines.length - 1];
  if (code !== 0 || last === undefined) {
    throw new Error(`wrk exited with ${code} without a report; see ${o.logFile}:\n${out.slice(-500)}`);
  }
  const r = JSON.parse(last.slice('BENCH-JSON '.length)) as RawReport;
  const e = r.errors;
  return {
    requests: r.requests,
    durationUs: r.duration_us,
    rps: r.duration_us > 0 ? r.requests / (r.duration_us / 1e6) : 0,
    errors: e,
    errorCount: e.connect + e.read + e.write + e.status + e.timeout,
    latencyUs: r.latency_us,
  };
}
