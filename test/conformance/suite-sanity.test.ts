/**
 * The runner against the shared suite (skipped when it is not checked out
 * next to the repository): every manifest passes admission, the base loads
 * into a store with its generated secrets and endpoint slices, and the
 * runner's own verdicts (step failures, generation expectations, skips)
 * come out as specified, whatever the translator currently does.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { formatProblem } from '../../src/providers/snapshot.ts';
import { admit } from './admission.ts';
import { DEFAULT_ADDRESS_POOL, DEFAULT_SUITE } from './args.ts';
import type { CaseFile, Check } from './case-types.ts';
import { reconcile } from './controller.ts';
import { createCaseEnv } from './environment.ts';
import { prepareManifestObject } from './placeholders.ts';
import { runCase, setUpCase } from './run-case.ts';
import { loadSuite, readManifest, type SuiteCase } from './suite.ts';
import { missingFeature } from './traffic/needs.ts';

const present = existsSync(DEFAULT_SUITE);

describe('shared conformance suite', { skip: !present && 'suite not checked out' }, () => {
  const suite = present ? loadSuite(DEFAULT_SUITE) : undefined;
  const opts = { suite: DEFAULT_SUITE, statusOnly: true, addressPool: DEFAULT_ADDRESS_POOL };
  const env = suite ? createCaseEnv(opts, suite) : undefined;
  after(() => env?.secrets.dispose());

  const synthetic = (checks: Check[], extra: Partial<CaseFile> = {}): SuiteCase => ({
    id: 'test/Synthetic',
    dir: DEFAULT_SUITE,
    relDir: 'cases/test/Synthetic',
    file: { name: 'Synthetic', features: ['Gateway'], manifests: [], checks, ...extra },
  });

  test('the runner has a client for every check of every case (no "needs" skip)', () => {
    const needs = suite!.cases.map((c) => [c.id, missingFeature(c.file.checks)]).filter(([, n]) => n !== undefined);
    assert.deepEqual(needs, []);
  });

  test('case ids are unique and every manifest document passes admission', () => {
    const ids = suite!.cases.map((c) => c.id);
    assert.ok(ids.length > 0);
    assert.equal(new Set(ids).size, ids.length);
    const files = [
      'base/manifests.yaml',
      ...suite!.cases.flatMap((c) => c.file.manifests.map((m) => `${c.relDir}/${m}`)),
    ];
    const problems = files.flatMap((f) =>
      readManifest(DEFAULT_SUITE, f).flatMap(
        (d) => admit(prepareManifestObject(d.object, env!.placeholders), { file: d.file, doc: d.doc }).problems,
      ),
    );
    assert.deepEqual(problems.map(formatProblem), []);
  });

  test('the base loads: class, Gateways, labelled namespaces, secrets, one slice per selected Service', () => {
    const { store, clock } = setUpCase(synthetic([]), env!);
    const all = store.list();
    const of = (kind: string) => all.filter((o) => o.kind === kind);
    assert.deepEqual(
      of('GatewayClass').map((o) => o.spec),
      [{ controllerName: env!.controllerName }],
    );
    assert.ok(of('Gateway').length >= 1);
    assert.ok(
      of('Gateway').every((g) => (g.spec as { gatewayClassName: string }).gatewayClassName === 'gateway-conformance'),
    );
    for (const ns of of('Namespace'))
      assert.equal(ns.metadata.labels?.['kubernetes.io/metadata.name'], ns.metadata.name);
    for (const name of [
      'tls-validity-checks-certificate',
      'tls-checks-certificate',
      'tls-passthrough-checks-certificate',
    ])
      assert.ok(store.get({ group: '', kind: 'Secret', namespace: 'gateway-conformance-infra', name }), name);
    assert.ok(
      store.get({
        group: '',
        kind: 'ConfigMap',
        namespace: 'gateway-conformance-infra',
        name: 'tls-checks-ca-certificate',
      }),
    );
    const stamps = all.map((o) => Date.parse(o.metadata.creationTimestamp!));
    assert.ok(
      stamps.every((t, i) => i === 0 || t > stamps[i - 1]),
      'creation timestamps strictly increase',
    );
    reconcile(store, clock, env!);
    const selected = of('Service').filter((s) => (s.spec as { selector?: object }).selector);
    assert.equal(store.list().filter((o) => o.kind === 'EndpointSlice').length, selected.length);
  });

  test('runner verdicts: step failures, generation expectations, skips', () => {
    const gw = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      namespace: 'gateway-conformance-infra',
      name: 'same-namespace',
    };
    const missing = runCase(synthetic([{ kind: 'delete', target: { ...gw, name: 'nope' } }]), env!);
    assert.deepEqual(missing, {
      id: 'test/Synthetic',
      status: 'FAIL',
      detail: 'checks[0] delete: Gateway gateway-conformance-infra/nope not found',
    });
    const labelOnly = runCase(
      synthetic([
        { kind: 'patch', target: gw, mergePatch: { metadata: { labels: { a: 'b' } } }, expectGenerationChange: true },
      ]),
      env!,
    );
    assert.match(
      labelOnly.detail ?? '',
      /checks\[0\] patch: Gateway .*same-namespace metadata.generation did not change \(stayed 1\)/,
    );
    const specChange = runCase(
      synthetic([
        {
          kind: 'patch',
          target: gw,
          mergePatch: { spec: { listeners: [{ name: 'h', port: 81, protocol: 'HTTP' }] } },
          expectGenerationChange: true,
        },
        { kind: 'sleep', seconds: 3 },
      ]),
      env!,
    );
    assert.deepEqual(specChange, { id: 'test/Synthetic', status: 'PASS' });
    const rejected = runCase(
      synthetic([
        { kind: 'patch', target: gw, mergePatch: { spec: { listeners: [{ name: 'h', port: 0, protocol: 'HTTP' }] } } },
      ]),
      env!,
    );
    assert.equal(rejected.status, 'FAIL');
    assert.match(
      rejected.detail ?? '',
      /^checks\[0\] patch: Gateway gateway-conformance-infra\/same-namespace rejected: /,
    );
    const traffic: Check[] = [{ kind: 'http' }, { kind: 'note', text: 'x' }];
    assert.deepEqual(runCase(synthetic(traffic), env!), {
      id: 'test/Synthetic',
      status: 'PASS',
      detail: '(status only)',
    });
    assert.deepEqual(runCase(synthetic(traffic), { ...env!, statusOnly: false }), {
      id: 'test/Synthetic',
      status: 'SKIP',
      detail: 'needs: traffic (data plane not yet implemented)',
    });
    assert.deepEqual(runCase(synthetic([{ kind: 'note', text: 'x' }]), { ...env!, statusOnly: false }), {
      id: 'test/Synthetic',
      status: 'PASS',
      detail: '(1 note check not run)',
    });
    // An unclaimed feature skips the case; --status-only still judges its status checks.
    const unclaimed = synthetic([{ kind: 'note', text: 'x' }], { features: ['GatewayInfrastructurePropagation'] });
    assert.deepEqual(runCase(unclaimed, { ...env!, statusOnly: false }), {
      id: 'test/Synthetic',
      status: 'SKIP',
      detail: 'unsupported feature GatewayInfrastructurePropagation',
    });
    assert.deepEqual(runCase(unclaimed, env!), {
      id: 'test/Synthetic',
      status: 'PASS',
      detail: '(status only; feature GatewayInfrastructurePropagation not claimed: 1 note check not run)',
    });
    const failing = synthetic(
      [{ kind: 'gatewayStatus', gateway: { namespace: 'gateway-conformance-infra', name: 'nope' } }],
      { features: ['GatewayInfrastructurePropagation'] },
    );
    assert.equal(runCase(failing, env!).status, 'FAIL', 'its status checks really run');
    // skipIfFeatures cases describe implementations unlike Sluice: skipped even with --status-only.
    assert.match(runCase(synthetic([], { skipIfFeatures: ['TLSRouteModeTerminate'] }), env!).detail ?? '', /^skipIf/);
  });
});
