/** Command-line flags of `npm run bench -- ...`. */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds of the measured 64-connection run of each row. */
  duration: number;
  /** Seconds of the 1-connection run. */
  oneConnDuration: number;
  /** Seconds of 64-connection warm-up before measuring. */
  warmup: number;
  rounds: number;
  quick: boolean;
  /** Row ids to run (all when empty). */
  rows: string[];
  /** Longest wait for a quiet machine before the first row, seconds. */
  quietWait: number;
  /** Longest wait for a quiet machine before each later row, seconds. */
  rowQuietWait: number;
  pin: boolean;
  /** Extra passes over the rows that have no undisturbed run yet. */
  retryDisturbed: number;
  tsx: boolean;
  /** Build Sluice from this git revision instead of the working tree. */
  ref: string | null;
  /** Extra node flags for Sluice (its workers inherit them), for experiments. */
  sluiceNodeFlags: string[];
  /** Profile Sluice instead of running the table. */
  profile: boolean;
  keepTmp: boolean;
  out: string;
}

export const USAGE = `Usage: npm run bench -- [options]
  --duration S       seconds of the measured run at 64 in flight per row (default 10)
  --quick            1 round of 3 s runs, for developing the bench
  --rounds N         rounds, each over every row in rotating order (default 2); medians are reported
  --rows a,b         only these rows, or sections (all their rows). Sections and their rows:
                       http1: origin, nginx-w2, haproxy-t2, sluice-w2, sluice-w2-obs, undici-w2,
                              http-proxy-w2, fastify-w2, fast-gateway-w2
                       https: nginx-tls, haproxy-tls, sluice-tls
                       https-close: nginx-tls-close, haproxy-tls-close, sluice-tls-close
                       h2c: nginx-h2c, haproxy-h2c, sluice-h2c
                       grpc: nginx-grpc, haproxy-grpc, sluice-grpc
                     and, only when named: sluice-w2-metrics, sluice-w2-log (metrics alone, access log alone)
  --quiet-wait S     longest wait for a quiet machine before starting (default 30; 5 before each row)
  --retry-disturbed N  after the rounds, up to N more passes over the rows whose runs were all disturbed
                     (default 0: the bench stays within its time)
  --pin              pin wrk and the origin to CPU 0 and the proxies to the other CPUs (default: no pinning,
                     as in perf-baseline.md)
  --tsx              run Sluice and the Node peers from source under tsx instead of a tsc build
  --ref REV          build Sluice from git revision REV (e.g. HEAD) instead of the working tree
  --sluice-node-flags=F  extra node flags for Sluice and its workers, e.g. --sluice-node-flags=--max-semi-space-size=8
  --profile          profile Sluice's workers (--cpu-prof) under 64 connections and print the hot spots
                     (with --rows: those Node rows, e.g. --rows sluice-w2,undici-w2)
  --keep-tmp         keep the temp dir (configs, logs, profiles)
  --out FILE         results JSON (default bench/results/latest.json)`;

export class UsageError extends Error {}

function num(name: string, v: string | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min} (got "${v}")`);
  return n;
}

export function parseOptions(argv: string[], defaultOut: string): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      rows: { type: 'string' },
      'quiet-wait': { type: 'string' },
      pin: { type: 'boolean' },
      'retry-disturbed': { type: 'string' },
      tsx: { type: 'boolean' },
      ref: { type: 'string' },
      'sluice-node-flags': { type: 'string' },
      profile: { type: 'boolean' },
      'keep-tmp': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  if (values.tsx && values.ref !== undefined) throw new UsageError('--tsx and --ref do not go together');
  const quick = values.quick ?? false;
  const duration = Math.round(num('duration', values.duration, quick ? 3 : 10, 1));
  const quietWait = num('quiet-wait', values['quiet-wait'], quick ? 10 : 30, 0);
  return {
    duration,
    oneConnDuration: Math.max(1, Math.round(duration * 0.3)),
    warmup: Math.max(1, Math.round(duration * 0.2)),
    rounds: Math.round(num('rounds', values.rounds, quick ? 1 : 2, 1)),
    quick,
    rows: values.rows === undefined ? [] : values.rows.split(',').map((s) => s.trim()),
    quietWait,
    rowQuietWait: Math.min(quietWait, quick ? 3 : 5),
    pin: values.pin ?? false,
    retryDisturbed: Math.round(num('retry-disturbed', values['retry-disturbed'], 0, 0)),
    tsx: values.tsx ?? false,
    ref: values.ref ?? null,
    sluiceNodeFlags: (values['sluice-node-flags'] ?? '').split(/\s+/).filter((f) => f !== ''),
    profile: values.profile ?? false,
    keepTmp: values['keep-tmp'] ?? false,
    out: values.out ?? defaultOut,
  };
}
