/**
 * `npm run bench`: Sluice against NGINX, HAProxy, a bare undici proxy and
 * the Node.js proxy libraries, all proxying the same origin over loopback
 * in the same run; then Sluice against NGINX and HAProxy over TLS (keep-alive
 * and a connection per request), h2c and gRPC, and Sluice with its metrics
 * and access log on. See bench/README.md for the method; `--help` for flags.
 *
 * For each round, each row in rotating order: start the proxy (own process
 * group, free port), wait until it answers its section's request correctly,
 * wait (bounded) for a quiet machine, warm up, measure at 64 in flight (CPU
 * accounted from /proc), then at 1 connection, sample RSS throughout, stop
 * the proxy. Prints a table per section, ratios and targets; writes
 * bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { buildForBench, checkoutRef, fromSource, type NodeBuild } from './lib/build.ts';
import { profileText, summarizeProfiles } from './lib/cpuprofile.ts';
import { makeCert } from './lib/certs.ts';
import { countAccepted, type AcceptCount } from './lib/conn-count.ts';
import { waitServing } from './lib/http-check.ts';
import { runLoad, SECTIONS, type LoadSpec, type Section } from './lib/load.ts';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './lib/options.ts';
import { freePort } from './lib/ports.ts';
import { RssSampler } from './lib/proc-stats.ts';
import { installCleanup, stopGroup, type Started } from './lib/procs.ts';
import { cpuBetween, DISTURBED_OTHER_PCT, snapshot, waitQuiet, type CpuUse, type QuietResult } from './lib/quiet.ts';
import { observabilityText, ratiosText, sectionsText, targetsText } from './lib/report.ts';
import { probeOnce, waitReady } from './lib/probe.ts';
import {
  checkObservability,
  checkTargets,
  cpuRecord,
  fmtInt,
  latencyMs,
  summarizeRow,
  type RowSummary,
  type RunRecord,
} from './lib/summary.ts';
import { ensureTools, MissingToolsError, toolVersions, type Tools } from './lib/tools.ts';
import type { WrkResult } from './lib/wrk.ts';
import { GRPC_PATH, GRPC_REQUEST, writeGrpcFiles } from './peers/grpc-origin.ts';
import { REPO_ROOT, ROWS, SLUICE_ROW, startNginx, type BenchEnv, type RowDef } from './peers/index.ts';
import { SLUICE_HOST, SLUICE_PATH } from './peers/sluice-config.ts';

/** The one request every row serves: Sluice routes it through its table to the weighted `/api/orders` entry. */
const REQUEST_HEADERS: Record<string, string> = {
  Host: SLUICE_HOST,
  'User-Agent': 'wrk',
  Accept: '*/*',
  'X-Tenant': 'acme',
};
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
  spec: LoadSpec;
  logDir: string;
}

function load(
  ctx: Ctx,
  section: Section,
  tag: string,
  concurrency: 64 | 1,
  seconds: number,
  port: number,
): Promise<WrkResult> {
  const tool = section === 'h2c' || section === 'grpc' ? 'h2load' : 'wrk';
  return runLoad(ctx.spec, section, port, concurrency, seconds, join(ctx.logDir, `${tool}-${tag}.log`));
}

/** Starts a row's proxy and waits until it serves its section's request; the caller stops it. */
async function startServing(
  row: RowDef,
  ctx: Ctx,
  env: BenchEnv = ctx.env,
): Promise<{ port: number; proc: Started; owned: boolean; upstream: Started; check: string }> {
  const p = await row.start(env);
  let alive = true;
  void p.proc.exited.then(() => (alive = false));
  try {
    const r = await waitReady(row.section, p.port, ctx.spec, 60_000, () => alive);
    return { ...p, check: r.detail };
  } catch (err) {
    if (p.owned) await stopGroup(p.proc);
    throw new Error(`${row.id}: ${(err as Error).message}; log: ${p.proc.logFile}`);
  }
}

/**
 * The TLS rows: what the kernel says the proxy (and the origin) accepted
 * during the measured run, to check that each request really had its own
 * connection (so its own full TLS handshake: wrk never offers a session to
 * resume) in the connection-per-request rows, and that connections were
 * kept in the keep-alive rows. Up to 64 connections are still open when
 * wrk stops, so "per request" can be a little above 1.
 */
