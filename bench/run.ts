/**
 * `npm run bench`: Sluice against NGINX, HAProxy, a bare undici proxy and
 * the Node.js proxy libraries, all proxying the same origin over loopback
 * in the same run. See bench/README.md for the method; `--help` for flags.
 *
 * For each round, each row in rotating order: start the proxy (own process
 * group, free port), wait until it answers `200 hello`, wait (bounded) for a
 * quiet machine, warm up, measure wrk at 64 connections (CPU accounted from
 * /proc), then at 1 connection, sample RSS throughout, stop the proxy.
 * Prints the table, ratios and targets; writes bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { buildForBench, checkoutRef, fromSource, type NodeBuild } from './lib/build.ts';
import { profileText, summarizeProfiles } from './lib/cpuprofile.ts';
import { waitServing } from './lib/http-check.ts';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './lib/options.ts';
import { freePort } from './lib/ports.ts';
import { RssSampler } from './lib/proc-stats.ts';
import { installCleanup, stopGroup, type Started } from './lib/procs.ts';
import { cpuBetween, DISTURBED_OTHER_PCT, snapshot, waitQuiet, type CpuUse, type QuietResult } from './lib/quiet.ts';
import { ratiosText, resultTable, targetsText } from './lib/report.ts';
import {
  checkTargets,
  cpuRecord,
  fmtInt,
  latencyMs,
  summarizeRow,
  type RowSummary,
  type RunRecord,
} from './lib/summary.ts';
import { ensureTools, MissingToolsError, toolVersions, type Tools } from './lib/tools.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';
import { REPO_ROOT, ROWS, SLUICE_ROW, startNginx, type BenchEnv, type RowDef } from './peers/index.ts';
import { SLUICE_HOST, SLUICE_PATH } from './peers/sluice-config.ts';

/** The one request every row serves: Sluice routes it through its table to the weighted `/api/orders` entry. */
const REQUEST_HEADERS: Record<string, string> = {
  Host: SLUICE_HOST,
  'User-Agent': 'wrk',
  Accept: '*/*',
  'X-Tenant': 'acme',
};
const WRK_HEADERS = Object.entries(REQUEST_HEADERS).map(([k, v]) => `${k}: ${v}`);
const NPM_PEERS = [
  'undici',
  'http-proxy',
  'fastify',
  '@fastify/http-proxy',
  '@fastify/reply-from',
  'fast-gateway',
  'fast-proxy-lite',
  'restana',
];

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

interface Ctx {
  opts: BenchOptions;
  env: BenchEnv;
  tools: Tools;
  loadCpus: string | null;
  logDir: string;
}

function wrk(ctx: Ctx, tag: string, connections: number, seconds: number, port: number): Promise<WrkResult> {
  return runWrk({
    wrk: ctx.tools.wrk,
    url: `http://127.0.0.1:${port}${SLUICE_PATH}`,
    headers: WRK_HEADERS,
    threads: connections === 1 ? 1 : 2,
    connections,
    seconds,
    logFile: join(ctx.logDir, `wrk-${tag}.log`),
    cpus: ctx.loadCpus,
  });
}

/** Starts a row's proxy and waits until it serves; the caller stops it. */
async function startServing(row: RowDef, env: BenchEnv): Promise<{ port: number; proc: Started; owned: boolean }> {
  const p = await row.start(env);
  let alive = true;
  void p.proc.exited.then(() => (alive = false));
  try {
    await waitServing(p.port, SLUICE_PATH, REQUEST_HEADERS, 60_000, () => alive);
  } catch (err) {
    if (p.owned) await stopGroup(p.proc);
    throw new Error(`${row.id}: ${(err as Error).message}; log: ${p.proc.logFile}`);
  }
  return p;
}

