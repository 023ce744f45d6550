import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule } from '../../../src/api/validation/cel/compile.ts';
import { isKubernetesIP } from '../../../src/api/validation/cel/kubernetes-library.ts';
import { evaluateRules } from '../../../src/api/validation/cel/rules.ts';
import type { FieldError } from '../../../src/api/validation/field-error.ts';
import { allKinds } from '../../../src/api/validation/kinds.ts';
import type { KubeSchema, ValidationRule } from '../../../src/api/validation/kube-schema.ts';

function rulesIn(schema: KubeSchema, out: ValidationRule[] = []): ValidationRule[] {
  out.push(...(schema['x-kubernetes-validations'] ?? []));
  for (const child of Object.values(schema.properties ?? {})) rulesIn(child, out);
  if (schema.items) rulesIn(schema.items, out);
  if (typeof schema.additionalProperties === 'object') rulesIn(schema.additionalProperties, out);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    for (const s of (schema[k] as KubeSchema[] | undefined) ?? []) rulesIn(s, out);
  }
  return out;
}

test('every x-kubernetes-validations rule in every CRD (and core schema) compiles', () => {
  const failures: string[] = [];
  const distinct = new Set<string>();
  let transitions = 0;
  for (const kind of allKinds()) {
    for (const version of kind.versions.values()) {
      for (const rule of rulesIn(version.schema)) {
        distinct.add(rule.rule);
        const compiled = compileRule(rule);
        if (compiled.error) failures.push(`${kind.kind} ${version.version}: ${compiled.error}: ${rule.rule}`);
        if (compiled.transition) transitions++;
      }
    }
  }
  assert.deepEqual(failures, []);
  // Guards against a walk that silently finds nothing.
  assert.ok(distinct.size > 250, `only ${distinct.size} rules found`);
  assert.ok(transitions >= 3, 'the oldSelf rules (GatewayClass, XMesh controllerName) are transition rules');
});

test('compiling rejects unknown functions, wrong arity, bad syntax and undeclared variables', () => {
  const err = (rule: string) => compileRule({ rule }).error;
  assert.match(err('self.frobnicate()') ?? '', /undeclared reference to 'frobnicate'/);
  assert.match(err("self.startsWith('a', 'b')") ?? '', /no overload of 'startsWith' takes 2/);
  assert.match(err('self.all(x, ') ?? '', /syntax error/);
  assert.match(err('other == 1') ?? '', /undeclared reference to 'other'/);
  assert.equal(
    err("format.dns1123Label().validate(self) == null && self.split('/').size() > 0 && isIP(self)"),
    undefined,
  );
  assert.equal(compileRule({ rule: 'self == oldSelf' }).transition, true);
});

function run(schema: KubeSchema, value: unknown, budget?: number): FieldError[] {
  const errors: FieldError[] = [];
  evaluateRules(schema, value, errors, budget);
  return errors;
}

test('integers are CEL ints, numbers are doubles', () => {
  const schema: KubeSchema = {
    type: 'object',
    properties: { i: { type: 'integer' }, d: { type: 'number' } },
    'x-kubernetes-validations': [
      { rule: 'type(self.i) == int && self.i + 1 == 3', message: 'int' },
      { rule: 'type(self.d) == double', message: 'double' },
    ],
  };
  assert.deepEqual(run(schema, { i: 2, d: 2 }), []);
});

test('rules run for every list item and map value, with their paths; fieldPath and messageExpression apply', () => {
  const schema: KubeSchema = {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: { n: { type: 'integer' } },
          'x-kubernetes-validations': [
            { rule: 'self.n < 10', messageExpression: "'n is ' + string(self.n)", fieldPath: '.n' },
          ],
        },
      },
      labels: {
        type: 'object',
        additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'bad'" }] },
      },
    },
  };
  assert.deepEqual(run(schema, { items: [{ n: 1 }, { n: 12 }], labels: { a: 'ok', b: 'bad' } }), [
    { path: 'items[1].n', message: 'n is 12' },
    { path: 'labels[b]', message: "failed rule: self != 'bad'" },
  ]);
  // A messageExpression that fails falls back to message.
  const fallback: KubeSchema = {
    type: 'string',
    'x-kubernetes-validations': [{ rule: 'false', message: 'plain', messageExpression: 'self.nope' }],
  };
  assert.deepEqual(run(fallback, 'x'), [{ path: '', message: 'plain' }]);
  // Transition rules are skipped.
  assert.deepEqual(run({ type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] }, 'x'), []);
});

test('matches() uses RE2 syntax; the Kubernetes library functions behave like the API server', () => {
  const schema: KubeSchema = {
    type: 'string',
    'x-kubernetes-validations': [
      { rule: "self.matches('^(?i)abc$') && self.lowerAscii() == 'abc' && self.trim() == self" },
    ],
  };
  assert.deepEqual(run(schema, 'ABC'), []);
  assert.equal(run(schema, 'abd').length, 1);
  for (const ip of ['10.0.0.1', '::1', 'fd00::10']) assert.equal(isKubernetesIP(ip), true, ip);
  for (const ip of ['010.0.0.1', '::ffff:10.0.0.1', '0:0:0:0:0:ffff:a00:1', 'fe80::1%eth0', 'example.com', '1.2.3']) {
    assert.equal(isKubernetesIP(ip), false, ip);
  }
  const label: KubeSchema = {
    type: 'string',
    'x-kubernetes-validations': [{ rule: 'format.dns1123Label().validate(self) == null', message: 'not a label' }],
  };
  assert.deepEqual(run(label, 'ok-name'), []);
  assert.deepEqual(run(label, 'Not_OK'), [{ path: '', message: 'not a label' }]);
});

test('evaluation is bounded by a cost budget, for lists and maps', () => {
  const list: KubeSchema = {
    type: 'array',
    items: { type: 'integer' },
    'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))' }, { rule: 'false' }],
  };
  const start = performance.now();
  const errors = run(
    list,
    Array.from({ length: 100 }, (_, i) => i),
    10_000,
  );
  assert.equal(errors.length, 1, 'no further rules run once the budget is spent');
  assert.match(errors[0].message, /cost budget exceeded/);
  const map: KubeSchema = {
    type: 'object',
    additionalProperties: { type: 'string' },
    'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, a != b || a == b))' }],
  };
  const keys = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v']));
  assert.match(run(map, keys, 10_000)[0]?.message ?? '', /cost budget exceeded/);
  assert.deepEqual(run(map, keys), [], 'within the default budget');
  assert.ok(performance.now() - start < 2000);
});
