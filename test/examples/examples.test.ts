/**
 * The examples do what their READMEs say. Each README's ```console blocks
 * are run against `sluice serve --config examples/<name> --demo-backends`
 * (on an address of its own from a random loopback pool, ports offset):
 *
 *   $ npm run sluice -- serve --config examples/<name> --demo-backends   the command, exactly
 *   $ curl -s [-H 'K: V']... URL                        prints exactly the next line
 *   $ curl -s -o /dev/null -w '%{http_code}\n' ... URL  prints the status on the next line
 *   $ for i in $(seq N); do curl ...; done | grep -o '"service":"[^"]*"' | sort | uniq -c
 *                                                       the next lines' counts / N are the expected shares,
 *                                                       checked over SAMPLES requests within 4.5 sigma
 *   $ sed -i.bak ... examples/<name>/route.yaml         run on a temp copy (served instead of examples/);
 *                                                       the next claim must hold within a second
 *   $ node -e "...listen(PORT, '127.0.0.1')"            a listener, started before sluice; the lines
 *                                                       under it are what it must print
 *
 * Any other command in a console block fails the test: nothing a README
 * shows goes unchecked. The demo backends listen on the fixed ports of the
 * examples' EndpointSlices (19100-19199, distinct per example, below the
 * ephemeral range), so examples run two at a time and never share a port.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { randomLoopbackPool, root, startServe, until, type Serve } from '../support/serve.ts';

const EXAMPLES = ['canary', 'blue-green', 'ab-testing', 'mirroring', 'header-routing', 'weighted', 'geo-routing'];

/** Requests per split claim. */
const SAMPLES = 400;
/** Tolerance of a share, in standard deviations of a binomial share over SAMPLES (≈7e-6 two-sided per check). */
const SIGMAS = 4.5;
/** What the READMEs promise for an edit to go live. */
const LIVE_WITHIN_MS = 1000;

interface Req {
  /** The README's URL (http://127.0.0.1:PORT/path). */
  url: string;
  headers: Record<string, string>;
  statusOnly: boolean;
}

type Step =
  | { kind: 'serve'; line: string }
  | { kind: 'curl'; line: string; req: Req; expect: string }
  | { kind: 'split'; line: string; req: Req; n: number; shares: Map<string, number> }
  | { kind: 'edit'; line: string }
  | { kind: 'listener'; line: string; script: string; port: number; prints: string[] };

