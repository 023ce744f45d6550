/**
 * Routes through the whole translator (gateway half included): what a user
 * sees in the IR and in Gateway/route status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/translate/index.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';
import { serviceYaml } from './route-fixtures.ts';

const NOW = '2026-01-01T00:00:00Z';

const base = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: All}}
  - name: tcp
    port: 9000
    protocol: TCP
---
${serviceYaml('web')}
`;

function statusOf(result: ReturnType<typeof translate>, kind: string, name: string): Record<string, unknown> {
  const e = result.status.find((s) => s.kind === kind && s.name === name);
  assert.ok(e, `${kind} ${name} has a status`);
  return e.status;
}

test('an HTTPRoute lands in the listener IR and in attachedRoutes', () => {
  const result = translate(
    snapshotFromYaml(
      base +
        `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: http}]
  hostnames: [www.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, namespace: infra, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: apps-to-infra, namespace: infra}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service}]
`,
    ),
    { now: NOW },
  );
  const listener = result.ir.gateways[0].listeners.find((l) => l.sectionName === 'http')!;
  assert.deepEqual(
    listener.virtualHosts!.map((v) => [v.hostname, v.routes.map((r) => [r.name, r.backends.map((b) => b.name)])]),
    [['www.example.com', [['httproute/apps/web/rule/0/match/0/www.example.com', ['Service/infra/web:8080']]]]],
  );
  const parents = statusOf(result, 'HTTPRoute', 'web').parents as Array<{
    conditions: Array<{ type: string; status: string }>;
  }>;
  assert.deepEqual(
    parents[0].conditions.map((c) => `${c.type}=${c.status}`),
    ['Accepted=True', 'ResolvedRefs=True'],
  );
  const gwListeners = statusOf(result, 'Gateway', 'gw').listeners as Array<{ name: string; attachedRoutes: number }>;
  assert.deepEqual(
    gwListeners.map((l) => [l.name, l.attachedRoutes]),
    [
      ['http', 1],
      ['tcp', 0],
    ],
  );
});

test('a TCPRoute on the TCP listener; an HTTPRoute naming it is NotAllowedByListeners', () => {
  const result = translate(
    snapshotFromYaml(
      base +
        `
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: t, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: h, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`,
    ),
    { now: NOW },
  );
  const tcp = result.ir.gateways[0].listeners.find((l) => l.sectionName === 'tcp')!;
  assert.deepEqual(
    tcp.tcpRoutes!.map((r) => r.name),
    ['tcproute/infra/t'],
  );
  const h = statusOf(result, 'HTTPRoute', 'h').parents as Array<{
    conditions: Array<{ type: string; reason: string }>;
  }>;
  assert.equal(h[0].conditions[0].reason, 'NotAllowedByListeners');
});