async function measureRow(ctx: Ctx, row: RowDef, round: number): Promise<RunRecord> {
  const { opts } = ctx;
  const p = await startServing(row, ctx.env);
  try {
    const rss = new RssSampler(p.proc.pid).start();
    const groups = p.owned ? [p.proc.pid, ctx.env.origin.pid] : [p.proc.pid];
    const quiet = await waitQuiet(groups, opts.rowQuietWait);
    if (!quiet.quiet) log(`  machine busy (others ${quiet.otherPct.toFixed(0)} % of a core); measuring anyway`);
    const tag = `${row.id}-r${round}`;
    await wrk(ctx, `${tag}-warmup`, 64, opts.warmup, p.port);
    const a = snapshot(groups);
    const w = await wrk(ctx, `${tag}-c64`, 64, opts.duration, p.port);
    const use = cpuBetween(a, snapshot(groups));
    const w1 = await wrk(ctx, `${tag}-c1`, 1, opts.oneConnDuration, p.port);
    const r = rss.stop();
    if (p.owned && p.proc.child.exitCode !== null) throw new Error(`${row.id} exited during the run`);
    const cpu = cpuRecord(use, !p.owned);
    const proxyCpuS = (cpu.proxyPct / 100) * use.seconds;
    return {
      row: row.id,
      round,
      at: new Date().toISOString(),
      rps: w.rps,
      requests: w.requests,
      errors: w.errors,
      errorCount: w.errorCount,
      latency64: latencyMs(w.latencyUs),
      rps1: w1.rps,
      latency1: latencyMs(w1.latencyUs),
      errorCount1: w1.errorCount,
      cpu,
      cpuUsPerRequest: w.requests > 0 ? (proxyCpuS / w.requests) * 1e6 : NaN,
      rss: r,
      quietBefore: quiet,
      disturbed: cpu.otherPct > DISTURBED_OTHER_PCT,
    };
  } finally {
    if (p.owned) await stopGroup(p.proc);
  }
}

function npmVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of NPM_PEERS) {
    try {
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      };
      out[name] = pkg.version;
    } catch {
      out[name] = 'missing';
    }
  }
  return out;
}

/** Which Sluice was measured: a commit, and whether the working tree's src/ differed from it. */
function sluiceRevision(ref: string | null): string {
  const git = (args: string[]): string => {
    const r = spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  const commit = git(['rev-parse', '--short', ref ?? 'HEAD']) || 'unknown';
  if (ref !== null) return commit;
  return git(['status', '--porcelain', '--', 'src']) === '' ? commit : `${commit} + uncommitted changes in src/`;
}

function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
  };
}

async function runTable(ctx: Ctx, rows: readonly RowDef[], startQuiet: QuietResult): Promise<number> {
  const { opts } = ctx;
  const runs: RunRecord[] = [];
  const failures: string[] = [];
  const perRow = opts.warmup + opts.duration + opts.oneConnDuration + 3;
  log(
    `${rows.length} rows × ${opts.rounds} rounds, ~${perRow} s each: about ${Math.ceil((rows.length * opts.rounds * perRow) / 60)} min`,
  );
  const passes = opts.rounds + opts.retryDisturbed;
  for (let round = 1; round <= passes; round++) {
    // Rotating order: no row is always first (or always right after the same one).
    let order = rows.map((_, i) => rows[(i + round - 1) % rows.length]);
    if (round > opts.rounds) {
      // --retry-disturbed: only the rows without an undisturbed run so far.
      order = order.filter((row) => !runs.some((r) => r.row === row.id && !r.disturbed));
      if (order.length === 0) break;
      log(`extra pass ${round - opts.rounds} for ${order.map((r) => r.id).join(', ')} (all their runs were disturbed)`);
    }
    for (const row of order) {
      try {
        const r = await measureRow(ctx, row, round);
        runs.push(r);
        log(
          `round ${round} ${row.id.padEnd(16)} ${fmtInt(r.rps).padStart(7)} req/s  p99 ${r.latency64.p99.toFixed(2)} ms  ` +
            `1-conn p50 ${r.latency1.p50.toFixed(2)} ms  RSS ${(r.rss.totalBytes / 2 ** 20).toFixed(0)} MiB  ` +
            `proxy ${r.cpu.proxyPct.toFixed(0)} %  others ${r.cpu.otherPct.toFixed(0)} %${r.disturbed ? ' (disturbed)' : ''}` +
            `${r.errorCount + r.errorCount1 > 0 ? `  ERRORS ${r.errorCount + r.errorCount1}` : ''}`,
        );
      } catch (err) {
        failures.push(`round ${round} ${row.id}: ${(err as Error).message}`);
        log(`round ${round} ${row.id} FAILED: ${(err as Error).message}`);
      }
    }
  }
  const summaries: RowSummary[] = [];
  for (const row of rows) {
    const rr = runs.filter((r) => r.row === row.id);
    if (rr.length > 0) summaries.push(summarizeRow(row.id, row.label, row.group, rr));
  }
  const targets = checkTargets(summaries);
  const versions = { sluice: sluiceRevision(opts.ref), ...toolVersions(ctx.tools), ...npmVersions() };
  const m = machine();
  const header =
    `Sluice ${versions.sluice} bench ${new Date().toISOString()}: ${m.nproc} × ${m.cpu}, Node ${process.version}, ` +
    `${opts.rounds} round(s) × ${opts.duration} s at 64 connections + ${opts.oneConnDuration} s at 1 connection` +
    `${opts.quick ? ' (--quick)' : ''}, ${ctx.env.build.mode === 'build' ? 'tsc build' : 'tsx'}` +
    `${opts.ref === null ? '' : ` of ${opts.ref}`}` +
    `${opts.sluiceNodeFlags.length === 0 ? '' : `, Sluice with ${opts.sluiceNodeFlags.join(' ')}`}, ` +
    `${opts.pin ? 'pinned' : 'not pinned'}; others used ${startQuiet.otherPct.toFixed(0)} % of a core at start`;
  const text = [header, '', resultTable(summaries), '', ratiosText(summaries), '', targetsText(targets)];
  if (failures.length > 0) text.push('', 'Failures:', ...failures.map((f) => `  ${f}`));
  process.stdout.write(`${text.join('\n')}\n`);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(
    opts.out,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        machine: m,
        versions,
        options: { ...opts, build: ctx.env.build.mode },
        request: { path: SLUICE_PATH, headers: REQUEST_HEADERS },
        startQuiet,
        rows: summaries,
        targets,
        runs,
        failures,
      },
      null,
      2,
    ) + '\n',
  );
  log(`results written to ${opts.out}`);
  return failures.length > 0 ? 1 : 0;
}

