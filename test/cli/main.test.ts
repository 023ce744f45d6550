/**
 * The `sluice` command as a user runs it: a real child process, exit codes
 * and output lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

function sluice(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempConfig(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: http, protocol: HTTP, port: 80}
`;

test('an unknown flag is one line on stderr and exit 2', () => {
  const r = sluice('translate', '--config', 'examples/quickstart', '--bogus');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^sluice: Unknown option '--bogus'/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('a missing directory is one line and a non-zero exit, no stack trace', () => {
  const r = sluice('validate', '--config', '/nonexistent/sluice');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'sluice: --config /nonexistent/sluice: not a directory');
});

test('a bad --output value is rejected', () => {
  const r = sluice('translate', '--config', 'examples/quickstart', '--output', 'xml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--output must be one of yaml, json/);
});

test("COMMAND --help prints that command's usage and exits 0, without running it", () => {
  for (const command of ['serve', 'translate', 'validate', 'explain']) {
    const r = sluice(command, '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: sluice ${command} --config DIR`));
    assert.equal(r.stderr, '');
  }
  assert.match(sluice('serve', '-h').stdout, /--access-log FMT/);
});

test('an unknown command is rejected', () => {
  const r = sluice('frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

test('validate accepts the quickstart example', () => {
  const r = sluice('validate', '--config', 'examples/quickstart');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok: 3 files, no problems$/m);
});

test('translate prints the IR and every resource with status', () => {
  const r = sluice('translate', '--config', 'examples/quickstart', '--output', 'json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const gw = out.resources.find((o: { kind: string }) => o.kind === 'Gateway');
  assert.equal(gw.status.conditions.find((c: { type: string }) => c.type === 'Programmed').status, 'True');
  const route = out.resources.find((o: { kind: string }) => o.kind === 'HTTPRoute');
  assert.equal(route.status.parents[0].conditions.find((c: { type: string }) => c.type === 'Accepted').status, 'True');
  // The weights reach the IR.
  const vhost = out.ir.gateways[0].listeners[0].virtualHosts[0];
  assert.equal(vhost.hostname, 'app.example.com');
  assert.deepEqual(
    vhost.routes[0].backends.map((b: { weight: number }) => b.weight),
    [90, 10],
  );
});

test('translate --show status --output yaml prints resources only', () => {
  const r = sluice('translate', '--config', 'examples/quickstart', '--show', 'status');
  assert.equal(r.code, 0, r.stderr);
  const out = parse(r.stdout);
  assert.equal(out.ir, undefined);
  assert.ok(out.resources.length >= 6);
});

test('validate reports a schema violation, a YAML error and a dangling reference, one line each', (t) => {
  const dir = tempConfig({
    'gateways.yaml':
      GATEWAY +
      `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: broken, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: http, protocol: HTTP, port: 70000}
`,
    'bad.yaml': 'kind: [unclosed\n',
    'route.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: web}]
  rules:
  - backendRefs: [{name: missing, port: 80}]
`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = sluice('validate', '--config', dir);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('gateways.yaml#2 Gateway infra/broken: spec.listeners[0].port: must be <= 65535'), r.stdout);
  assert.ok(
    lines.some((l) => l.startsWith('bad.yaml#0: ')),
    r.stdout,
  );
  assert.ok(
    lines.some((l) => l.startsWith('HTTPRoute infra/r parent infra/web: ResolvedRefs=False (BackendNotFound)')),
    r.stdout,
  );
});
