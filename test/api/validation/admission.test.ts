import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admitObject, crdSchemaFor } from '../../../src/api/validation/index.ts';
import type { HTTPRoute } from '../../../src/api/generated/index.ts';
import { formatProblem } from '../../../src/providers/snapshot.ts';

const GW = 'gateway.networking.k8s.io/v1';

function admit(obj: unknown, file = 'test.yaml', doc = 0) {
  return admitObject(obj, { file, doc });
}

/** Formatted problems, for exact comparisons. */
function problems(obj: unknown, file = 'test.yaml', doc = 0): string[] {
  return admit(obj, file, doc).problems.map(formatProblem);
}

function gateway(listeners: unknown[], extra: Record<string, unknown> = {}) {
  return {
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name: 'web', namespace: 'infra' },
    spec: { gatewayClassName: 'sluice', listeners, ...extra },
  };
}

function route(rules: unknown[], extra: Record<string, unknown> = {}) {
  return { apiVersion: GW, kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'app' }, spec: { rules, ...extra } };
}

test('a valid HTTPRoute gets the CRD defaults', () => {
  const r = admit(route([{ backendRefs: [{ name: 'svc', port: 8080 }] }], { parentRefs: [{ name: 'web' }] }));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings, []);
  const spec = (r.object as unknown as HTTPRoute).spec;
  assert.deepEqual(spec.parentRefs, [{ name: 'web', group: 'gateway.networking.k8s.io', kind: 'Gateway' }]);
  assert.deepEqual(spec.rules![0].backendRefs, [{ name: 'svc', port: 8080, group: '', kind: 'Service', weight: 1 }]);
  assert.deepEqual(spec.rules![0].matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
  assert.equal(r.object!.metadata.generation, 1);
});

test('admission does not modify its input', () => {
  const input = route([{ backendRefs: [{ name: 'svc', port: 80 }] }]);
  const before = structuredClone(input);
  admit(input);
  assert.deepEqual(input, before);
});

test('a listener port over 65535 is reported with file#doc, kind, namespace/name and field path', () => {
  assert.deepEqual(problems(gateway([{ name: 'http', port: 65536, protocol: 'HTTP' }]), 'gateways.yaml', 2), [
    'gateways.yaml#2 Gateway infra/web: spec.listeners[0].port: must be <= 65535',
  ]);
});