function connectionsText(count: AcceptCount, requests: number, seconds: number): string {
  const per = (n: number): string => (requests > 0 ? (n / requests).toFixed(2) : '–');
  const [before, after] = count.backgroundPerS;
  // Other processes' connections are estimated, not counted: say when they are too many to trust the result.
  const noise = ((before + after) / 2) * seconds;
  // What matters is connections per request (about 1, or about 0 with keep-alive): noise against the requests.
  const base = Math.max(requests, 64);
  const unsure = noise > 0.05 * base || Math.abs(before - after) * seconds > 0.05 * base;
  // The estimate of the others' share can exceed a small count (keep-alive rows).
  const proxy = Math.max(0, count.proxy);
  return (
    `measured run: ${fmtInt(proxy)} connections accepted by the proxy for ${fmtInt(requests)} requests ` +
    `(${per(proxy)} per request), ${fmtInt(count.origin)} new upstream connections (${per(count.origin)} per request); ` +
    `other processes' ${before.toFixed(0)}/s before and ${after.toFixed(0)}/s after subtracted` +
    `${unsure ? ' (NOT RELIABLE: too many other connections)' : ''}; no session resumption (wrk never offers a session)`
  );
}

async function measureRow(ctx: Ctx, row: RowDef, round: number): Promise<RunRecord> {
  const { opts } = ctx;
  const p = await startServing(row, ctx);
  try {
    const rss = new RssSampler(p.proc.pid).start();
    const groups = p.owned ? [p.proc.pid, p.upstream.pid] : [p.proc.pid];
    const quiet = await waitQuiet(groups, opts.rowQuietWait);
    if (!quiet.quiet) log(`  machine busy (others ${quiet.otherPct.toFixed(0)} % of a core); measuring anyway`);
    const tag = `${row.id}-r${round}`;
    const checks = [p.check];
    await load(ctx, row.section, `${tag}-warmup`, 64, opts.warmup, p.port);
    const measure = async (): Promise<{ w: WrkResult; use: CpuUse }> => {
      const a = snapshot(groups);
      const w = await load(ctx, row.section, `${tag}-c64`, 64, opts.duration, p.port);
      return { w, use: cpuBetween(a, snapshot(groups)) };
    };
    let w: WrkResult;
    let use: CpuUse;
    if (row.section === 'https' || row.section === 'https-close') {
      const counted = await countAccepted(ctx.env.originPort, measure);
      ({ w, use } = counted.result);
      checks.push(connectionsText(counted.count, w.requests, w.durationUs / 1e6));
    } else {
      ({ w, use } = await measure());
    }
    const w1 = await load(ctx, row.section, `${tag}-c1`, 1, opts.oneConnDuration, p.port);
    // Still right after the load (gRPC: the trailers h2load cannot see).
    const after = await probeOnce(row.section, p.port, ctx.spec).catch((err: unknown) => ({
      ok: false,
      detail: (err as Error).message,
    }));
    if (!after.ok) {
      checks.push(`FAILED after the load: ${after.detail}`);
      log(`  ${row.id}: the check failed after the load: ${after.detail}`);
    }
    const r = rss.stop();
    if (p.owned && p.proc.child.exitCode !== null) throw new Error(`${row.id} exited during the run`);
    const cpu = cpuRecord(use, !p.owned);
    const proxyCpuS = (cpu.proxyPct / 100) * use.seconds;
    return {
      row: row.id,
      section: row.section,
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
      checks,
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
    if (rr.length > 0) summaries.push(summarizeRow(row.id, row.label, row.group, row.section, rr));
  }
  const targets = checkTargets(summaries);
  const versions = { sluice: sluiceRevision(opts.ref), ...toolVersions(ctx.tools), ...npmVersions() };
  const m = machine();
  const header =
    `Sluice ${versions.sluice} bench ${new Date().toISOString()}: ${m.nproc} × ${m.cpu}, Node ${process.version}, ` +
    `${opts.rounds} round(s) × ${opts.duration} s at 64 in flight + ${opts.oneConnDuration} s at 1 connection` +
    `${opts.quick ? ' (--quick)' : ''}, ${ctx.env.build.mode === 'build' ? 'tsc build' : 'tsx'}` +
    `${opts.ref === null ? '' : ` of ${opts.ref}`}` +
    `${opts.sluiceNodeFlags.length === 0 ? '' : `, Sluice with ${opts.sluiceNodeFlags.join(' ')}`}, ` +
    `${opts.pin ? 'pinned' : 'not pinned'}; others used ${startQuiet.otherPct.toFixed(0)} % of a core at start`;
  const text = [
    header,
    sectionsText(summaries),
    ratiosText(summaries),
    targetsText(targets),
    observabilityText(summaries),
  ]
    .map((block) => block.trim())
    .filter((block) => block !== '')
    .join('\n\n')
    .split('\n');
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
        observability: checkObservability(summaries),
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
    const p = await startServing(row, ctx, env);
    let w: WrkResult;
    let use: CpuUse;
    // The measured run on the profiles' clock (process.hrtime, µs): start-up and warm-up are left out.
    let from = 0;
    let to = 0;
    try {
      await load(ctx, row.section, `profile-${row.id}-warmup`, 64, ctx.opts.warmup, p.port);
      const a = snapshot([p.proc.pid]);
      from = Number(process.hrtime.bigint() / 1000n);
      w = await load(ctx, row.section, `profile-${row.id}`, 64, ctx.opts.duration, p.port);
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
      `${row.label} under --cpu-prof: ${fmtInt(w.rps)} req/s at 64 in flight for ${ctx.opts.duration} s ` +
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
  const unknown = opts.rows.filter((id) => !ROWS.some((r) => r.id === id) && !SECTIONS.includes(id as Section));
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: unknown row(s) ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.id).join(', ')}; sections: ${SECTIONS.join(', ')}\n`,
    );
    return 2;
  }
  // A section name selects its rows.
  const selected = ROWS.filter((r) =>
    opts.rows.length === 0
      ? r.optional !== true
      : opts.rows.includes(r.id) || (opts.rows.includes(r.section) && r.optional !== true),
  );
  if (opts.profile && opts.rows.length > 0 && selected.some((r) => !r.node)) {
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
  let grpcOriginProc: Started | null = null;
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
    const rows = opts.profile && opts.rows.length === 0 ? [SLUICE_ROW] : selected;
    origin = startNginx({ tools, tmp }, 'origin', 'origin.nginx.conf', { PORT: originPort }, loadCpus);
    let originAlive = true;
    void origin.exited.then(() => (originAlive = false));
    await waitServing(originPort, SLUICE_PATH, REQUEST_HEADERS, 10_000, () => originAlive);
    const grpcFiles = writeGrpcFiles(join(tmp, 'grpc'));
    const spec: LoadSpec = {
      tools,
      cpus: loadCpus,
      path: SLUICE_PATH,
      headers: REQUEST_HEADERS,
      grpcPath: GRPC_PATH,
      grpcRequest: GRPC_REQUEST,
      grpcDataFile: grpcFiles.requestFile,
    };
    let grpcOrigin: BenchEnv['grpcOrigin'] = null;
    if (rows.some((r) => r.section === 'grpc')) {
      const port = await freePort();
      const proc = startNginx(
        { tools, tmp },
        'origin-grpc',
        'origin-grpc.nginx.conf',
        { PORT: port, ROOT: grpcFiles.root },
        loadCpus,
      );
      grpcOrigin = { port, proc };
      grpcOriginProc = proc;
      let grpcAlive = true;
      void proc.exited.then(() => (grpcAlive = false));
      const r = await waitReady('grpc', port, spec, 10_000, () => grpcAlive);
      log(`gRPC origin (nginx, 1 worker, h2c) on 127.0.0.1:${port}: ${r.detail}`);
    }
    const cert = rows.some((r) => r.section.startsWith('https'))
      ? makeCert(tools.openssl, join(tmp, 'tls'), SLUICE_HOST)
      : null;
    const logDir = join(tmp, 'logs');
    mkdirSync(logDir);
    const env: BenchEnv = {
      tools,
      tmp,
      originPort,
      origin,
      grpcOrigin,
      cert,
      proxyCpus,
      build,
      extraNodeFlags: [],
      sluiceNodeFlags: opts.sluiceNodeFlags,
    };
    const ctx: Ctx = { opts, env, tools, spec, logDir };
    log(`origin (nginx, 1 worker) on 127.0.0.1:${originPort}; waiting up to ${opts.quietWait} s for a quiet machine`);
    const q = await waitQuiet(grpcOrigin === null ? [origin.pid] : [origin.pid, grpcOrigin.proc.pid], opts.quietWait);
    log(
      q.quiet
        ? `quiet after ${q.waitedS.toFixed(0)} s`
        : `machine still busy after ${q.waitedS.toFixed(0)} s (others ${q.otherPct.toFixed(0)} % of a core); going on, runs are marked`,
    );
    if (opts.profile) return await runProfile(ctx, rows);
    return await runTable(ctx, rows, q);
  } finally {
    if (origin !== null) await stopGroup(origin);
    if (grpcOriginProc !== null) await stopGroup(grpcOriginProc);
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
