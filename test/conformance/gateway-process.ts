/**
 * The gateway under test: one `sluice serve` child for the whole run,
 * driven only through its config directory (file provider, hot reload)
 * and observed through its admin API.
 *
 * Each configuration goes into a fresh file name with a marker ConfigMap
 * carrying a generation number: a fresh name means the file provider's
 * per-file "last good" rule can never serve an earlier case's objects, and
 * the marker in /api/status tells when the gateway has read this exact
 * configuration. It counts as applied once every worker reports the
 * current data-plane version.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../src/api/object.ts';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import { killChild } from './echo-fleet.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** `sluice` in a child that shuts down when the runner's IPC channel closes. */
const SLUICE = fileURLToPath(new URL('../support/serve-child.ts', import.meta.url));
const MARKER = { namespace: 'default', name: 'sluice-conformance-generation' };
const START_TIMEOUT_MS = 30_000;
const STDERR_TAIL = 60;

export interface GatewayOptions {
  addressPool: string;
  portOffset: number;
  workers: number;
  controllerName: string;
  /** Pass the gateway's JSON log through to stderr. */
  verbose?: boolean;
}

/** Why the last wait for a configuration failed, with the gateway's own view. */
export class ApplyTimeout extends Error {}

export class GatewayProcess {
  readonly admin: string;
  readonly configDir: string;
  readonly #child: ChildProcess;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 2 });
  readonly #stderr: string[];
  #generation = 0;
  #file: string | undefined;

  private constructor(child: ChildProcess, admin: string, configDir: string, stderr: string[]) {
    this.#child = child;
    this.admin = admin;
    this.configDir = configDir;
    this.#stderr = stderr;
  }

  static async start(opts: GatewayOptions): Promise<GatewayProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
    const args = [
      'serve',
      '--config',
      dir,
      '--address-pool',
      opts.addressPool,
      '--port-offset',
      String(opts.portOffset),
      '--workers',
      String(opts.workers),
      '--controller-name',
      opts.controllerName,
      '--admin',
      '127.0.0.1:0',
    ];
    const child = fork(SLUICE, args, {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // stdio pipes were asked for, so both streams exist.
    const childOut = child.stdout!;
    const childErr = child.stderr!;
    const stderr: string[] = [];
    let partial = '';
    childErr.setEncoding('utf8').on('data', (c: string) => {
      if (opts.verbose) process.stderr.write(c);
      const lines = (partial + c).split('\n');
      partial = lines.pop() ?? '';
      stderr.push(...lines);
      if (stderr.length > STDERR_TAIL) stderr.splice(0, stderr.length - STDERR_TAIL);
    });
    let out = '';
    childOut.setEncoding('utf8');
    try {
      const admin = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('sluice serve printed no admin URL')), START_TIMEOUT_MS);
        childOut.on('data', (c: string) => {
          out += c;
          const m = /^admin listening on (http:\/\/\S+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`sluice serve exited (${code ?? signal}):\n${stderr.join('\n')}`));
        });
      });
      // Keep draining stdout (serving lines) so the child never blocks on a full pipe.
      childOut.resume();
      return new GatewayProcess(child, admin, dir, stderr);
    } catch (err) {
      await killChild(child);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  stderrTail(lines = 10): string {
    return this.#stderr.slice(-lines).join('\n');
  }

  /** GET /api/status. */
  status(): Promise<StatusDocument> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.admin}/api/status`, { agent: this.#agent, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`GET /api/status: ${res.statusCode}`));
          try {
            resolve(JSON.parse(body) as StatusDocument);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('GET /api/status timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Replaces the whole configuration with `objects` and waits (bounded)
   * until the gateway has loaded it and every worker serves it. Returns the
   * status document of that configuration.
   */
  async apply(objects: KubeObject[], timeoutMs: number): Promise<StatusDocument> {
    if (this.exited) throw new Error(`sluice serve is not running:\n${this.stderrTail()}`);
    const generation = ++this.#generation;
    const marker = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: MARKER,
      data: { generation: String(generation) },
    };
    // JSON documents are YAML flow documents: no YAML 1.1 ambiguities, and quick to parse.
    const text = [marker, ...objects].map((o) => `---\n${JSON.stringify(stripStatus(o))}\n`).join('');
    const name = `conformance-${generation}.yaml`;
    const tmp = join(this.configDir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    if (this.#file) unlinkSync(join(this.configDir, this.#file));
    renameSync(tmp, join(this.configDir, name));
    this.#file = name;
    return this.#waitFor(generation, timeoutMs);
  }

  async #waitFor(generation: number, timeoutMs: number): Promise<StatusDocument> {
    const deadline = Date.now() + timeoutMs;
    let why = 'no status yet';
    for (;;) {
      if (this.exited) throw new Error(`sluice serve exited:\n${this.stderrTail()}`);
      try {
        const doc = await this.status();
        why = notAppliedReason(doc, generation) ?? '';
        if (!why) return doc;
      } catch (err) {
        why = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new ApplyTimeout(`configuration ${generation} not applied within ${timeoutMs} ms: ${why}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  async stop(): Promise<void> {
    this.#agent.destroy();
    await killChild(this.#child, 5000);
    rmSync(this.configDir, { recursive: true, force: true });
  }

  /** Synchronous last resort at process exit. */
  kill(): void {
    this.#child.kill('SIGKILL');
    rmSync(this.configDir, { recursive: true, force: true });
  }
}

function stripStatus(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  return rest;
}

/** Why `doc` does not show configuration `generation` served by every worker (undefined once it does). */
export function notAppliedReason(doc: StatusDocument, generation: number): string | undefined {
  const marker = doc.resources.find(
    (r) => r.kind === 'ConfigMap' && r.metadata.name === MARKER.name && r.metadata.namespace === MARKER.namespace,
  );
  const seen = (marker as { data?: { generation?: string } } | undefined)?.data?.generation;
  if (seen !== String(generation)) return `gateway shows configuration ${seen ?? 'none'}`;
  const lagging = doc.workers.filter((w) => w.version !== doc.version || w.state !== 'running');
  if (!doc.workers.length) return 'no data-plane worker';
  if (lagging.length)
    return `workers not on v${doc.version}: ${lagging.map((w) => `#${w.slot} ${w.state} v${w.version ?? '-'}`).join(', ')}`;
  return undefined;
}
