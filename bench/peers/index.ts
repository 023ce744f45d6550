/**
 * The rows of the bench: how each proxy is started. Every proxy listens on
 * a free port picked at run time and forwards to the same origin (nginx, 1
 * worker) with upstream keep-alive; the gRPC rows to the gRPC origin.
 * Config files are rendered from the templates beside this file into the
 * run's temp dir; nginx and HAProxy run as the current user with everything
 * (pid, logs, temp files) in that dir.
 *
 * Rows are grouped in sections (lib/load.ts): each section has its own load
 * (wrk over HTTP/1.1, TLS, TLS with a connection per request; h2load over
 * h2c, gRPC) and its own NGINX and HAProxy rows, doing the same work as
 * Sluice's row of that section, to compare with.
 */
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCert } from '../lib/certs.ts';
import type { Section } from '../lib/load.ts';
import { freePort } from '../lib/ports.ts';
import { startGroup, type Started } from '../lib/procs.ts';
import type { NodeBuild } from '../lib/build.ts';
import { render } from '../lib/template.ts';
import type { Tools } from '../lib/tools.ts';
import { writeSluiceConfig } from './sluice-config.ts';
import { writeSluiceGrpcConfig } from './sluice-grpc-config.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchEnv {
  tools: Tools;
  /** The run's temp dir. */
  tmp: string;
  originPort: number;
  /** The origin's process group (the origin-direct row measures it). */
  origin: Started;
  /** The gRPC origin (started when a gRPC row is to run). */
  grpcOrigin: { port: number; proc: Started } | null;
  /** The TLS rows' certificate (made when a TLS row is to run). */
  cert: BenchCert | null;
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
  /** The origin this row forwards to (its CPU is accounted apart). */
  upstream: Started;
}

export type RowGroup = 'origin' | 'reference' | 'sluice' | 'ceiling' | 'library';