/**
 * `--profile`: a Node row (Sluice by default, or those given with --rows)
 * under --cpu-prof at 64 connections, then where its workers' CPU went.
 */
async function runProfile(ctx: Ctx, rows: readonly RowDef[]): Promise<number> {
  const all: Record<string, unknown> = {};
  for (const row of rows) {
    const dir = join(ctx.env.tmp, 'profile', row.id);
    mkdirSync(dir, { recursive: true });
    const env: BenchEnv = { ...ctx.env, extraNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] };
    const p = await startServing(row, env);
    let w: WrkResult;
    let use: CpuUse;
    // The measured run on the profiles' clock (process.hrtime, µs): start-up and warm-up are left out.
    let from = 0;
    let to = 0;
    try {
      await wrk(ctx, `profile-${row.id}-warmup`, 64, ctx.opts.warmup, p.port);
      const a = snapshot([p.proc.pid]);
      from = Number(process.hrtime.bigint() / 1000n);
      w = await wrk(ctx, `profile-${row.id}`, 64, ctx.opts.duration, p.port);
      to = Number(process.hrtime.bigint() / 1000n);
      use = cpuBetween(a, snapshot([p.proc.pid]));
    } finally {
      // TERM: the workers exit(0), which is when node writes the profiles.
      await stopGroup(p.proc, 20_000);
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile; the primary is the group leader.
    const workers = files.filter((f) => f.split('.')[3] !== String(p.proc.pid)).map((f) => join(dir, f));
    if (workers.length === 0) throw new Error(`${row.id}: no worker profile written in ${dir}`);
    const summary = summarizeProfiles(workers, [REPO_ROOT, join(ctx.env.tmp, 'build'), join(ctx.env.tmp, 'ref')], {
      fromUs: from,
      toUs: to,
      requests: w.requests,
    });
    const cpu = use.groupPct[0];
    const sys = use.groupSysPct[0];
    process.stdout.write(
      `${row.label} under --cpu-prof: ${fmtInt(w.rps)} req/s at 64 connections for ${ctx.opts.duration} s ` +
        `(profiling slows it down); ${workers.length} worker profiles\n` +
        `From /proc over the same run: ${cpu.toFixed(0)} % of a core, ${((sys / cpu) * 100).toFixed(0)} % of it in the ` +
        `kernel, ${(((cpu / 100) * use.seconds * 1e6) / w.requests).toFixed(1)} µs per request; others used ` +
        `${use.otherPct.toFixed(0)} % of a core\n\n${profileText(summary)}\n\n`,
    );
    all[row.id] = { rps: w.rps, cpuPct: cpu, sysPct: sys, otherPct: use.otherPct, summary };
  }
  const out = join(dirname(ctx.opts.out), 'profile-latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ generatedAt: new Date().toISOString(), rows: all }, null, 2) + '\n');
  log(`profile summary written to ${out}${ctx.opts.keepTmp ? '' : ' (--keep-tmp keeps the .cpuprofile files)'}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions | null;
  try {
    opts = parseOptions(argv, join(REPO_ROOT, 'bench', 'results', 'latest.json'));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.platform !== 'linux') {
    process.stderr.write('bench: Linux only (it reads /proc and uses setsid/taskset)\n');
    return 1;
  }
  const unknown = opts.rows.filter((id) => !ROWS.some((r) => r.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown row(s) ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.id).join(', ')}\n`);
    return 2;
  }
  if (opts.profile && opts.rows.some((id) => ROWS.find((r) => r.id === id)?.node !== true)) {
    process.stderr.write('bench: --profile works on the Node.js rows only (sluice-w2 and the Node peers)\n');
    return 2;
  }
  let tmp: string | null = null;
  installCleanup(() => {
    // Ctrl-C: the groups are killed by installCleanup; the temp dir goes too.
    if (tmp !== null && !opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  });
  let tools: Tools;
  try {
    tools = ensureTools(log);
  } catch (err) {
    if (err instanceof MissingToolsError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  tmp = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  let origin: Started | null = null;
  try {
    const n = availableParallelism();
    const pin = opts.pin && n >= 2;
    const loadCpus = pin ? '0' : null;
    const proxyCpus = pin ? (n === 2 ? '1' : `1-${n - 1}`) : null;
    let build: NodeBuild;
    if (opts.tsx) {
      build = fromSource(REPO_ROOT);
    } else {
      const root = opts.ref === null ? REPO_ROOT : checkoutRef(REPO_ROOT, tmp, opts.ref);
      log(`compiling Sluice${opts.ref === null ? '' : ` at ${opts.ref}`} and the Node peers (tsc) into the temp dir`);
      build = buildForBench(REPO_ROOT, tmp, log, root);
    }
    const originPort = await freePort();
    origin = startNginx({ tools, tmp }, 'origin', 'origin.nginx.conf', { PORT: originPort }, loadCpus);
    let originAlive = true;
    void origin.exited.then(() => (originAlive = false));
    await waitServing(originPort, SLUICE_PATH, REQUEST_HEADERS, 10_000, () => originAlive);
    const logDir = join(tmp, 'logs');
    mkdirSync(logDir);
    const env: BenchEnv = {
      tools,
      tmp,
      originPort,
      origin,
      proxyCpus,
      build,
      extraNodeFlags: [],
      sluiceNodeFlags: opts.sluiceNodeFlags,
    };
    const ctx: Ctx = { opts, env, tools, loadCpus, logDir };
    log(`origin (nginx, 1 worker) on 127.0.0.1:${originPort}; waiting up to ${opts.quietWait} s for a quiet machine`);
    const q = await waitQuiet([origin.pid], opts.quietWait);
    log(
      q.quiet
        ? `quiet after ${q.waitedS.toFixed(0)} s`
        : `machine still busy after ${q.waitedS.toFixed(0)} s (others ${q.otherPct.toFixed(0)} % of a core); going on, runs are marked`,
    );
    const rows = opts.rows.length === 0 ? ROWS : ROWS.filter((r) => opts.rows.includes(r.id));
    if (opts.profile) return await runProfile(ctx, opts.rows.length === 0 ? [SLUICE_ROW] : rows);
    return await runTable(ctx, rows, q);
  } finally {
    if (origin !== null) await stopGroup(origin);
    if (opts.keepTmp) log(`temp dir kept: ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`bench: ${err.message}\n`);
    else process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