/** Shell words: bare, '...' and "..." (no escapes; the READMEs need none). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m; (m = re.exec(line));) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function parseCurl(command: string): Req {
  const w = words(command);
  assert.equal(w[0], 'curl', command);
  const req: Req = { url: '', headers: {}, statusOnly: false };
  let silent = false;
  let output = '';
  let format = '';
  for (let i = 1; i < w.length; i++) {
    if (w[i] === '-s') silent = true;
    else if (w[i] === '-H') {
      const h = w[++i];
      const colon = h.indexOf(':');
      assert.ok(colon > 0, `a header "Name: value": ${command}`);
      req.headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
    } else if (w[i] === '-o') output = w[++i];
    else if (w[i] === '-w') format = w[++i];
    else if (/^http:\/\//.test(w[i]) && !req.url) req.url = w[i];
    else assert.fail(`curl option the test does not know: ${w[i]} in ${command}`);
  }
  assert.ok(silent && req.url, `curl -s ... URL: ${command}`);
  assert.ok(
    (output === '' && format === '') || (output === '/dev/null' && format === '%{http_code}\\n'),
    `-o /dev/null -w '%{http_code}\\n' together or not at all: ${command}`,
  );
  req.statusOnly = output !== '';
  return req;
}

const SPLIT = /^for i in \$\(seq (\d+)\); do (curl .*); done \| grep -o '"service":"\[\^"\]\*"' \| sort \| uniq -c$/;

/** The steps of a README's console blocks, in order. */
function parseReadme(text: string): Step[] {
  const steps: Step[] = [];
  for (const block of text.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    const lines = block[1].split('\n').filter((l) => l !== '');
    for (let i = 0; i < lines.length; i++) {
      assert.ok(lines[i].startsWith('$ '), `output without a command: ${lines[i]}`);
      const line = lines[i].slice(2);
      const out: string[] = [];
      while (i + 1 < lines.length && !lines[i + 1].startsWith('$ ')) out.push(lines[++i]);
      const split = SPLIT.exec(line);
      if (line.startsWith('npm run ')) {
        assert.deepEqual(out, [], `no output claimed for ${line}`);
        steps.push({ kind: 'serve', line });
      } else if (line.startsWith('curl ')) {
        assert.equal(out.length, 1, `one line of output for ${line}`);
        steps.push({ kind: 'curl', line, req: parseCurl(line), expect: out[0] });
      } else if (split) {
        const n = Number(split[1]);
        const shares = new Map<string, number>();
        for (const o of out) {
          const m = /^ *(\d+) "service":"([^"]+)"$/.exec(o);
          assert.ok(m, `a uniq -c line: ${o}`);
          shares.set(m[2], Number(m[1]) / n);
        }
        const total = [...shares.values()].reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(total - 1) < 1e-9, `the counts add up to ${n}: ${line}`);
        steps.push({ kind: 'split', line, req: parseCurl(split[2]), n, shares });
      } else if (line.startsWith('sed ')) {
        assert.deepEqual(out, [], `no output claimed for ${line}`);
        steps.push({ kind: 'edit', line });
      } else if (line.startsWith('node -e ')) {
        const w = words(line);
        assert.equal(w.length, 3, `node -e "script": ${line}`);
        const port = /\.listen\((\d+), '127\.0\.0\.1'\)/.exec(w[2]);
        assert.ok(port, `the listener's port: ${line}`);
        steps.push({ kind: 'listener', line, script: w[2], port: Number(port[1]), prints: out });
      } else {
        assert.fail(`a README command the test does not know: ${line}`);
      }
    }
  }
  return steps;
}

interface Answer {
  status: number;
  body: string;
}