export interface RowDef {
  id: string;
  label: string;
  group: RowGroup;
  section: Section;
  /** A Node.js process tree (can be profiled with --cpu-prof). */
  node: boolean;
  /** Measured only when named in --rows (not by default, nor by its section's name). */
  optional?: boolean;
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

function needCert(env: BenchEnv): BenchCert {
  if (env.cert === null) throw new Error('no certificate made for the TLS rows');
  return env.cert;
}

/** The origin of a section: the gRPC origin for gRPC, the HTTP one otherwise. */
function upstreamOf(env: BenchEnv, section: Section): { port: number; proc: Started } {
  if (section !== 'grpc') return { port: env.originPort, proc: env.origin };
  if (env.grpcOrigin === null) throw new Error('the gRPC origin is not running');
  return env.grpcOrigin;
}

const SECTION_SUFFIX: Record<Section, string> = {
  http1: '',
  https: ', TLS',
  'https-close': ', TLS, connection per request',
  h2c: ', h2c',
  grpc: ', gRPC',
};

/** NGINX with `workers` workers; the config template depends on the section. */
function nginxRow(id: string, section: Section, workers = 2): RowDef {
  const template: Record<Section, string> = {
    http1: 'nginx.conf',
    https: 'nginx-tls.conf',
    'https-close': 'nginx-tls.conf',
    h2c: 'nginx-h2c.conf',
    grpc: 'nginx-grpc.conf',
  };
  return {
    id,
    label: `NGINX (${workers} workers${SECTION_SUFFIX[section]})`,
    group: 'reference',
    section,
    node: false,
    async start(env) {
      const port = await freePort();
      const up = upstreamOf(env, section);
      const tls = section === 'https' || section === 'https-close' ? needCert(env) : null;
      const proc = startNginx(
        env,
        id,
        template[section],
        {
          PORT: port,
          ORIGIN_PORT: up.port,
          WORKERS: workers,
          ...(tls === null ? {} : { CERT: tls.certFile, KEY: tls.keyFile }),
        },
        env.proxyCpus,
      );
      return { port, proc, owned: true, upstream: up.proc };
    },
  };
}

/** HAProxy with `threads` threads; one template, with bind/server options per section. */
function haproxyRow(id: string, section: Section, threads = 2): RowDef {
  return {
    id,
    label: `HAProxy (${threads} threads${SECTION_SUFFIX[section]})`,
    group: 'reference',
    section,
    node: false,
    async start(env) {
      const port = await freePort();
      const up = upstreamOf(env, section);
      const dir = join(env.tmp, id);
      mkdirSync(dir, { recursive: true });
      const cfg = join(dir, 'haproxy.cfg');
      const bind =
        section === 'https' || section === 'https-close'
          ? ` ssl crt ${needCert(env).pemFile} alpn http/1.1`
          : section === 'h2c' || section === 'grpc'
            ? ' proto h2'
            : '';
      render(join(HERE, 'haproxy.cfg'), cfg, {
        PORT: port,
        ORIGIN_PORT: up.port,
        THREADS: threads,
        PREFIX: dir,
        BIND_OPTIONS: bind,
        SERVER_OPTIONS: section === 'grpc' ? ' proto h2' : '',
        REUSE: section === 'https-close' ? 'always' : 'safe',
      });
      const proc = startGroup({
        name: id,
        cmd: env.tools.haproxy,
        args: ['-db', '-f', cfg],
        logFile: join(dir, 'stdout.log'),
        cpus: env.proxyCpus,
      });
      return { port, proc, owned: true, upstream: up.proc };
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
    section: 'http1',
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
      return { port, proc, owned: true, upstream: env.origin };
    },
  };
}

/**
 * Sluice's observability: as deployed by default (metrics on, text access
 * log on stdout, sent to a file), or off (SLUICE_METRICS=off,
 * --access-log off) as the peers run (no access log).
 */
interface SluiceVariant {
  metrics: boolean;
  accessLog: boolean;
}

const OBS_OFF: SluiceVariant = { metrics: false, accessLog: false };

/** Sluice, `serve --workers 2`; the configuration depends on the section (50 routes, or the GRPCRoute). */
function sluiceRow(id: string, label: string, section: Section, v: SluiceVariant = OBS_OFF, optional = false): RowDef {
  return {
    id,
    label,
    group: 'sluice',
    section,
    node: true,
    ...(optional ? { optional } : {}),
    async start(env) {
      const port = await freePort();
      const admin = await freePort();
      const dir = join(env.tmp, id);
      const config = join(dir, 'config');
      const up = upstreamOf(env, section);
      if (section === 'grpc') writeSluiceGrpcConfig(config, port, up.port);
      else writeSluiceConfig(config, port, up.port, section.startsWith('https') ? needCert(env) : null);
      const proc = startGroup({
        name: id,
        cmd: process.execPath,
        args: [
          ...env.extraNodeFlags,
          ...env.sluiceNodeFlags,
          ...env.build.nodeFlags,
          env.build.sluiceMain,
          'serve',
          '--config',
          config,
          '--workers',
          '2',
          '--admin',
          `127.0.0.1:${admin}`,
          '--bind',
          '127.0.0.1',
          '--log-level',
          'warn',
          '--access-log',
          v.accessLog ? 'text' : 'off',
        ],
        cwd: REPO_ROOT,
        env: { ...process.env, SLUICE_METRICS: v.metrics ? 'on' : 'off' },
        // The access log is Sluice's stdout: into a file of its own (a write per event-loop turn, page cache).
        logFile: join(dir, 'stderr.log'),
        stdoutFile: join(dir, v.accessLog ? 'access.log' : 'stdout.log'),
        cpus: env.proxyCpus,
      });
      return { port, proc, owned: true, upstream: up.proc };
    },
  };
}

export const SLUICE_ROW = sluiceRow('sluice-w2', 'Sluice (2 workers, 50 routes)', 'http1');
/** Issue 5: the main row with metrics and the text access log on; compared with sluice-w2 (both off). */
export const SLUICE_OBS_ROW = sluiceRow('sluice-w2-obs', 'Sluice, metrics + text access log on', 'http1', {
  metrics: true,
  accessLog: true,
});

export const ORIGIN_ROW: RowDef = {
  id: 'origin',
  label: 'origin direct (no proxy)',
  group: 'origin',
  section: 'http1',
  node: false,
  start(env) {
    return Promise.resolve({ port: env.originPort, proc: env.origin, owned: false, upstream: env.origin });
  },
};

/** Every row, in the order the table prints them. */
export const ROWS: readonly RowDef[] = [
  ORIGIN_ROW,
  nginxRow('nginx-w2', 'http1'),
  haproxyRow('haproxy-t2', 'http1'),
  SLUICE_ROW,
  SLUICE_OBS_ROW,
  nodeRow('undici-w2', 'bare undici proxy (2 workers, ceiling)', 'ceiling', 'undici-proxy'),
  nodeRow('http-proxy-w2', 'http-proxy (2 workers)', 'library', 'http-proxy'),
  nodeRow('fastify-w2', 'fastify + @fastify/http-proxy (2 workers)', 'library', 'fastify-proxy'),
  nodeRow('fast-gateway-w2', 'fast-gateway (2 workers)', 'library', 'fast-gateway'),
  nginxRow('nginx-tls', 'https'),
  haproxyRow('haproxy-tls', 'https'),
  sluiceRow('sluice-tls', 'Sluice (2 workers, 50 routes, TLS)', 'https'),
  nginxRow('nginx-tls-close', 'https-close'),
  haproxyRow('haproxy-tls-close', 'https-close'),
  sluiceRow('sluice-tls-close', 'Sluice (2 workers, 50 routes, TLS, connection per request)', 'https-close'),
  nginxRow('nginx-h2c', 'h2c'),
  haproxyRow('haproxy-h2c', 'h2c'),
  sluiceRow('sluice-h2c', 'Sluice (2 workers, 50 routes, h2c)', 'h2c'),
  nginxRow('nginx-grpc', 'grpc'),
  haproxyRow('haproxy-grpc', 'grpc'),
  sluiceRow('sluice-grpc', 'Sluice (2 workers, GRPCRoute)', 'grpc'),
  // Only when named in --rows: which half of the observability cost is which.
  sluiceRow(
    'sluice-w2-metrics',
    'Sluice, metrics on, access log off',
    'http1',
    { metrics: true, accessLog: false },
    true,
  ),
  sluiceRow(
    'sluice-w2-log',
    'Sluice, metrics off, text access log on',
    'http1',
    { metrics: false, accessLog: true },
    true,
  ),
];
