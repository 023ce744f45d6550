/**
 * examples/grpc-routing does what its README says. The README's console
 * blocks are run against `sluice serve --config <copy of the example>
 * --demo-backends` (an address of its own from a random loopback pool,
 * ports offset):
 *
 *   $ npm run sluice -- serve --config examples/grpc-routing --demo-backends   the command, exactly
 *   $ node --import tsx examples/grpc-routing/client.ts ... 127.0.0.1:8088 ...
 *                     run as written (the address pointed at the test's gateway); prints exactly the next lines
 *   $ sed -i.bak ... examples/grpc-routing/route.yaml
 *                     run on the copy; the next claim must hold within a second
 *
 * Any other command fails the test. Prose claims are checked below the steps.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeMessage, encodeMessage, RIDES_METHODS } from '../../src/demo/rides.ts';
import { grpcServerStreaming, grpcUnary } from '../support/grpc-client.ts';
import { randomLoopbackPool, root, startServe, until } from '../support/serve.ts';

const NAME = 'grpc-routing';
const README_ADDRESS = '127.0.0.1:8088';
const CLIENT = `node --import tsx examples/${NAME}/client.ts `;
const LIVE_WITHIN_MS = 1000;

type Step =
  | { kind: 'serve'; line: string }
  | { kind: 'call'; line: string; args: string[]; expect: string[] }
  | { kind: 'edit'; line: string };

/** Shell words: bare, '...' and "..." (no escapes; the README needs none). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m; (m = re.exec(line));) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function parseReadme(text: string): Step[] {
  const steps: Step[] = [];
  for (const block of text.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    const lines = block[1].split('\n').filter((l) => l !== '');
    for (let i = 0; i < lines.length; i++) {
      assert.ok(lines[i].startsWith('$ '), `output without a command: ${lines[i]}`);
      const line = lines[i].slice(2);
      const out: string[] = [];
      while (i + 1 < lines.length && !lines[i + 1].startsWith('$ ')) out.push(lines[++i]);
      if (line.startsWith('npm run ')) {
        assert.deepEqual(out, [], `no output claimed for ${line}`);
        steps.push({ kind: 'serve', line });
      } else if (line.startsWith(CLIENT)) {
        assert.ok(out.length > 0 && out.at(-1)!.startsWith('status: '), `output ends with the status: ${line}`);
        steps.push({ kind: 'call', line, args: words(line.slice(CLIENT.length)), expect: out });
      } else if (line.startsWith('sed ')) {
        assert.deepEqual(out, [], `no output claimed for ${line}`);
        steps.push({ kind: 'edit', line });
      } else {
        assert.fail(`a README command the test does not know: ${line}`);
      }
    }
  }
  return steps;
}

/** Runs the example's client as the README does, against `address`. */
function runClient(args: string[], address: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const argv = args.map((a) => (a === README_ADDRESS ? address : a));
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', `examples/${NAME}/client.ts`, ...argv], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.once('error', reject);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The same call in-process (fast enough to poll): the status name and the response messages as JSON lines. */
async function callInProcess(args: string[], address: string): Promise<string[]> {
  const opts: { authority?: string; d?: string } = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--authority') opts.authority = args[++i];
    else if (args[i] === '-d') opts.d = args[++i];
    else rest.push(args[i]);
  }
  const path = `/${rest[1]}`;
  const method = RIDES_METHODS[path];
  const body = encodeMessage(method.request, JSON.parse(opts.d ?? '{}') as Record<string, unknown>);
  const r = await grpcUnary(`http://${address}`, path, body, opts.authority ? { authority: opts.authority } : {});
  return [...r.messages.map((m) => JSON.stringify(decodeMessage(method.response, m))), `code ${r.code}`];
}

describe(`examples/${NAME}/README.md, run against the example`, () => {
  it('every console block, then the prose claims', { timeout: 90_000 }, async (t) => {
    const steps = parseReadme(readFileSync(join(root, 'examples', NAME, 'README.md'), 'utf8'));
    assert.deepEqual(
      steps.filter((s) => s.kind === 'serve').map((s) => s.line),
      [`npm run sluice -- serve --config examples/${NAME} --demo-backends`],
    );
    assert.ok(steps.some((s) => s.kind === 'call'));

    // Served from a copy: the README edits route.yaml, and examples/ is never modified.
    const dir = mkdtempSync(join(tmpdir(), `sluice-example-${NAME}-`));
    cpSync(join(root, 'examples', NAME), dir, { recursive: true });
    t.after(() => rmSync(dir, { recursive: true, force: true }));

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
    const routes = status.resources.filter((r) => r.kind === 'GRPCRoute');
    assert.equal(routes.length, 1);
    for (const p of (
      routes[0] as unknown as { status: { parents: Array<{ conditions: Array<{ type: string; status: string }> }> } }
    ).status.parents) {
      for (const type of ['Accepted', 'ResolvedRefs']) {
        assert.equal(p.conditions.find((c) => c.type === type)?.status, 'True', `${type}: ${JSON.stringify(p)}`);
      }
    }
    assert.equal(status.sockets.length, 1);
    const socket = status.sockets[0];
    assert.equal(socket.port, 8088);
    const address = `${socket.address}:${socket.boundPort}`;

    let editedAt: number | undefined;
    for (const step of steps) {
      if (step.kind === 'edit') {
        const prefix = `examples/${NAME}/`;
        assert.ok(step.line.includes(prefix), `the edit is on a file of the example: ${step.line}`);
        const r = spawnSync('sh', ['-c', step.line.replaceAll(prefix, `${dir}/`)], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${step.line}: ${r.stderr}`);
        editedAt = Date.now();
      } else if (step.kind === 'call') {
        assert.ok(step.args.includes(README_ADDRESS), `the call goes to the example's Gateway: ${step.line}`);
        if (editedAt !== undefined) {
          const ok = step.expect.at(-1) === 'status: OK';
          await until(
            `the edit to go live (${step.line})`,
            async () => ((await callInProcess(step.args, address)).at(-1) === 'code 0') === ok,
            5000,
          );
          const ms = Date.now() - editedAt;
          assert.ok(ms < LIVE_WITHIN_MS, `the edit took ${ms} ms to go live`);
          editedAt = undefined;
        }
        const r = await runClient(step.args, address);
        assert.equal(r.stderr, '', step.line);
        assert.deepEqual(r.stdout.trimEnd().split('\n'), step.expect, step.line);
        assert.equal(r.code, step.expect.at(-1) === 'status: OK' ? 0 : 1, step.line);
      }
    }
    assert.equal(editedAt, undefined, 'an edit is followed by a claim about its effect');

    // "each sent on as soon as it arrives (100 ms apart here)": the gateway streams, it does not collect.
    const arrivals: number[] = [];
    const path = '/rides.TrackingService/StreamLocation';
    const request = encodeMessage(RIDES_METHODS[path].request, { rideId: 'ride-x', updates: 5 });
    const r = await grpcServerStreaming(`http://${address}`, path, request, {
      authority: 'api.rideshare.com',
      onMessage: () => arrivals.push(Date.now()),
    });
    assert.equal(r.code, 0);
    assert.equal(arrivals.length, 5);
    for (let i = 1; i < arrivals.length; i++) {
      assert.ok(
        arrivals[i] - arrivals[i - 1] >= 50,
        `update ${i + 1} arrived ${arrivals[i] - arrivals[i - 1]} ms after the one before`,
      );
    }

    assert.equal(await serve.stop('SIGTERM'), 0, serve.stderr());
  });
});
