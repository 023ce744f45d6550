/**
 * Test helpers for `sluice serve` as a real child process: start it, find
 * its admin URL on stdout, poll until ready (always with a deadline), send
 * requests with a chosen Host header, stop it and get its exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type Agent } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import type { IR } from '../../src/ir/types.ts';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * YAML for a Service in `default` whose only endpoint is a process on
 * 127.0.0.1:`port` (Service port 80, port name `http`), with the
 * EndpointSlice no endpoint controller writes outside Kubernetes. No
 * trailing `---`.
 */
export function loopbackService(name: string, port: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  ports: [{ name: http, port: 80, targetPort: ${port} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: default
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${port}, protocol: TCP }]
endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }]
`;
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `fn` every 25 ms until it returns a truthy value, or throws after `ms` (with the last error seen). */
export async function until<T>(what: string, fn: () => T | Promise<T>, ms = 10_000): Promise<Truthy<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A loopback /28 nobody else in the test run is likely to use: each Gateway gets its own address from it. */
export function randomLoopbackPool(): string {
  const r = (n: number): number => Math.floor(Math.random() * n);
  return `127.${2 + r(250)}.${r(256)}.${16 * r(16)}/28`;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/1.1 request (the Host header is set explicitly, which fetch does not allow). */
export function httpGet(
  url: string,
  opts: { host?: string; agent?: Agent; timeoutMs?: number } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: opts.host ? { host: opts.host } : {}, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

export interface Serve {
  proc: ChildProcess;
  admin: string;
  stdout: () => string;
  stderr: () => string;
  /** GET /api/status. */
  status: () => Promise<StatusDocument>;
  /** GET /api/config. */
  config: () => Promise<IR>;
  waitReady: (ms?: number) => Promise<void>;
  /** Sends `signal` and resolves with the exit code (bounded; SIGKILL after `ms`). */
  stop: (signal?: NodeJS.Signals, ms?: number) => Promise<number | null>;
}

export async function startServe(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Serve> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--admin', '127.0.0.1:0', ...args],
    {
      cwd: root,
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));

  const admin = await until(
    'the admin URL on stdout',
    () => {
      if (done) throw new Error(`sluice serve exited early:\n${out}\n${err}`);
      return /^admin listening on (http:\/\/\S+)$/m.exec(out)?.[1];
    },
    30_000,
  );
  const json = async <T>(path: string): Promise<T> => {
    const r = await httpGet(admin + path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as T;
  };
  return {
    proc,
    admin,
    stdout: () => out,
    stderr: () => err,
    status: () => json<StatusDocument>('/api/status'),
    config: () => json<IR>('/api/config'),
    waitReady: async (ms = 30_000) => {
      await until(
        '/ready',
        async () => {
          if (done) throw new Error(`sluice serve exited:\n${out}\n${err}`);
          return (await httpGet(admin + '/ready')).status === 200;
        },
        ms,
      );
    },
    stop: async (signal = 'SIGTERM', ms = 20_000) => {
      if (!done) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * A copy of examples/quickstart in a temp dir, with the EndpointSlices
 * pointed at `ports` (v1, v2) instead of 9001/9002.
 */
export function quickstartCopy(ports: { v1: number; v2: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-quickstart-'));
  cpSync(join(root, 'examples/quickstart'), dir, { recursive: true });
  const f = join(dir, 'backends.yaml');
  writeFileSync(
    f,
    readFileSync(f, 'utf8')
      .replace(/\b9001\b/g, String(ports.v1))
      .replace(/\b9002\b/g, String(ports.v2)),
  );
  return dir;
}

/** A backend on 127.0.0.1 (ephemeral port) answering `{"version": name, path, host}`. */
export async function startBackend(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    const text = JSON.stringify({ version: name, path: req.url, host: req.headers.host });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * `sluice serve` on a quickstart copy with two real backends, `workers` workers, on an address of its own
 * from a random loopback pool (port offset 10000). Everything is stopped and removed after the test.
 */
export async function serveQuickstart(
  t: { after: (fn: () => Promise<void>) => void },
  workers: number,
): Promise<{ dir: string; serve: Serve }> {
  const [v1, v2] = [await startBackend('v1'), await startBackend('v2')];
  const dir = quickstartCopy({ v1: v1.port, v2: v2.port });
  const serve = await startServe([
    '--config',
    dir,
    '--workers',
    String(workers),
    '--address-pool',
    randomLoopbackPool(),
    '--port-offset',
    '10000',
  ]);
  t.after(async () => {
    await serve.stop('SIGKILL');
    await v1.close();
    await v2.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, serve };
}
