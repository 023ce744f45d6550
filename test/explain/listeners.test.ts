/** Which Gateway and listener take the request, why the others do not, and routes that are not attached. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Explanation } from '../../src/explain/index.ts';
import { CLASS, onlyPath, run, service, tlsSecret } from './helpers.ts';

function reasons(x: Explanation): Record<string, string[]> {
  return Object.fromEntries(x.listeners.map((l) => [l.name, l.verdict === 'accepts' ? ['accepts'] : l.reasons]));
}

const ROUTE = (name: string, parent: string, hostnames = '[shop.example.com]'): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [${parent}]
  hostnames: ${hostnames}
  rules: [{backendRefs: [{name: app, port: 80}]}]
`;

const WEB = `${CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: shop, protocol: HTTP, port: 80, hostname: shop.example.com}
  - {name: api, protocol: HTTP, port: 80, hostname: api.example.com}
  - {name: admin, protocol: HTTP, port: 8080}
  - {name: tcp, protocol: TCP, port: 9000}
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.example.com"
    tls: {certificateRefs: [{name: missing}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: elsewhere, namespace: default}
spec:
  gatewayClassName: not-ours
  listeners:
  - {name: http, protocol: HTTP, port: 80}
${service('app', 9001)}${ROUTE('shop', '{name: web, sectionName: shop}')}${ROUTE(
  'lost',
  '{name: web, sectionName: nosuch}',
)}${ROUTE('foreign', '{name: elsewhere}')}${ROUTE('wildcard', '{name: web, sectionName: api}', '["*.example.com"]')}`;

describe('listeners', () => {
  test('the most specific listener on the socket takes it; every other listener says why not', () => {
    const x = run(WEB, 'GET http://shop.example.com/');
    const p = onlyPath(x);
    assert.deepEqual([p.address, p.port, p.protocol], ['0.0.0.0', 80, 'HTTP']);
    assert.deepEqual(p.gateway, { namespace: 'default', name: 'web' });
    assert.equal(p.listener, 'default/web/shop');
    assert.deepEqual(reasons(x), {
      'default/web/http': ['listener default/web/shop on the same address and port has the more specific hostname'],
      'default/web/shop': ['accepts'],
      'default/web/api': ['hostname api.example.com does not match shop.example.com'],
      'default/web/admin': ['port 8080, the request is for port 80'],
      'default/web/tcp': ['port 9000, the request is for port 80', 'protocol TCP, the request is http (HTTP)'],
      'default/web/https': [
        'port 443, the request is for port 80',
        'protocol HTTPS, the request is http (HTTP)',
        'listener not programmed: Invalid: No valid TLS certificate: tls.certificateRefs[0]: Secret default/missing does not exist',
      ],
      'default/elsewhere/http': ['Gateway not handled by Sluice: GatewayClass "not-ours" does not exist'],
    });
  });

  test('--gateway limits the listeners and the routes considered', () => {
    const x = run(WEB, 'GET http://shop.example.com/', { gateway: { namespace: 'default', name: 'elsewhere' } });
    assert.deepEqual(x.paths, []);
    assert.deepEqual(Object.keys(reasons(x)), ['default/elsewhere/http']);
    assert.deepEqual(
      x.routesNotServed.map((r) => r.route.name),
      ['foreign'],
    );
  });

  test('routes naming the host that are not attached, or attached elsewhere, with their status', () => {
    const x = run(WEB, 'GET http://shop.example.com/');
    assert.deepEqual(
      x.routesNotServed.map((r) => [r.route.name, r.summary]),
      [
        [
          'lost',
          'not attached: Gateway default/web listener nosuch: NoMatchingParent: Gateway default/web has no listener with sectionName nosuch',
        ],
        ['foreign', 'no status from Sluice: its parentRefs (Gateway default/elsewhere) name no Gateway Sluice manages'],
        ['wildcard', 'attached to Gateway default/web listener api, not to the listener this request reaches'],
      ],
    );
    const lost = x.routesNotServed[0];
    assert.deepEqual(
      lost.parents[0].conditions.find((c) => c.type === 'Accepted'),
      {
        type: 'Accepted',
        status: 'False',
        reason: 'NoMatchingParent',
        message: 'Gateway default/web has no listener with sectionName nosuch',
      },
    );
  });

  test('no listener for the port: no path, reasons say so', () => {
    const x = run(WEB, 'GET http://shop.example.com:81/');
    assert.deepEqual(x.paths, []);
    assert.ok(x.listeners.every((l) => l.verdict === 'rejects'));
  });

  test('a socket whose listeners do not take the host: 404', () => {
    const yaml = WEB.replace('  - {name: http, protocol: HTTP, port: 80}\n  - {name: shop', '  - {name: shop');
    const p = onlyPath(run(yaml, 'GET http://other.test/'));
    assert.equal(p.listener, undefined);
    assert.deepEqual(p.outcome, {
      kind: 'not-found',
      status: 404,
      summary: '404: no listener on 0.0.0.0:80 takes host other.test',
    });
  });

  test('several Gateways on the port: one path each; an IP address in the URL picks its Gateway', () => {
    const yaml = `${CLASS}${['a', 'b']
      .map(
        (n) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${n}, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
`,
      )
      .join('')}${service('app', 9001)}${ROUTE('on-a', '{name: a}', '[]')}`;
    const opts = { translate: { addressPool: '127.0.1.0/24' } };
    const x = run(yaml, 'GET http://shop.example.com/', opts);
    assert.deepEqual(
      x.paths.map((p) => [p.address, p.listener, p.outcome.kind, p.route?.route.name]),
      [
        ['127.0.1.1', 'default/a/http', 'proxied', 'on-a'],
        ['127.0.1.2', 'default/b/http', 'not-found', undefined],
      ],
    );
    const byIp = run(yaml, 'GET http://127.0.1.2/', { ...opts, headers: ['Host: shop.example.com'] });
    assert.deepEqual(
      byIp.paths.map((p) => p.listener),
      ['default/b/http'],
    );
    assert.deepEqual(byIp.listeners.find((l) => l.name === 'default/a/http')?.reasons, [
      'Gateway addresses 127.0.1.1 do not include 127.0.1.2',
    ]);
  });
});

describe('HTTPS listeners', () => {
  const TLS = `${CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls, namespace: default}
spec:
  gatewayClassName: sluice
  listeners:
  - name: shop
    protocol: HTTPS
    port: 443
    hostname: shop.example.com
    tls: {certificateRefs: [{name: cert}]}
  - name: api
    protocol: HTTPS
    port: 443
    hostname: api.example.com
    tls: {certificateRefs: [{name: cert}]}
${tlsSecret('cert')}${service('app', 9001)}${ROUTE('shop', '{name: tls}', '[shop.example.com, api.example.com]')}`;

  test('https goes through the HTTPS socket built from the certificates', () => {
    const p = onlyPath(run(TLS, 'GET https://shop.example.com/'));
    assert.deepEqual([p.protocol, p.port, p.listener, p.outcome.kind], ['HTTPS', 443, 'default/tls/shop', 'proxied']);
  });

  test('plain http to the TLS port', () => {
    const p = onlyPath(run(TLS, 'GET http://shop.example.com:443/'));
    assert.equal(p.outcome.kind, 'wrong-protocol');
    assert.equal(p.outcome.summary, '0.0.0.0:443 serves HTTPS: a plain-text http request gets no HTTP answer');
  });

  test('a Host that picks another listener than the SNI did: 421', () => {
    const p = onlyPath(run(TLS, 'GET https://shop.example.com/', { headers: ['Host: api.example.com'] }));
    assert.deepEqual(p.outcome, {
      kind: 'misdirected',
      status: 421,
      summary:
        '421: the TLS handshake (SNI shop.example.com) picked listener default/tls/shop, Host api.example.com picks default/tls/api',
    });
  });
});

describe('policies', () => {
  test('a BackendTLSPolicy shows with its effect; a policy kind Sluice does not apply yet is listed as such', () => {
    const yaml = `${CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
${service('app', 9001)}${ROUTE('shop', '{name: web}')}---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: app-tls, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: app}]
  validation: {hostname: app.internal, wellKnownCACertificates: System}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop}]
  basicAuth: {users: {name: users}}
`;
    const p = onlyPath(run(yaml, 'GET http://shop.example.com/'));
    assert.deepEqual(
      p.policies.map((x) => [x.at, x.target, x.policy?.kind, x.applied, x.effect]),
      [
        [
          'backend',
          'Service/default/app:80',
          'BackendTLSPolicy',
          true,
          'TLS to the backend: SNI app.internal, verified with system CAs',
        ],
        [
          'route',
          'HTTPRoute default/shop',
          'SecurityPolicy',
          false,
          'no effect in the IR (Sluice does not apply SecurityPolicy here yet)',
        ],
      ],
    );
  });
});
