import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadDirectory, loadObjects } from '../../../src/providers/file/loader.ts';
import { formatProblem } from '../../../src/providers/snapshot.ts';

const CONFORMANCE = '/work/shared/conformance';

const service = (name: string, ns = 'app') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  ports:
  - port: 80
`;

const httpRoute = (name: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: app
spec:
  parentRefs:
  - name: web
  rules:
  - backendRefs:
    - name: echo
      port: 80
`;

function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-loader-'));
    try {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'loads *.yaml, *.yml and *.json recursively in sorted order, skipping dot-files and other files',
  withDir(
    {
      'b.yaml': service('b'),
      'a/z.yml': httpRoute('z'),
      'a.json': JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } }),
      '.hidden.yaml': service('hidden'),
      '.git/config.yaml': service('git'),
      'notes.txt': 'not config',
      'deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: echo\n  namespace: app\n',
    },
    async (dir) => {
      const r = await loadDirectory(dir);
      assert.deepEqual(r.files, ['a.json', 'a/z.yml', 'b.yaml', 'deploy.yaml']);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.warnings, []);
      assert.deepEqual(r.ignored, [{ file: 'deploy.yaml', doc: 0, kind: 'Deployment', name: 'app/echo' }]);
      assert.deepEqual(
        r.snapshot.services.map((s) => s.metadata.name),
        ['b'],
      );
      assert.equal(r.snapshot.httpRoutes[0].spec.rules?.[0].backendRefs?.[0].weight, 1);
      assert.equal(r.snapshot.namespaces.length, 1);
    },
  ),
);

test(
  'a kubelet-mounted ConfigMap (..data symlinks) loads each file once, under its own name',
  withDir(
    { '..2026_01_01_00_00_00.1/routes.yaml': httpRoute('r'), '..2026_01_01_00_00_00.1/svc.yaml': service('echo') },
    async (dir) => {
      symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'));
      symlinkSync('..data/routes.yaml', join(dir, 'routes.yaml'));
      symlinkSync('..data/svc.yaml', join(dir, 'svc.yaml'));
      const r = await loadDirectory(dir);
      assert.deepEqual(r.files, ['routes.yaml', 'svc.yaml']);
      assert.deepEqual(r.problems, []);
      assert.equal(r.snapshot.httpRoutes.length, 1);
      assert.equal(r.snapshot.services.length, 1);
    },
  ),
);

test(
  'duplicates are rejected naming both places; bad documents do not stop the rest',
  withDir(
    {
      'one.yaml': `${service('echo')}---\nkind: [unclosed\n---\n${httpRoute('r')}`,
      'two.yaml': service('echo'),
    },
    async (dir) => {
      const r = await loadDirectory(dir);
      assert.equal(r.problems.length, 2);
      assert.match(formatProblem(r.problems[0]), /^one\.yaml#1: YAML: /);
      assert.equal(
        formatProblem(r.problems[1]),
        'two.yaml#0 Service app/echo: duplicate Service app/echo: already defined in one.yaml#0',
      );
      assert.equal(r.snapshot.services.length, 1);
      assert.equal(r.snapshot.httpRoutes.length, 1);
    },
  ),
);

test('a missing directory or a file path is a clear error', async () => {
  await assert.rejects(loadDirectory('/nonexistent/sluice-config'), {
    message: 'config directory not found: /nonexistent/sluice-config',
  });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-loader-'));
  try {
    writeFileSync(join(dir, 'f.yaml'), '');
    await assert.rejects(loadDirectory(join(dir, 'f.yaml')), /config path is not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadObjects: schema problems carry file#doc; List items get an items[i] path; same group/kind/name in two versions is a duplicate', () => {
  const list = `apiVersion: v1
kind: List
items:
- ${service('ok').replace(/\n/g, '\n  ').trimEnd()}
- apiVersion: v1
  kind: Service
  metadata: {name: bad, namespace: app}
  spec:
    ports: [{port: 70000}]
`;
  const grant = (v: string) =>
    `apiVersion: gateway.networking.k8s.io/${v}\nkind: ReferenceGrant\nmetadata: {name: g, namespace: b}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}]\n  to: [{group: "", kind: Service}]\n`;
  const r = loadObjects([
    { file: 'list.yaml', text: list },
    { file: 'grants.yaml', text: `${grant('v1')}---\n${grant('v1beta1')}` },
  ]);
  assert.deepEqual(r.problems.map(formatProblem), [
    'list.yaml#0 Service app/bad: items[1].spec.ports[0].port: must be <= 65535',
    // targetPort defaults to port, so it is out of range too (the API server reports both).
    'list.yaml#0 Service app/bad: items[1].spec.ports[0].targetPort: must be a port number between 1 and 65535 or an IANA service name',
    'grants.yaml#1 ReferenceGrant b/g: duplicate ReferenceGrant b/g: already defined in grants.yaml#0',
  ]);
  assert.deepEqual(
    r.snapshot.services.map((s) => s.metadata.name),
    ['ok'],
  );
  assert.deepEqual(r.files, ['list.yaml', 'grants.yaml']);
});

test('every conformance manifest loads (the only rejection is an unsubstituted placeholder)', () => {
  const base = loadObjects([
    { file: 'base/manifests.yaml', text: readFileSync(`${CONFORMANCE}/base/manifests.yaml`, 'utf8') },
  ]);
  assert.deepEqual([base.problems, base.warnings], [[], []]);
  assert.deepEqual(
    [
      base.snapshot.gateways.length,
      base.snapshot.namespaces.length,
      base.snapshot.services.length,
      base.ignored.length,
    ],
    [4, 3, 14, 14],
  );

  const problems: string[] = [];
  let objects = 0;
  for (const group of readdirSync(`${CONFORMANCE}/cases`, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    for (const c of readdirSync(join(CONFORMANCE, 'cases', group.name), { withFileTypes: true })) {
      if (!c.isDirectory()) continue;
      const caseDir = join(CONFORMANCE, 'cases', group.name, c.name);
      const entries = readdirSync(caseDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => ({ file: `${group.name}/${c.name}/${f}`, text: readFileSync(join(caseDir, f), 'utf8') }));
      const r = loadObjects(entries);
      problems.push(...r.problems.map(formatProblem));
      objects += (Object.values(r.snapshot) as unknown[][]).reduce((n, list) => n + list.length, 0);
      // Only deprecation notices (v1alpha2 TCPRoute/UDPRoute) are expected as warnings.
      for (const w of r.warnings) assert.match(w.message, /has been deprecated/, formatProblem(w));
    }
  }
  assert.ok(objects > 300, `only ${objects} objects loaded`);
  // The runner substitutes the controller name and the address placeholders; unsubstituted, the API
  // server rejects them too (an untyped address defaults to IPAddress, which must then be an IP).
  assert.deepEqual(problems, [
    String.raw`http/GatewayClassObservedGenerationBump/gatewayclass-observed-generation-bump.yaml#0 GatewayClass gatewayclass-observed-generation-bump: spec.controllerName: Invalid value: "{GATEWAY_CONTROLLER_NAME}": should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$'`,
    'http/GatewayStaticAddresses/gateway-static-addresses.yaml#0 Gateway gateway-conformance-infra/gateway-static-addresses: spec.addresses[1]: Invalid value: "object": must match exactly one schema in oneOf',
    'http/GatewayStaticAddresses/gateway-static-addresses.yaml#0 Gateway gateway-conformance-infra/gateway-static-addresses: spec.addresses[2]: Invalid value: "object": must match exactly one schema in oneOf',
  ]);
});
