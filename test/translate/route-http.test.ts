/**
 * HTTPRoute rules: matches, filters, backends, the spec's 500s, traffic
 * settings, and the order of entries on a listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conditionsOf,
  gatewayYaml,
  httpEntries,
  listenerOf,
  routeParents,
  runRoutes,
  serviceYaml,
} from './route-fixtures.ts';

const base =
  gatewayYaml(`
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: All}}
`) +
  '---' +
  serviceYaml('v1', 'infra', ['10.0.0.1']) +
  '---' +
  serviceYaml('v2', 'infra', ['10.0.0.2']);

function httpRoute(spec: string, name = 'r', meta = ''): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: infra${meta}}
spec:
  parentRefs: [{name: gw}]
${spec}
`;
}

function run(spec: string, extra = '') {
  return runRoutes(base + httpRoute(spec) + extra);
}

function status(r: ReturnType<typeof run>, name = 'r'): string[] {
  return conditionsOf(routeParents(r, 'HTTPRoute', 'infra', name)[0]);
}

test('matches: defaults, every match type, one entry per match', () => {
  const r = run(`
  rules:
  - name: first
    backendRefs: [{name: v1, port: 8080}]
  - matches:
    - path: {type: Exact, value: /exact}
      method: POST
      headers: [{name: X-A, value: "1"}, {name: x-a, value: "2"}, {name: X-B, type: RegularExpression, value: "b.*"}]
      queryParams: [{name: q, value: v}]
    - path: {type: RegularExpression, value: "/re/[0-9]+"}
    backendRefs: [{name: v1, port: 8080}]
`);
  const entries = httpEntries(r, 'infra/gw', 'http');
  assert.equal(entries.length, 3);
  const [exact, regex, all] = entries;
  assert.equal(exact.name, 'httproute/infra/r/rule/1/match/0/*');
  assert.deepEqual(exact.path, { type: 'Exact', value: '/exact' });
  assert.equal(exact.method, 'POST');
  assert.deepEqual(exact.headers, [
    { name: 'X-A', type: 'Exact', value: '1' },
    { name: 'X-B', type: 'RegularExpression', value: 'b.*' },
  ]);
  assert.deepEqual(exact.queryParams, [{ name: 'q', type: 'Exact', value: 'v' }]);
  assert.equal(regex.matchIndex, 1);
  assert.deepEqual(regex.path, { type: 'RegularExpression', value: '/re/[0-9]+' });
  assert.deepEqual(all.path, { type: 'PathPrefix', value: '/' });
  assert.equal(all.ruleName, 'first');
  assert.equal(all.hostname, '*');
  assert.deepEqual(all.route, { kind: 'HTTPRoute', namespace: 'infra', name: 'r' });
});

test('an invalid regex drops its rule: PartiallyInvalid, or Accepted=False when every rule is invalid', () => {
  const partial = run(`
  rules:
  - matches: [{path: {type: RegularExpression, value: "/(unclosed"}}]
    backendRefs: [{name: v1, port: 8080}]
  - backendRefs: [{name: v1, port: 8080}]
`);
  assert.deepEqual(status(partial), [
    'Accepted=True/Accepted',
    'ResolvedRefs=True/ResolvedRefs',
    'PartiallyInvalid=True/UnsupportedValue',
  ]);
  assert.deepEqual(
    httpEntries(partial, 'infra/gw', 'http').map((e) => e.ruleIndex),
    [1],
  );
  const none = run(`
  rules:
  - matches: [{headers: [{name: x, type: RegularExpression, value: "(("}]}]
    backendRefs: [{name: v1, port: 8080}]
`);
  assert.deepEqual(status(none), ['Accepted=False/UnsupportedValue', 'ResolvedRefs=True/ResolvedRefs']);
  assert.equal(listenerOf(none, 'infra/gw', 'http').attachedRoutes, 0);
  assert.deepEqual(httpEntries(none, 'infra/gw', 'http'), []);
});

test('core filters in the order written, with defaults', () => {
  const r = run(`
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: a, value: "1"}], add: [{name: b, value: "2"}], remove: [c]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: d, value: "4"}]}
    - type: URLRewrite
      urlRewrite: {hostname: rewritten.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: v2, port: 8080}, fraction: {numerator: 25, denominator: 50}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: v2, port: 8080}}
    - type: CORS
      cors: {allowOrigins: ["https://*.example.com"], allowMethods: [GET], allowCredentials: true}
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, path: {type: ReplaceFullPath, replaceFullPath: /new}}
`);
  const [redirect, api] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(redirect.filters, [
    {
      type: 'RequestRedirect',
      redirect: { statusCode: 302, scheme: 'https', path: { type: 'ReplaceFullPath', value: '/new' } },
    },
  ]);
  assert.deepEqual(redirect.backends, [], 'a redirect needs no backend');
  assert.equal(redirect.directResponse, undefined);
  assert.deepEqual(
    api.filters.map((f) => f.type),
    ['RequestHeaderModifier', 'ResponseHeaderModifier', 'URLRewrite', 'RequestMirror', 'RequestMirror', 'CORS'],
  );
  assert.deepEqual(api.filters[0], {
    type: 'RequestHeaderModifier',
    modifier: { set: [{ name: 'a', value: '1' }], add: [{ name: 'b', value: '2' }], remove: ['c'] },
  });
  assert.deepEqual(api.filters[2], {
    type: 'URLRewrite',
    rewrite: { hostname: 'rewritten.example.com', path: { type: 'ReplacePrefixMatch', value: '/v2' } },
  });
  const mirrors = api.filters.filter((f) => f.type === 'RequestMirror');
  assert.deepEqual(
    mirrors.map((m) => m.type === 'RequestMirror' && [m.mirror.backend.name, m.mirror.percent]),
    [
      ['Service/infra/v2:8080', 50],
      ['Service/infra/v2:8080', 100],
    ],
  );
  assert.deepEqual(api.filters[5], {
    type: 'CORS',
    cors: {
      allowOrigins: ['https://*.example.com'],
      allowMethods: ['GET'],
      allowHeaders: [],
      exposeHeaders: [],
      maxAge: 5,
      allowCredentials: true,
    },
  });
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
});

test('a RequestMirror to an invalid backend is dropped and reported; the rule still serves', () => {
  const r = run(`
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: missing, port: 8080}}
    backendRefs: [{name: v1, port: 8080}]
`);
  const [entry] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(entry.filters, []);
  assert.equal(entry.backends.length, 1);
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']);
});

test('ExtensionRef to an HTTPRouteFilter: direct response and regex rewrite', () => {
  const r = run(
    `
  rules:
  - matches: [{path: {type: Exact, value: /dr}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: dr}
  - matches: [{path: {type: PathPrefix, value: /rw}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: rw}
    backendRefs: [{name: v1, port: 8080}]
`,
    `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: dr, namespace: infra}
spec:
  directResponse:
    statusCode: 418
    contentType: text/plain
    body: {type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: body}}
    header: {set: [{name: x-teapot, value: "yes"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: body, namespace: infra}
data: {response.body: "I am a teapot"}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: rw, namespace: infra}
spec:
  urlRewrite:
    path: {type: ReplaceRegexMatch, replaceRegexMatch: {pattern: "^/rw/(.*)", substitution: "/\\\\1"}}
    hostname: {type: Header, header: x-host}
`,
  );
  const [dr, rw] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(dr.filters, [
    { type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'x-teapot', value: 'yes' }] } },
    { type: 'DirectResponse', response: { statusCode: 418, body: 'I am a teapot', contentType: 'text/plain' } },
  ]);
  assert.deepEqual(dr.backends, []);
  assert.equal(dr.directResponse, undefined);
  assert.deepEqual(rw.filters, [
    {
      type: 'URLRewrite',
      rewrite: { path: { type: 'RegexReplace', pattern: '^/rw/(.*)', substitution: '/\\1' }, hostFromHeader: 'x-host' },
    },
  ]);
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
});

test('an ExtensionRef that does not resolve: ResolvedRefs=False and the rule answers 500', () => {
  const r = run(`
  rules:
  - matches: [{path: {type: PathPrefix, value: /a}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: missing}
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /b}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: example.com, kind: Magic, name: m}
    backendRefs: [{name: v1, port: 8080}]
`);
  const entries = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(
    entries.map((e) => [e.directResponse, e.backends.length, e.filters.length]),
    [
      [{ statusCode: 500 }, 0, 0],
      [{ statusCode: 500 }, 0, 0],
    ],
  );
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=False/UnsupportedValue']);
});

test('an unsupported filter (ExternalAuth) makes its rule invalid and answer 500', () => {
  const r = run(`
  rules:
  - matches: [{path: {type: PathPrefix, value: /auth}}]
    filters:
    - type: ExternalAuth
      externalAuth: {protocol: HTTP, backendRef: {name: v2, port: 8080}, http: {}}
    backendRefs: [{name: v1, port: 8080}]
  - backendRefs: [{name: v1, port: 8080}]
`);
  const [auth] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(auth.directResponse, { statusCode: 500 }, 'fails closed instead of falling through');
  assert.deepEqual(status(r), [
    'Accepted=True/Accepted',
    'ResolvedRefs=True/ResolvedRefs',
    'PartiallyInvalid=True/UnsupportedValue',
  ]);
});

test('backends: an invalid ref keeps its weight and is marked invalid; weight 0 is left out', () => {
  const r = run(`
  rules:
  - backendRefs:
    - {name: v1, port: 8080, weight: 3}
    - {name: missing, port: 8080, weight: 1}
    - {name: v2, port: 8080, weight: 0}
`);
  const [entry] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(
    entry.backends.map((b) => [b.name, b.weight, b.invalid ?? false, b.endpoints.length]),
    [
      ['Service/infra/v1:8080', 3, false, 1],
      ['Service/infra/missing:8080', 1, true, 0],
    ],
  );
  assert.equal(entry.directResponse, undefined);
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']);
});

test('backends: all invalid, all weight 0, or none at all = a 500 for the rule', () => {
  const r = run(`
  rules:
  - matches: [{path: {type: Exact, value: /invalid}}]
    backendRefs: [{name: v1, port: 8080, kind: Pod}, {name: nope, port: 8080}]
  - matches: [{path: {type: Exact, value: /zero}}]
    backendRefs: [{name: v1, port: 8080, weight: 0}]
  - matches: [{path: {type: Exact, value: /none}}]
`);
  const entries = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(
    entries.map((e) => [e.path.value, e.directResponse?.statusCode, e.backends.length]),
    [
      ['/invalid', 500, 0],
      ['/zero', 500, 0],
      ['/none', 500, 0],
    ],
  );
  // The first failure decides the reason; every one is in the message.
  const rr = routeParents(r, 'HTTPRoute', 'infra', 'r')[0].conditions[1];
  assert.equal(rr.reason, 'InvalidKind');
  assert.match(rr.message, /spec.rules\[0\].backendRefs\[1\]: Service infra\/nope not found/);
});

test('backendRef filters run only for that backend; a bad one makes only that backend invalid', () => {
  const r = run(`
  rules:
  - backendRefs:
    - name: v1
      port: 8080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: x-backend, value: v1}]}
    - name: v2
      port: 8080
      filters:
      - type: ExtensionRef
        extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: missing}
`);
  const [entry] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(entry.backends[0].filters, [
    { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-backend', value: 'v1' }] } },
  ]);
  assert.equal(entry.backends[1].invalid, true);
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=False/UnsupportedValue']);
});

test('timeouts, retry and session persistence', () => {
  const r = run(`
  rules:
  - timeouts: {request: 1h2m, backendRequest: 500ms}
    retry: {codes: [500, 503], attempts: 3, backoff: 1s}
    sessionPersistence: {type: Cookie, cookie: {name: sticky}}
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{path: {type: Exact, value: /off}}]
    timeouts: {request: 0s}
    retry: {}
    backendRefs: [{name: v1, port: 8080}]
`);
  const [off, main] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(main.timeouts, { requestMs: 3_720_000, backendRequestMs: 500 });
  assert.deepEqual(main.retry, { codes: [500, 503], attempts: 3, backoffMs: 1000 });
  // Admission applied the CRD defaults; they are copied as they are.
  assert.deepEqual(main.sessionPersistence, {
    type: 'Cookie',
    cookie: { name: 'sticky', lifetimeType: 'Session', path: '/' },
  });
  assert.deepEqual(off.timeouts, { requestMs: 0 });
  assert.deepEqual(off.retry, { codes: [], attempts: 1 });
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
});

test('entries follow precedence across routes, virtual hosts by hostname specificity', () => {
  const r = runRoutes(
    base +
      httpRoute(
        `
  hostnames: ["*.example.com", a.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}, {path: {type: PathPrefix, value: /long/prefix}}]
    backendRefs: [{name: v1, port: 8080}]
`,
        'newer',
        ', creationTimestamp: "2024-01-02T00:00:00Z"',
      ) +
      httpRoute(
        `
  hostnames: [a.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}, headers: [{name: x, value: "1"}]}]
    backendRefs: [{name: v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: v2, port: 8080}]
  - matches: [{path: {type: Exact, value: /x}}, {path: {type: RegularExpression, value: "/r.*"}}, {path: {type: PathPrefix, value: /}, method: GET}]
    backendRefs: [{name: v2, port: 8080}]
`,
        'older',
        ', creationTimestamp: "2024-01-01T00:00:00Z"',
      ),
  );
  const vhosts = listenerOf(r, 'infra/gw', 'http').ir!.virtualHosts!;
  assert.deepEqual(
    vhosts.map((v) => v.hostname),
    ['a.example.com', '*.example.com'],
  );
  assert.deepEqual(
    vhosts[0].routes.map((e) => `${e.route.name}#${e.ruleIndex}.${e.matchIndex}`),
    [
      'older#2.0', // Exact
      'older#2.1', // RegularExpression
      'newer#0.1', // longest prefix
      'older#2.2', // method
      'older#0.0', // a header
      'older#1.0', // oldest route
      'newer#0.0',
    ],
  );
  assert.deepEqual(
    vhosts[1].routes.map((e) => e.name),
    ['httproute/infra/newer/rule/0/match/1/*.example.com', 'httproute/infra/newer/rule/0/match/0/*.example.com'],
  );
});

test('cross-serving: an HTTPRoute and a GRPCRoute with intersecting hostnames on one listener, the older wins', () => {
  const grpc = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: infra, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: v2, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: other-host, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.test]
  rules: [{backendRefs: [{name: v2, port: 8080}]}]
`;
  const r = runRoutes(
    base +
      httpRoute(
        `
  hostnames: [a.example.com]
  rules: [{backendRefs: [{name: v1, port: 8080}]}]
`,
        'h',
        ', creationTimestamp: "2024-01-01T00:00:00Z"',
      ) +
      grpc,
  );
  assert.deepEqual(status(r, 'h'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(conditionsOf(routeParents(r, 'GRPCRoute', 'infra', 'g')[0]), [
    'Accepted=False/HostnameConflict',
    'ResolvedRefs=True/ResolvedRefs',
  ]);
  assert.deepEqual(conditionsOf(routeParents(r, 'GRPCRoute', 'infra', 'other-host')[0])[0], 'Accepted=True/Accepted');
  assert.equal(listenerOf(r, 'infra/gw', 'http').attachedRoutes, 2);
  assert.deepEqual(
    listenerOf(r, 'infra/gw', 'http').ir!.virtualHosts!.map((v) => [v.hostname, v.routes.map((e) => e.route.kind)]),
    [
      ['a.example.com', ['HTTPRoute']],
      ['grpc.test', ['GRPCRoute']],
    ],
  );
});

test('a route without rules gets the CRD default: one match-all rule, which has no backend and answers 500', () => {
  const r = runRoutes(base + httpRoute(''));
  const entries = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(
    entries.map((e) => [e.path, e.directResponse]),
    [[{ type: 'PathPrefix', value: '/' }, { statusCode: 500 }]],
  );
  assert.deepEqual(status(r), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
});
