/**
 * GRPCRoute: method matches become path matches, headers, filters, weights,
 * gRPC precedence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RE2JS } from 're2js';
import { conditionsOf, gatewayYaml, httpEntries, routeParents, runRoutes, serviceYaml } from './route-fixtures.ts';

const base =
  gatewayYaml(`
  - {name: http, port: 80, protocol: HTTP}
`) +
  '---' +
  serviceYaml('g1', 'infra', ['10.0.0.1'], { appProtocol: 'kubernetes.io/h2c' }) +
  '---' +
  serviceYaml('g2', 'infra', ['10.0.0.2']);

function grpcRoute(rules: string, name = 'g'): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: ${name}, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
${rules}
`;
}

const SVC = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

test('method matches: exact service+method, service only, method only, regular expressions', () => {
  const r = runRoutes(
    base +
      grpcRoute(`
  - matches:
    - method: {service: ${SVC}, method: Echo}
    - method: {service: ${SVC}}
    - method: {method: EchoTwo}
    - method: {type: RegularExpression, service: "${SVC.replaceAll('.', '\\\\.')}", method: "Echo.*"}
    - method: {type: RegularExpression, method: "Echo(Two|Three)"}
    backendRefs: [{name: g1, port: 8080}]
`),
  );
  const entries = httpEntries(r, 'infra/gw', 'http');
  const byMatch = new Map(entries.map((e) => [e.matchIndex, e]));
  assert.deepEqual(byMatch.get(0)!.path, { type: 'Exact', value: `/${SVC}/Echo` });
  assert.deepEqual(byMatch.get(1)!.path, { type: 'PathPrefix', value: `/${SVC}` });
  assert.equal(byMatch.get(2)!.path.type, 'RegularExpression');
  const methodOnly = RE2JS.compile(byMatch.get(2)!.path.value);
  assert.ok(methodOnly.matches(`/${SVC}/EchoTwo`));
  assert.ok(!methodOnly.matches(`/${SVC}/EchoTwoX`));
  assert.ok(!methodOnly.matches(`/${SVC}/Echo`));
  const re = RE2JS.compile(byMatch.get(3)!.path.value);
  assert.ok(re.matches(`/${SVC}/EchoThree`));
  assert.ok(!re.matches(`/other.Svc/EchoThree`));
  const anySvc = RE2JS.compile(byMatch.get(4)!.path.value);
  assert.ok(anySvc.matches('/a.b.C/EchoThree'));
  assert.ok(!anySvc.matches('/a.b.C/Echo'));
  assert.ok(entries.every((e) => e.grpc === true));
  assert.ok(entries.every((e) => e.name.startsWith('grpcroute/infra/g/rule/0/match/')));
  // gRPC precedence: more service characters first (a regex counts its pattern), then method characters.
  assert.deepEqual(
    entries.map((e) => e.matchIndex),
    [3, 0, 1, 4, 2],
  );
});

test('no matches = every call; headers; backends speak grpc with weights', () => {
  const r = runRoutes(
    base +
      grpcRoute(`
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: g2, port: 8080}]
  - backendRefs: [{name: g1, port: 8080, weight: 7}, {name: g2, port: 8080, weight: 3}]
`),
  );
  const [withHeader, all] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(withHeader.headers, [{ name: 'version', type: 'Exact', value: 'two' }]);
  assert.deepEqual(all.path, { type: 'PathPrefix', value: '/' });
  assert.deepEqual(
    all.backends.map((b) => [b.name, b.weight, b.protocol]),
    [
      ['Service/infra/g1:8080', 7, 'grpc'],
      ['Service/infra/g2:8080', 3, 'grpc'],
    ],
  );
});

test('filters: header modifiers and mirror', () => {
  const r = runRoutes(
    base +
      grpcRoute(`
  - matches: [{method: {service: a.B}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-set, value: v}], remove: [x-remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-add, value: v}]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: g2, port: 8080}, percent: 10}
    backendRefs: [{name: g1, port: 8080}]
`),
  );
  const [a] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(
    a.filters.map((f) => f.type),
    ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror'],
  );
  const mirror = a.filters[2];
  assert.ok(mirror.type === 'RequestMirror');
  assert.equal(mirror.mirror.backend.protocol, 'grpc');
  assert.equal(mirror.mirror.percent, 10);
  assert.deepEqual(conditionsOf(routeParents(r, 'GRPCRoute', 'infra', 'g')[0]), [
    'Accepted=True/Accepted',
    'ResolvedRefs=True/ResolvedRefs',
  ]);
});

test('an HTTPRouteFilter direct response with a 2xx status is refused for gRPC', () => {
  const r = runRoutes(
    base +
      grpcRoute(`
  - filters:
    - type: ExtensionRef
      extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: ok}
`) +
      `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: ok, namespace: infra}
spec: {directResponse: {body: {type: Inline, inline: fine}}}
`,
  );
  assert.deepEqual(conditionsOf(routeParents(r, 'GRPCRoute', 'infra', 'g')[0])[0], 'Accepted=False/UnsupportedValue');
});
