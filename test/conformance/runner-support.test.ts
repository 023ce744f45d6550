import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../src/api/object.ts';
import { parseRunnerArgs, DEFAULT_SUITE } from './args.ts';
import type { CaseFile } from './case-types.ts';
import { skipReason } from './features.ts';
import { applyMergePatch } from './merge-patch.ts';
import {
  placeholderValues,
  prepareManifestObject,
  resolveCopyFrom,
  substitute,
  usableAddressFrom,
} from './placeholders.ts';
import { formatOutcome, summary } from './report.ts';

describe('applyMergePatch (RFC 7386)', () => {
  test('objects merge, null deletes, lists are replaced whole', () => {
    const target = { spec: { a: 1, b: { c: 2, d: 3 }, list: [1, 2, 3] }, keep: true };
    const patched = applyMergePatch(target, { spec: { b: { c: null, e: 4 }, list: [9] }, added: 'x' });
    assert.deepEqual(patched, { spec: { a: 1, b: { d: 3, e: 4 }, list: [9] }, keep: true, added: 'x' });
    assert.deepEqual(target.spec.list, [1, 2, 3], 'target not mutated');
  });
  test('a non-object patch replaces; an object patch over a scalar starts from {}', () => {
    assert.deepEqual(applyMergePatch({ a: 1 }, [1]), [1]);
    assert.deepEqual(applyMergePatch('s', { a: { b: null, c: 1 } }), { a: { c: 1 } });
  });
  test('RFC 7386 appendix examples', () => {
    assert.deepEqual(applyMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(applyMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
    assert.deepEqual(applyMergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });
});

describe('placeholders', () => {
  const values = placeholderValues('sluice.dev/gateway-controller', '127.0.1.0/24');
  test('usable address lies inside the pool', () => {
    assert.equal(usableAddressFrom('127.0.1.0/24'), '127.0.1.200');
    assert.equal(usableAddressFrom('10.1.2.128/28'), '10.1.2.142');
    assert.throws(() => usableAddressFrom('fd00::/64'));
  });
  test('known tokens are replaced, unknown braces kept', () => {
    assert.deepEqual(substitute({ a: ['{USABLE_ADDRESS}', 'x {UNUSABLE_ADDRESS_TYPE}'], b: '{uuid}', n: 1 }, values), {
      a: ['127.0.1.200', 'x IPAddress'],
      b: '{uuid}',
      n: 1,
    });
  });
  test('Gateways get the class name and the placeholder addresses; GatewayClasses the controller', () => {
    const gw = prepareManifestObject(
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'g' },
        spec: {
          gatewayClassName: 'whatever',
          addresses: [
            { type: 'test/fake-invalid-type', value: 'fake' },
            { value: 'PLACEHOLDER_UNUSABLE_ADDRS' },
            { value: 'PLACEHOLDER_USABLE_ADDRS' },
          ],
        },
      },
      values,
    );
    assert.deepEqual(gw.spec, {
      gatewayClassName: 'gateway-conformance',
      addresses: [
        { type: 'test/fake-invalid-type', value: 'fake' },
        { type: 'IPAddress', value: '192.0.2.1' },
        { type: 'IPAddress', value: '127.0.1.200' },
      ],
    });
    const gc = prepareManifestObject(
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'c' },
        spec: { controllerName: '{GATEWAY_CONTROLLER_NAME}' },
      },
      values,
    );
    assert.deepEqual(gc.spec, { controllerName: 'sluice.dev/gateway-controller' });
  });
  test('$copyFrom takes the current ConfigMap value, Secret values are decoded', () => {
    const objects: Record<string, KubeObject> = {
      ConfigMap: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ca', namespace: 'n' },
        data: { 'ca.crt': 'PEM' },
      },
      Secret: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'n' },
        data: { k: Buffer.from('v').toString('base64') },
      },
    };
    const lookup = (r: { kind: string }) => objects[r.kind];
    const out = resolveCopyFrom(
      {
        data: {
          a: { $copyFrom: { kind: 'ConfigMap', namespace: 'n', name: 'ca', key: 'ca.crt' } },
          b: { $copyFrom: { kind: 'Secret', namespace: 'n', name: 's', key: 'k' } },
        },
      },
      lookup,
    );
    assert.deepEqual(out, { data: { a: 'PEM', b: 'v' } });
    assert.throws(
      () => resolveCopyFrom({ $copyFrom: { kind: 'ConfigMap', name: 'ca', key: 'nope' } }, lookup),
      /no key nope/,
    );
  });
});

describe('features', () => {
  const base: CaseFile = { name: 'X', features: ['Gateway', 'HTTPRoute'], manifests: [], checks: [] };
  test('claimed features run, unclaimed ones skip', () => {
    assert.equal(skipReason(base), undefined);
    assert.equal(
      skipReason({ ...base, features: ['Gateway', 'GatewayInfrastructurePropagation'] }),
      'unsupported feature GatewayInfrastructurePropagation',
    );
  });
  test('skipIfFeatures / skipUnlessFeatures', () => {
    assert.match(skipReason({ ...base, skipIfFeatures: ['TLSRouteModeTerminate'] })!, /^skipIfFeatures/);
    assert.equal(skipReason({ ...base, skipIfFeatures: ['GatewayInfrastructurePropagation'] }), undefined);
    assert.equal(skipReason({ ...base, skipUnlessFeatures: ['TLSRoute'] }), undefined);
    assert.match(skipReason({ ...base, skipUnlessFeatures: ['Nope'] })!, /^skipUnlessFeatures/);
  });
});

describe('args and report', () => {
  test('defaults and flags', () => {
    const d = parseRunnerArgs([]);
    assert.equal(d.suite, DEFAULT_SUITE);
    assert.ok(DEFAULT_SUITE.endsWith('/shared/conformance'));
    assert.equal(d.statusOnly, false);
    const o = parseRunnerArgs(['--suite', '/tmp/s', '--filter', '^http/', '--status-only']);
    assert.equal(o.suite, '/tmp/s');
    assert.ok(o.filter!.test('http/X') && !o.filter!.test('other/X'));
    assert.equal(o.statusOnly, true);
    assert.throws(() => parseRunnerArgs(['--filter', '(']), /--filter/);
    assert.throws(() => parseRunnerArgs(['--bogus']));
  });
  test('lines and closing tally', () => {
    assert.equal(formatOutcome({ id: 'http/A', status: 'PASS' }), 'PASS http/A');
    assert.equal(formatOutcome({ id: 'http/A', status: 'PASS', detail: '(status only)' }), 'PASS http/A (status only)');
    assert.equal(formatOutcome({ id: 'http/B', status: 'FAIL', detail: 'why' }), 'FAIL http/B: why');
    assert.equal(
      summary([
        { id: 'a', status: 'PASS' },
        { id: 'b', status: 'FAIL' },
        { id: 'c', status: 'SKIP' },
        { id: 'd', status: 'SKIP' },
      ]),
      '1 passed, 1 failed, 2 skipped',
    );
  });
});
