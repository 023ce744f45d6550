/**
 * The rows of the bench: how each proxy is started. Every proxy listens on
 * a free port picked at run time and forwards to the same origin (nginx, 1
 * worker) with upstream keep-alive. Config files are rendered from the
 * templates beside this file into the run's temp dir; nginx and HAProxy run
 * as the current user with everything (pid, logs, temp files) in that dir.
 */
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/ports.ts';
import { startGroup, type Started } from '../lib/procs.ts';
import type { NodeBuild } from '../lib/build.ts';
import { render } from '../lib/template.ts';
import type { Tools } from '../lib/tools.ts';
import { writeSluiceConfig } from './sluice-config.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchEnv {
  tools: Tools;
  /** The run's temp dir. */
  tmp: string;
  originPort: number;
  /** The origin's process group (the origin-direct row measures it). */
  origin: Started;
  /** `taskset -c` list for proxies, or null (not pinned). */
  proxyCpus: string | null;
  /** Where the Node rows' code is (a tsc build, or the sources under tsx). */
  build: NodeBuild;
  /** Extra node flags for Sluice and the Node peers (`--cpu-prof ...` when profiling). */
  extraNodeFlags: readonly string[];
  /** Extra node flags for Sluice alone (`--sluice-node-flags`). */
  sluiceNodeFlags: readonly string[];
}

export interface RunningProxy {
  port: number;
  proc: Started;
  /** False for the origin-direct row: the origin outlives the row. */
  owned: boolean;
}

export type RowGroup = 'origin' | 'reference' | 'sluice' | 'ceiling' | 'library';

export interface RowDef {
  id: string;
  label: string;
  group: RowGroup;
  /** A Node.js process tree (can be profiled with --cpu-prof). */
  node: boolean;
  start(env: BenchEnv): Promise<RunningProxy>;
}

/** nginx's `user` directive only matters (and is only allowed quietly) when the master runs as root. */
function nginxUser(): string {
  return process.getuid?.() === 0 ? `user ${userInfo().username};` : '';
}

/** Renders an nginx config into `<tmp>/<name>/` and starts `nginx -p prefix -c conf -g 'daemon off;'`. */
export function startNginx(
  env: Pick<BenchEnv, 'tools' | 'tmp'>,
  name: string,
  template: string,
  values: Record<string, string | number>,
  cpus: string | null,
): Started {
  const prefix = join(env.tmp, name);
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  render(join(HERE, template), conf, { ...values, PREFIX: prefix, USER: nginxUser() });
  return startGroup({
    name,
    cmd: env.tools.nginx,
    args: ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log'), '-g', 'daemon off;'],
    logFile: join(prefix, 'stdout.log'),
    cpus,
  });
}

function nginxRow(workers: number): RowDef {
  return {
    id: `nginx-w${workers}`,
    label: `NGINX (${workers} workers)`,
    group: 'reference',
    node: false,
    async start(env) {
      const port = await freePort();
      const proc = startNginx(
        env,
        `nginx-w${workers}`,
        'nginx.conf',
        { PORT: port, ORIGIN_PORT: env.originPort, WORKERS: workers },
        env.proxyCpus,
      );
      return { port, proc, owned: true };
    },
  };
}

function haproxyRow(threads: number): RowDef {
  return {
    id: `haproxy-t${threads}`,
    label: `HAProxy (${threads} threads)`,
    group: 'reference',
    node: false,
    async start(env) {
      const port = await freePort();
      const dir = join(env.tmp, `haproxy-t${threads}`);
      mkdirSync(dir, { recursive: true });
      const cfg = join(dir, 'haproxy.cfg');
      render(join(HERE, 'haproxy.cfg'), cfg, {
        PORT: port,
        ORIGIN_PORT: env.originPort,
        THREADS: threads,
        PREFIX: dir,
      });
      const proc = startGroup({
        name: `haproxy-t${threads}`,
        cmd: env.tools.haproxy,
        args: ['-db', '-f', cfg],
        logFile: join(dir, 'stdout.log'),
        cpus: env.proxyCpus,
      });
      return { port, proc, owned: true };
    },
  };
}

/** A Node peer from `node/`, in WORKERS cluster workers behind `node/cluster.ts`. */
function nodeRow(id: string, label: string, group: RowGroup, module: string, workers = 2): RowDef {
  const entry = (env: BenchEnv, name: string): string => join(env.build.peersDir, name + env.build.ext);
  return {
    id,
    label,
    group,
    node: true,
    async start(env) {
      const port = await freePort();
      const dir = join(env.tmp, id);
      mkdirSync(dir, { recursive: true });
      const proc = startGroup({
        name: id,
        cmd: process.execPath,
        args: [...env.extraNodeFlags, ...env.build.nodeFlags, entry(env, 'cluster'), entry(env, module)],
        cwd: REPO_ROOT,
        env: { ...process.env, PORT: String(port), ORIGIN_PORT: String(env.originPort), WORKERS: String(workers) },
        logFile: join(dir, 'stdout.log'),
        cpus: env.proxyCpus,
      });
      return { port, proc, owned: true };
    },
  };
}

export const SLUICE_ROW: RowDef = {
  id: 'sluice-w2',
  label: 'Sluice (2 workers, 50 routes)',
  group: 'sluice',
  node: true,
  async start(env) {
    const port = await freePort();
    const admin = await freePort();
    const dir = join(env.tmp, 'sluice');
    writeSluiceConfig(join(dir, 'config'), port, env.originPort);
    const proc = startGroup({
      name: 'sluice',
      cmd: process.execPath,
      args: [
        ...env.extraNodeFlags,
        ...env.sluiceNodeFlags,
        ...env.build.nodeFlags,
        env.build.sluiceMain,
        'serve',
        '--config',
        join(dir, 'config'),
        '--workers',
        '2',
        '--admin',
        `127.0.0.1:${admin}`,
        '--bind',
        '127.0.0.1',
        '--log-level',
        'warn',
      ],
      cwd: REPO_ROOT,
      logFile: join(dir, 'stdout.log'),
      cpus: env.proxyCpus,
    });
    return { port, proc, owned: true };
  },
};

export const ORIGIN_ROW: RowDef = {
  id: 'origin',
  label: 'origin direct (no proxy)',
  group: 'origin',
  node: false,
  start(env) {
    return Promise.resolve({ port: env.originPort, proc: env.origin, owned: false });
  },
};

/** Every row, in the order the table prints them. */
export const ROWS: readonly RowDef[] = [
  ORIGIN_ROW,
  nginxRow(2),
  haproxyRow(2),
  SLUICE_ROW,
  nodeRow('undici-w2', 'bare undici proxy (2 workers, ceiling)', 'ceiling', 'undici-proxy'),
  nodeRow('http-proxy-w2', 'http-proxy (2 workers)', 'library', 'http-proxy'),
  nodeRow('fastify-w2', 'fastify + @fastify/http-proxy (2 workers)', 'library', 'fastify-proxy'),
  nodeRow('fast-gateway-w2', 'fast-gateway (2 workers)', 'library', 'fast-gateway'),
];