function get(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** What curl would print. */
function printed(req: Req, a: Answer): string {
  return req.statusOnly ? `${a.status}\n` : a.body;
}

function serviceOf(a: Answer): string {
  assert.equal(a.status, 200, a.body);
  return (JSON.parse(a.body) as { service: string }).service;
}

/** The split claim: each service's share over SAMPLES requests, within SIGMAS binomial deviations. */
async function checkSplit(send: () => Promise<Answer>, shares: Map<string, number>, what: string): Promise<void> {
  const counts = new Map<string, number>();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (sent < SAMPLES) {
        sent++;
        const s = serviceOf(await send());
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
    }),
  );
  for (const s of new Set([...shares.keys(), ...counts.keys()])) {
    const p = shares.get(s) ?? 0;
    const got = (counts.get(s) ?? 0) / SAMPLES;
    const tolerance = SIGMAS * Math.sqrt((p * (1 - p)) / SAMPLES);
    assert.ok(
      Math.abs(got - p) <= tolerance,
      `${what}: ${s} got ${(got * 100).toFixed(1)}% of ${SAMPLES}, expected ${p * 100}% ± ${(tolerance * 100).toFixed(1)}`,
    );
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function waitListening(port: number, exited: () => string | undefined): Promise<true> {
  return until(`a listener on 127.0.0.1:${port}`, () => {
    const why = exited();
    if (why !== undefined) throw new Error(`the README's listener exited: ${why}`);
    return accepts(port);
  });
}

interface Cleanup {
  after: (fn: () => void | Promise<void>) => void;
}

/** Runs a README's steps against its example; returns the serve process for further checks. */
async function runReadme(name: string, t: Cleanup): Promise<Serve> {
  const steps = parseReadme(readFileSync(join(root, 'examples', name, 'README.md'), 'utf8'));
  const serveSteps = steps.filter((s) => s.kind === 'serve');
  assert.deepEqual(
    serveSteps.map((s) => s.line),
    [`npm run sluice -- serve --config examples/${name} --demo-backends`],
  );
  assert.ok(
    steps.some((s) => s.kind === 'curl' || s.kind === 'split'),
    'the README shows what to curl',
  );

  // An example that is edited is served from a copy: examples/ is never modified.
  let dir = join('examples', name);
  if (steps.some((s) => s.kind === 'edit')) {
    dir = mkdtempSync(join(tmpdir(), `sluice-example-${name}-`));
    cpSync(join(root, 'examples', name), dir, { recursive: true });
    const tmp = dir;
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
  }

  // Listeners start first (the README says: before Sluice).
  const listeners: Array<{ step: Extract<Step, { kind: 'listener' }>; output: () => string }> = [];
  for (const step of steps) {
    if (step.kind !== 'listener') continue;
    assert.equal(await accepts(step.port), false, `127.0.0.1:${step.port} is free for the README's listener`);
    const proc = spawn(process.execPath, ['-e', step.script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let exit: string | undefined;
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    proc.once('exit', (code, signal) => (exit = `${code ?? signal} ${err}`));
    t.after(() => {
      if (exit === undefined) proc.kill('SIGKILL');
    });
    await waitListening(step.port, () => exit);
    listeners.push({ step, output: () => out });
  }

  const serve = await startServe([
    '--config',
    dir,
    '--demo-backends',
    '--workers',
    '1',
    '--address-pool',
    randomLoopbackPool(),
    '--port-offset',
    '10000',
  ]);
  t.after(async () => void (await serve.stop('SIGKILL')));
  await serve.waitReady();
  const status = await serve.status();
  assert.deepEqual(status.problems, []);
  for (const r of status.resources.filter((r) => r.kind === 'HTTPRoute')) {
    const parents = (
      r as unknown as { status: { parents: Array<{ conditions: Array<{ type: string; status: string }> }> } }
    ).status.parents;
    assert.ok(parents.length > 0);
    for (const p of parents) {
      for (const type of ['Accepted', 'ResolvedRefs']) {
        assert.equal(p.conditions.find((c) => c.type === type)?.status, 'True', `${type}: ${JSON.stringify(p)}`);
      }
    }
  }
  assert.equal(status.sockets.length, 1);
  const socket = status.sockets[0];
  const readmeBase = `http://127.0.0.1:${socket.port}/`;
  const url = (req: Req): string => {
    assert.ok(req.url.startsWith(readmeBase), `${req.url} is on the example's Gateway (${readmeBase})`);
    return `http://${socket.address}:${socket.boundPort}/${req.url.slice(readmeBase.length)}`;
  };

  // After an edit, the next claim is awaited (a single request at a time) until it holds, within LIVE_WITHIN_MS.
  let editedAt: number | undefined;
  const awaitEdit = async (holds: () => Promise<boolean>, line: string): Promise<void> => {
    if (editedAt === undefined) return;
    await until(`the edit to go live (${line})`, holds, 5000);
    const ms = Date.now() - editedAt;
    assert.ok(ms < LIVE_WITHIN_MS, `the edit took ${ms} ms to go live`);
    editedAt = undefined;
  };

  for (const step of steps) {
    switch (step.kind) {
      case 'curl': {
        const once = async (): Promise<string> => printed(step.req, await get(url(step.req), step.req.headers));
        await awaitEdit(async () => (await once()) === step.expect + '\n', step.line);
        assert.equal(await once(), step.expect + '\n', step.line);
        break;
      }
      case 'split': {
        const send = (): Promise<Answer> => get(url(step.req), step.req.headers);
        const top = [...step.shares].sort((a, b) => b[1] - a[1])[0][0];
        await awaitEdit(async () => serviceOf(await send()) === top, step.line);
        await checkSplit(send, step.shares, step.line);
        break;
      }
      case 'edit': {
        const prefix = `examples/${name}/`;
        assert.ok(step.line.includes(prefix), `the edit is on a file of the example: ${step.line}`);
        const r = spawnSync('sh', ['-c', step.line.replaceAll(prefix, `${dir}/`)], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${step.line}: ${r.stderr}`);
        editedAt = Date.now();
        break;
      }
      case 'serve':
      case 'listener':
        break;
    }
  }
  assert.equal(editedAt, undefined, 'an edit is followed by a claim about its effect');

  for (const { step, output } of listeners) {
    await until(`the listener to print ${JSON.stringify(step.prints)}`, () =>
      step.prints.every((p) => output().split('\n').includes(p)),
    );
    assert.deepEqual(output().trimEnd().split('\n'), step.prints, 'the listener printed exactly what the README shows');
  }
  return serve;
}

/** Checks that are prose in a README, not console blocks. */
const EXTRA: Record<string, (serve: Serve) => Promise<void> | void> = {
  mirroring: (serve) => {
    assert.match(serve.stderr(), /demo backend default\/shadow-service: cannot listen on 127\.0\.0\.1:19142/);
  },
};

describe('examples/<name>/README.md, run against the example', { concurrency: 2 }, () => {
  for (const name of EXAMPLES) {
    it(name, { timeout: 45_000 }, async (t) => {
      const serve = await runReadme(name, t);
      await EXTRA[name]?.(serve);
      assert.equal(await serve.stop('SIGTERM'), 0, serve.stderr());
    });
  }
});

interface Ports {
  gateway: number[];
  backends: number[];
}

function portsOf(name: string): Ports {
  const ports: Ports = { gateway: [], backends: [] };
  const dir = join(root, 'examples', name);
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const o = doc.toJS() as {
        kind?: string;
        spec?: { listeners?: Array<{ port: number }> };
        ports?: Array<{ port: number }>;
      };
      if (o?.kind === 'Gateway') ports.gateway.push(...(o.spec?.listeners ?? []).map((l) => l.port));
      if (o?.kind === 'EndpointSlice') ports.backends.push(...(o.ports ?? []).map((p) => p.port));
    }
  }
  return ports;
}

it('examples/README.md lists every example with its ports; no two examples share a port', () => {
  const dirs = readdirSync(join(root, 'examples')).filter((d) => statSync(join(root, 'examples', d)).isDirectory());
  // grpc-routing's README calls a gRPC client, not curl: grpc-routing.test.ts runs it.
  assert.deepEqual([...dirs].sort(), [...EXAMPLES, 'quickstart', 'grpc-routing'].sort(), 'every example is tested');
  const index = readFileSync(join(root, 'examples/README.md'), 'utf8');
  const seen = new Map<number, string>();
  for (const name of dirs) {
    const row = new RegExp(`^\\| \\[${name}\\]\\(${name}/\\) \\| [^|]+ \\| (\\d+) \\| (\\d+)-(\\d+) \\|$`, 'm').exec(
      index,
    );
    assert.ok(row, `a row for ${name} in examples/README.md`);
    const ports = portsOf(name);
    assert.deepEqual(ports.gateway, [Number(row[1])], `${name}: Gateway port`);
    const sorted = [...ports.backends].sort((a, b) => a - b);
    assert.deepEqual([sorted[0], sorted.at(-1)], [Number(row[2]), Number(row[3])], `${name}: backend ports`);
    for (const p of [...ports.gateway, ...ports.backends]) {
      assert.ok(!seen.has(p), `port ${p} is used by ${name} and ${seen.get(p)}`);
      seen.set(p, name);
    }
    if (name !== 'quickstart') {
      assert.ok(
        sorted.every((p) => p >= 19100 && p <= 19199),
        `${name}: backend ports in 19100-19199`,
      );
    }
  }
});
