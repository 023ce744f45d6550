/** Which route entry wins, and why every other entry of the listener lost. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLASS, entry, onlyPath, run, service, verdicts } from './helpers.ts';

const GATEWAY = `${CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: http, protocol: HTTP, port: 80}
${service('app', 9001)}${service('beta', 9002)}`;

const SHOP = `${GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: web}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: Exact, value: /cart}}]
    backendRefs: [{name: app, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /cart}, method: POST}]
    backendRefs: [{name: app, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /cart}, headers: [{name: x-user, value: beta}]}]
    backendRefs: [{name: beta, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /cart}, queryParams: [{name: x, value: "2"}]}]
    backendRefs: [{name: app, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: app, port: 80}]
  - matches: [{path: {type: RegularExpression, value: "/cart/[a-z]+"}}]
    backendRefs: [{name: app, port: 80}]
`;

describe('route entries', () => {
  test('the router picks the winner; each loser names the criteria it fails', () => {
    const x = run(SHOP, 'GET http://shop.example.com/cart/1?x=1', { headers: ['X-User: beta'] });
    const p = onlyPath(x);
    assert.equal(p.listener, 'default/web/http');
    assert.equal(p.virtualHost, 'shop.example.com');
    assert.equal(p.route?.ruleIndex, 2);
    // The IR's precedence order: Exact, RegularExpression, then prefixes longest first, method, headers, query.
    assert.deepEqual(verdicts(p), {
      'shop r0m0 shop.example.com': 'no-match',
      'shop r5m0 shop.example.com': 'no-match',
      'shop r1m0 shop.example.com': 'no-match',
      'shop r2m0 shop.example.com': 'selected',
      'shop r3m0 shop.example.com': 'no-match',
      'shop r4m0 shop.example.com': 'lower-precedence',
    });
    assert.deepEqual(entry(p, 'shop', 0).mismatches, [{ on: 'path', want: 'Exact /cart', got: '/cart/1' }]);
    assert.deepEqual(entry(p, 'shop', 5).mismatches, [
      { on: 'path', want: 'RegularExpression /cart/[a-z]+', got: '/cart/1' },
    ]);
    assert.deepEqual(entry(p, 'shop', 1).mismatches, [{ on: 'method', want: 'POST', got: 'GET' }]);
    assert.deepEqual(entry(p, 'shop', 3).mismatches, [{ on: 'query', name: 'x', want: 'Exact "2"', got: '1' }]);
    assert.equal(
      entry(p, 'shop', 4).reason,
      'lower precedence than HTTPRoute default/shop rule 2 match 0: longer path value (5 vs 1 characters)',
    );
    assert.equal(p.outcome.kind, 'proxied');
    assert.deepEqual(
      p.backends.map((b) => [b.name, b.weight, b.percent, b.endpoints]),
      [['Service/default/beta:80', 1, 100, ['127.0.0.1:9002']]],
    );
  });

  test('a header absent from the request, and several failing criteria at once', () => {
    const p = onlyPath(run(SHOP, 'POST http://shop.example.com/other?x=2'));
    assert.equal(p.route?.ruleIndex, 4, 'only PathPrefix / matches');
    assert.deepEqual(entry(p, 'shop', 2).mismatches, [
      { on: 'path', want: 'PathPrefix /cart', got: '/other' },
      { on: 'header', name: 'x-user', want: 'Exact "beta"', got: null },
    ]);
    assert.deepEqual(entry(p, 'shop', 1).mismatches, [{ on: 'path', want: 'PathPrefix /cart', got: '/other' }]);
  });

  test('no entry matches: 404, every entry explained', () => {
    const yaml = SHOP.replace('value: /}}]', 'value: /shop}}]');
    const p = onlyPath(run(yaml, 'GET http://shop.example.com/nothing'));
    assert.equal(p.route, undefined);
    assert.deepEqual(p.outcome, {
      kind: 'not-found',
      status: 404,
      summary: '404: no route entry of virtual host shop.example.com matches',
    });
    assert.ok(p.entries.every((e) => e.verdict === 'no-match' && e.mismatches.length > 0));
  });

  test('ties: older route first, then namespace/name, then rule order', () => {
    const route = (name: string, created: string, rules = 1): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  parentRefs: [{name: web}]
  rules:
${'  - matches: [{path: {type: PathPrefix, value: /same}}]\n    backendRefs: [{name: app, port: 80}]\n'.repeat(rules)}`;
    const yaml =
      GATEWAY +
      route('a-new', '2024-06-01T00:00:00Z') +
      route('b-old', '2024-01-01T00:00:00Z', 2) +
      route('c-old', '2024-01-01T00:00:00Z');
    const p = onlyPath(run(yaml, 'GET http://any.example.com/same/x'));
    assert.equal(p.route?.route.name, 'b-old');
    assert.equal(p.route?.ruleIndex, 0);
    const winner = 'lower precedence than HTTPRoute default/b-old rule 0 match 0';
    assert.equal(
      entry(p, 'a-new', 0).reason,
      `${winner}: older route (created 2024-01-01T00:00:00Z vs 2024-06-01T00:00:00Z)`,
    );
    assert.equal(
      entry(p, 'c-old', 0).reason,
      `${winner}: equal matches and age: route default/b-old sorts before default/c-old`,
    );
    assert.equal(entry(p, 'b-old', 1).reason, `${winner}: equal matches: earlier rule of the same route (rule 0 vs 1)`);
  });

  test('virtual hosts: the most specific host is picked, entries of the others are listed with why', () => {
    const yaml = `${GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: default}
spec:
  parentRefs: [{name: web}]
  hostnames: ["*.example.com", other.test]
  rules: [{backendRefs: [{name: app, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: exact, namespace: default}
spec:
  parentRefs: [{name: web}]
  hostnames: [shop.example.com]
  rules: [{matches: [{path: {type: PathPrefix, value: /cart}}], backendRefs: [{name: beta, port: 80}]}]
`;
    const p = onlyPath(run(yaml, 'GET http://shop.example.com/'));
    assert.equal(p.virtualHost, 'shop.example.com');
    assert.equal(p.outcome.status, 404, 'no fallback to *.example.com');
    assert.deepEqual(verdicts(p), {
      'exact r0m0 shop.example.com': 'no-match',
      'wild r0m0 *.example.com': 'other-host',
      'wild r0m0 other.test': 'other-host',
    });
    const wild = p.entries.filter((e) => e.verdict === 'other-host').map((e) => e.reason);
    assert.deepEqual(wild, [
      'hostname other.test does not match shop.example.com',
      'hostname *.example.com also matches shop.example.com, but virtual host shop.example.com is more specific (no fallback between virtual hosts)',
    ]);
  });
});

describe('what runs after the match', () => {
  const FILTERS = `${GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: edge, namespace: default}
spec:
  parentRefs: [{name: web}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 301}
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-env, value: prod}], remove: [x-debug]}
    - type: URLRewrite
      urlRewrite: {hostname: internal.svc, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-served-by, value: sluice}]}
    backendRefs:
    - {name: app, port: 80, weight: 3}
    - name: missing
      port: 80
      weight: 1
    - {name: beta, port: 80, weight: 0}
    timeouts: {request: 5s}
`;

  test('a redirect: the Location the gateway answers', () => {
    const p = onlyPath(run(FILTERS, 'GET http://shop.example.com/old/page?q=1'));
    assert.deepEqual(p.outcome, {
      kind: 'redirect',
      status: 301,
      summary: '301 redirect to https://shop.example.com/new/page?q=1',
      location: 'https://shop.example.com/new/page?q=1',
    });
    assert.deepEqual(
      p.filters.map((f) => [f.type, f.phases, f.summary]),
      [['RequestRedirect', ['request'], 'scheme https, path ReplacePrefixMatch /new, status 301']],
    );
    assert.equal(p.upstream, undefined);
  });

  test('filters in order with their phases, the rewritten upstream request, weights and an invalid backend', () => {
    const p = onlyPath(run(FILTERS, 'GET http://shop.example.com/api/items?id=7'));
    assert.deepEqual(
      p.filters.map((f) => [f.type, f.phases, f.summary]),
      [
        ['RequestHeaderModifier', ['request'], 'set x-env: prod, remove x-debug'],
        ['URLRewrite', ['request'], 'hostname internal.svc, path ReplacePrefixMatch /v2'],
        ['ResponseHeaderModifier', ['response'], 'add x-served-by: sluice'],
      ],
    );
    assert.deepEqual(p.upstream, { host: 'internal.svc', path: '/v2/items?id=7' });
    assert.deepEqual(
      p.backends.map((b) => [b.name, b.weight, b.percent, b.invalid, b.notes]),
      [
        ['Service/default/app:80', 3, 75, undefined, []],
        [
          'Service/default/missing:80',
          1,
          25,
          'BackendNotFound: spec.rules[1].backendRefs[1]: Service default/missing not found',
          [],
        ],
      ],
    );
    assert.deepEqual(p.outcome, {
      kind: 'proxied',
      summary: 'proxied to one of 2 backends by weight; 25% of requests get 500 (invalid backendRef)',
    });
    assert.deepEqual(p.traffic, { requestTimeoutMs: 5000 });
    assert.deepEqual(p.policies, []);
  });

  test('weight 0 refs are not in the IR; a rule whose every backendRef is unusable answers 500 itself', () => {
    const yaml = FILTERS.replace('{name: app, port: 80, weight: 3}', '{name: gone, port: 80}').replace(
      '{name: beta, port: 80, weight: 0}',
      '{name: gone2, port: 80}',
    );
    const p = onlyPath(run(yaml, 'GET http://shop.example.com/api'));
    assert.deepEqual(p.outcome, {
      kind: 'direct-response',
      status: 500,
      summary: '500: no backendRef of the rule can be used (none given, all invalid, or all weight 0)',
    });
    assert.deepEqual(p.backends, [], 'the IR keeps no backend for a rule that cannot reach one');
  });
});