test('schema violations read like the API server', () => {
  assert.deepEqual(problems({ ...gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]), spec: { listeners: [] } }), [
    'test.yaml#0 Gateway infra/web: spec.gatewayClassName: Required value',
    'test.yaml#0 Gateway infra/web: spec.listeners: Invalid value: 0: should have at least 1 items',
  ]);
  const bad = route([{ matches: [{ path: { type: 'Prefix', value: '/' } }], backendRefs: [{ name: 's', port: 80 }] }], {
    hostnames: ['Bad_Host'],
  });
  assert.deepEqual(problems(bad), [
    String.raw`test.yaml#0 HTTPRoute app/r: spec.hostnames[0]: Invalid value: "Bad_Host": should match '^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
    'test.yaml#0 HTTPRoute app/r: spec.rules[0].matches[0].path.type: Unsupported value: "Prefix": supported values: "Exact", "PathPrefix", "RegularExpression"',
    "test.yaml#0 HTTPRoute app/r: spec.rules[0].matches[0].path: type must be one of ['Exact', 'PathPrefix', 'RegularExpression']",
  ]);
});

test('a CEL rule violation is rejected with the rule message at the declaring node', () => {
  const header = (n: string) => ({
    type: 'RequestHeaderModifier',
    requestHeaderModifier: { set: [{ name: n, value: 'v' }] },
  });
  assert.deepEqual(problems(route([{ filters: [header('a'), header('b')] }])), [
    'test.yaml#0 HTTPRoute app/r: spec.rules[0].filters: RequestHeaderModifier filter cannot be repeated',
  ]);
  // A rule on a list item runs for every item, with that item's path.
  assert.deepEqual(problems(route([{ backendRefs: [{ name: 'a', port: 80 }, { name: 'b' }] }])), [
    'test.yaml#0 HTTPRoute app/r: spec.rules[0].backendRefs[1]: Must have port for Service reference',
  ]);
  const passthroughHttps = { name: 'https', port: 443, protocol: 'HTTPS', tls: { mode: 'Passthrough' } };
  assert.deepEqual(problems(gateway([passthroughHttps])), [
    'test.yaml#0 Gateway infra/web: spec.listeners: tls mode must be Terminate for protocol HTTPS',
  ]);
});

test('CEL rules see integers as CEL ints (size arithmetic over defaulted matches)', () => {
  const matches = (n: number) => Array.from({ length: n }, (_, i) => ({ path: { type: 'Exact', value: `/${i}` } }));
  const ok = route([{ matches: matches(64) }, { matches: matches(63) }, {}]);
  assert.deepEqual(problems(ok), []);
  const tooMany = route([{ matches: matches(64) }, { matches: matches(64) }, {}]);
  assert.deepEqual(problems(tooMany), [
    'test.yaml#0 HTTPRoute app/r: spec.rules: While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128',
  ]);
});

test('list-type map keys must be unique', () => {
  const r = problems(
    gateway([
      { name: 'http', port: 80, protocol: 'HTTP' },
      { name: 'http', port: 8080, protocol: 'HTTP' },
    ]),
  );
  assert.ok(
    r.includes('test.yaml#0 Gateway infra/web: spec.listeners[1]: Duplicate value: {"name":"http"}'),
    r.join('\n'),
  );
});

test('type errors stop CEL evaluation, as in the API server', () => {
  const r = problems(gateway([{ name: 'http', port: '80', protocol: 'HTTP' }]));
  assert.deepEqual(r, [
    'test.yaml#0 Gateway infra/web: spec.listeners[0].port: Invalid value: "80": must be of type integer',
    'test.yaml#0 Gateway infra/web: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
  ]);
});

test('unknown fields are pruned with a warning; nulls give way to defaults', () => {
  const r = admit(route([{ backendRefs: [{ name: 's', port: 80, weight: null, colour: 'red' }] }], { extra: true }));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings.map(formatProblem), [
    'test.yaml#0 HTTPRoute app/r: spec.rules[0].backendRefs[0].colour: unknown field (dropped)',
    'test.yaml#0 HTTPRoute app/r: spec.extra: unknown field (dropped)',
  ]);
  const spec = (r.object as unknown as HTTPRoute).spec;
  assert.equal('extra' in spec, false);
  assert.deepEqual(spec.rules![0].backendRefs![0], { name: 's', port: 80, weight: 1, group: '', kind: 'Service' });
});

test('metadata: name syntax, namespace default, cluster scope, unknown fields', () => {
  assert.deepEqual(problems({ ...route([{}]), metadata: { name: 'My_Route' } }), [
    "test.yaml#0 HTTPRoute default/My_Route: metadata.name: Invalid value: \"My_Route\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(
    problems({ ...route([{}]), metadata: { name: 'a'.repeat(254) } }).map((p) => p.slice(-35)),
    ['must be no more than 253 characters'],
  );
  const r = admit({ ...route([{}]), metadata: { name: 'r', color: 'blue', creationTimestamp: null } });
  assert.deepEqual(r.object!.metadata, { name: 'r', namespace: 'default', generation: 1 });
  assert.deepEqual(r.warnings.map(formatProblem), [
    'test.yaml#0 HTTPRoute default/r: metadata.color: unknown field (dropped)',
  ]);

  const gc = admit({
    apiVersion: GW,
    kind: 'GatewayClass',
    metadata: { name: 'sluice', namespace: 'x', generation: 4 },
    spec: { controllerName: 'example.com/sluice' },
  });
  assert.deepEqual(gc.problems, []);
  assert.deepEqual(gc.object!.metadata, { name: 'sluice', generation: 4 });
  assert.deepEqual(gc.warnings.map(formatProblem), [
    'test.yaml#0 GatewayClass sluice: metadata.namespace: GatewayClass is cluster-scoped; namespace ignored',
  ]);
  assert.deepEqual(
    problems({ ...route([{}]), metadata: { name: 'r', namespace: 'Bad', labels: { 'a/b/c': 'x' } } }).length,
    2,
  );
});

test('status is ignored on create for kinds with a status subresource, then defaulted', () => {
  const r = admit({
    ...gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
    status: { addresses: [{ value: 'x' }] },
  });
  const status = r.object!.status as { addresses?: unknown; conditions: Array<{ reason: string }> };
  assert.equal(status.addresses, undefined);
  assert.deepEqual(
    status.conditions.map((c) => c.reason),
    ['Pending', 'Pending'],
  );
});

test('every served version validates against its own schema', () => {
  const grant = (apiVersion: string) => ({
    apiVersion,
    kind: 'ReferenceGrant',
    metadata: { name: 'g', namespace: 'b' },
    spec: {
      from: [{ group: GW.split('/')[0], kind: 'HTTPRoute', namespace: 'a' }],
      to: [{ group: '', kind: 'Service' }],
    },
  });
  for (const v of ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1']) {
    assert.deepEqual(admit(grant(v)).problems, [], v);
  }
  const tcp = (apiVersion: string) => ({
    apiVersion,
    kind: 'TCPRoute',
    metadata: { name: 't' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 's', port: 9000 }] }] },
  });
  const v1 = admit(tcp('gateway.networking.k8s.io/v1'));
  assert.deepEqual([v1.problems, v1.warnings], [[], []]);
  const alpha = admit(tcp('gateway.networking.k8s.io/v1alpha2'));
  assert.deepEqual(alpha.problems, []);
  assert.match(
    formatProblem(alpha.warnings[0]),
    /^test\.yaml#0 TCPRoute default\/t: The v1alpha2 version of TCPRoute has been deprecated/,
  );
  assert.deepEqual(problems(tcp('gateway.networking.k8s.io/v2')), [
    'test.yaml#0 TCPRoute t: no matches for kind "TCPRoute" in version "gateway.networking.k8s.io/v2" (served versions: gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1alpha2)',
  ]);
});

test('kinds Sluice does not read are ignored; malformed documents are problems', () => {
  assert.deepEqual(admit({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: 7 }), {
    problems: [],
    warnings: [],
    ignored: true,
  });
  assert.deepEqual(problems(['a']), ['test.yaml#0: not a Kubernetes object: the document is a list']);
  assert.deepEqual(problems('text'), ['test.yaml#0: not a Kubernetes object: the document is a string']);
  assert.deepEqual(problems({ kind: 'Service', metadata: {} }), [
    'test.yaml#0 Service: apiVersion: Required value',
    'test.yaml#0 Service: metadata.name: Required value',
  ]);
  assert.deepEqual(problems({ apiVersion: 'v1', metadata: { name: 'x' } }), ['test.yaml#0: kind: Required value']);
});

test('core kinds: Service defaults and checks', () => {
  const svc = admit({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'app' },
    spec: { selector: { app: 'echo' }, ports: [{ port: 80 }], sessionAffinity: 'None' },
  });
  assert.deepEqual([svc.problems, svc.warnings], [[], []]);
  assert.deepEqual(svc.object!.spec, {
    type: 'ClusterIP',
    selector: { app: 'echo' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
  });
  assert.deepEqual(
    problems({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: '1echo' },
      spec: { ports: [{ port: 80 }, { port: 81, name: 'b', targetPort: 70000 }] },
    }).map((p) => p.replace(/: a DNS-1035 label.*/, '')),
    [
      'test.yaml#0 Service default/1echo: metadata.name: Invalid value: "1echo"',
      'test.yaml#0 Service default/1echo: spec.ports: ports must be named when a Service has more than one port',
      'test.yaml#0 Service default/1echo: spec.ports[1].targetPort: must be a port number between 1 and 65535 or an IANA service name',
    ],
  );
});

test('core kinds: Secret stringData is merged into data', () => {
  const r = admit({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'tls' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'b2xk', extra: 'eA==' },
    stringData: { 'tls.crt': 'CERT', 'tls.key': 'KEY' },
  });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.object!.data, { 'tls.crt': 'Q0VSVA==', extra: 'eA==', 'tls.key': 'S0VZ' });
  assert.equal(r.object!.stringData, undefined);
  assert.deepEqual(
    problems({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': '!' },
    }),
    [
      'test.yaml#0 Secret default/s: data[tls.crt]: Invalid value: "!": must be of format byte',
      'test.yaml#0 Secret default/s: data: tls.crt and tls.key are required for a Secret of type kubernetes.io/tls',
    ],
  );
  assert.equal(admit({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }).object!.type, 'Opaque');
});

test('core kinds: EndpointSlice addresses match the address type; ConfigMap keys', () => {
  const slice = (addressType: string, addresses: string[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-1', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType,
    endpoints: [{ addresses }],
    ports: [{ port: 8080 }],
  });
  const ok = admit(slice('IPv4', ['10.0.0.1']));
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.object!.ports, [{ port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(admit(slice('IPv6', ['fd00::1'])).problems, []);
  assert.deepEqual(problems(slice('IPv4', ['fd00::1'])), [
    'test.yaml#0 EndpointSlice default/echo-1: endpoints: every endpoint address must be a valid address of the slice addressType',
  ]);
  assert.equal(
    problems({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'bad key': 'x' } }).length,
    1,
  );
});

test('crdSchemaFor returns the schema of a served version only', () => {
  assert.ok(crdSchemaFor(GW, 'HTTPRoute')?.properties?.spec);
  assert.ok(crdSchemaFor('v1', 'Service')?.properties?.spec);
  assert.equal(crdSchemaFor('gateway.networking.k8s.io/v7', 'HTTPRoute'), undefined);
  assert.equal(crdSchemaFor('apps/v1', 'Deployment'), undefined);
});
