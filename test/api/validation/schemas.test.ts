import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchema } from '../../../src/api/validation/ajv-instance.ts';
import { allCrdKinds, allKinds, kindEntry } from '../../../src/api/validation/kinds.ts';
import { precompile } from '../../../src/api/validation/validator.ts';

test('every served version of every CRD, and every core schema, compiles', () => {
  const versions: string[] = [];
  const failures: string[] = [];
  for (const kind of allKinds()) {
    for (const v of kind.versions.values()) {
      versions.push(`${kind.kind}/${v.version}`);
      const err = precompile(v);
      if (err) failures.push(err.message);
    }
  }
  assert.deepEqual(failures, []);
  for (const expected of [
    'ReferenceGrant/v1',
    'ReferenceGrant/v1beta1',
    'TCPRoute/v1alpha2',
    'TCPRoute/v1',
    'EnvoyProxy/v1alpha1',
    'Service/v1',
    'EndpointSlice/v1',
  ]) {
    assert.ok(versions.includes(expected), expected);
  }
});

test('patterns use RE2 and each pattern keeps its own compiled regex', () => {
  const validate = compileSchema({
    type: 'object',
    properties: { a: { type: 'string', pattern: '^(?i)abc$' }, b: { type: 'string', pattern: '^[0-9]+$' } },
  });
  assert.equal(validate({ a: 'ABC', b: '123' }), true);
  // With ajv's regex cache keyed by "[object Object]", b would be checked against a's pattern.
  assert.equal(validate({ a: 'ABC', b: 'abc' }), false);
  assert.equal(validate({ a: 'abd', b: '1' }), false);
});

test('the lazy CRD index finds every CRD kind by group and kind', () => {
  const kinds = allCrdKinds();
  assert.ok(kinds.length >= 20);
  for (const k of kinds) assert.equal(kindEntry(k.group, k.kind), k, `${k.group}/${k.kind}`);
  assert.equal(kindEntry('gateway.networking.k8s.io', 'Nope'), undefined);
  assert.equal(kindEntry('', 'Service')?.versions.get('v1')?.nameFormat, 'dns1035Label');
  assert.equal(kindEntry('gateway.networking.k8s.io', 'GatewayClass')?.namespaced, false);
});
