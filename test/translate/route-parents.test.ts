/**
 * parentRef handling: which parents get a status entry, the Accepted reasons
 * in the order they are decided, attachedRoutes counting and ListenerSets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotFromYaml } from '../support/snapshot.ts';
import {
  conditionsOf,
  gatewayYaml,
  listenerOf,
  routeParents,
  runRoutes,
  runRoutesOn,
  serviceYaml,
} from './route-fixtures.ts';

const listeners = `
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: All}}
  - name: foo
    port: 8080
    protocol: HTTP
    hostname: foo.example.com
    allowedRoutes: {namespaces: {from: Same}}
`;
const base = gatewayYaml(listeners) + '---' + serviceYaml('web') + '---' + serviceYaml('web', 'apps');

function route(parentRefs: string, extra = '', namespace = 'infra', name = 'r'): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: ${namespace}, generation: 3}
spec:
  parentRefs: ${parentRefs}
  ${extra}
  rules:
  - backendRefs: [{name: web, port: 8080}]
`;
}

test('an accepted route: parentRef echoed with defaults, Accepted and ResolvedRefs True, generation', () => {
  const run = runRoutes(base + route('[{name: gw}]'));
  const parents = routeParents(run, 'HTTPRoute', 'infra', 'r');
  assert.equal(parents.length, 1);
  assert.deepEqual(parents[0].parentRef, {
    group: 'gateway.networking.k8s.io',
    kind: 'Gateway',
    namespace: 'infra',
    name: 'gw',
  });
  assert.equal(parents[0].controllerName, 'sluice.dev/gateway-controller');
  assert.deepEqual(conditionsOf(parents[0]), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  assert.ok(parents[0].conditions.every((c) => c.observedGeneration === 3));
  assert.equal(listenerOf(run, 'infra/gw', 'http').attachedRoutes, 1);
  assert.equal(listenerOf(run, 'infra/gw', 'foo').attachedRoutes, 1);
});

test('a parentRef to a Gateway that is not ours (or not a Gateway) gets no status entry', () => {
  const run = runRoutes(
    base + route('[{name: elsewhere}, {name: gw, namespace: other}, {group: "", kind: Service, name: web}]'),
  );
  assert.deepEqual(routeParents(run, 'HTTPRoute', 'infra', 'r'), []);
  assert.equal(
    run.status.find((s) => s.kind === 'HTTPRoute'),
    undefined,
    'no status object at all for a route of no interest',
  );
});

test('sectionName and port select listeners; none selected = NoMatchingParent', () => {
  const run = runRoutes(
    base +
      route('[{name: gw, sectionName: nope}]') +
      route('[{name: gw, port: 81}]', '', 'infra', 'port') +
      route('[{name: gw, sectionName: http, port: 8080}]', '', 'infra', 'both') +
      route('[{name: gw, sectionName: http, port: 80}]', '', 'infra', 'ok'),
  );
  const parents = ['r', 'port', 'both'].map((n) => routeParents(run, 'HTTPRoute', 'infra', n)[0]);
  assert.deepEqual(
    parents.map((p) => conditionsOf(p)[0]),
    ['Accepted=False/NoMatchingParent', 'Accepted=False/NoMatchingParent', 'Accepted=False/NoMatchingParent'],
  );
  assert.deepEqual(parents[0].parentRef.sectionName, 'nope');
  assert.deepEqual(parents[1].parentRef.port, 81);
  assert.match(
    parents[2].conditions[0].message,
    /Gateway infra\/gw has no listener with sectionName http and port 8080/,
  );
  // ResolvedRefs is reported even when the parent refuses the route.
  assert.deepEqual(conditionsOf(parents[0])[1], 'ResolvedRefs=True/ResolvedRefs');
  assert.deepEqual(conditionsOf(routeParents(run, 'HTTPRoute', 'infra', 'ok')[0]), [
    'Accepted=True/Accepted',
    'ResolvedRefs=True/ResolvedRefs',
  ]);
  assert.equal(listenerOf(run, 'infra/gw', 'http').attachedRoutes, 1);
  assert.equal(listenerOf(run, 'infra/gw', 'foo').attachedRoutes, 0);
});

test('namespace or kind not allowed by any selected listener = NotAllowedByListeners', () => {
  const yaml =
    base +
    route('[{name: gw, namespace: infra, sectionName: foo}]', '', 'apps', 'cross') +
    `
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: tls, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [tls.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`;
  const run = runRoutes(yaml);
  assert.deepEqual(
    conditionsOf(routeParents(run, 'HTTPRoute', 'apps', 'cross')[0])[0],
    'Accepted=False/NotAllowedByListeners',
  );
  assert.deepEqual(
    conditionsOf(routeParents(run, 'TLSRoute', 'infra', 'tls')[0])[0],
    'Accepted=False/NotAllowedByListeners',
  );
});

test('listeners that do not accept routes, and Gateways not accepted, refuse with NotAllowedByListeners', () => {
  const run = runRoutes(base + route('[{name: gw, sectionName: http}]'), { rejectListeners: ['infra/gw/http'] });
  assert.deepEqual(
    conditionsOf(routeParents(run, 'HTTPRoute', 'infra', 'r')[0])[0],
    'Accepted=False/NotAllowedByListeners',
  );
  const notAccepted = runRoutes(base + route('[{name: gw}]'), { notAccepted: ['infra/gw'] });
  const p = routeParents(notAccepted, 'HTTPRoute', 'infra', 'r')[0];
  assert.deepEqual(conditionsOf(p)[0], 'Accepted=False/NotAllowedByListeners');
  assert.match(p.conditions[0].message, /Gateway infra\/gw is not accepted/);
});

test('no hostname intersection with any allowed listener = NoMatchingListenerHostname, not counted', () => {
  const run = runRoutes(base + route('[{name: gw, sectionName: foo}]', 'hostnames: [bar.example.com]'));
  assert.deepEqual(
    conditionsOf(routeParents(run, 'HTTPRoute', 'infra', 'r')[0])[0],
    'Accepted=False/NoMatchingListenerHostname',
  );
  assert.equal(listenerOf(run, 'infra/gw', 'foo').attachedRoutes, 0);
  // On the whole Gateway the listener without hostname still takes it.
  const whole = runRoutes(base + route('[{name: gw}]', 'hostnames: [bar.example.com]'));
  assert.deepEqual(conditionsOf(routeParents(whole, 'HTTPRoute', 'infra', 'r')[0])[0], 'Accepted=True/Accepted');
  assert.equal(listenerOf(whole, 'infra/gw', 'http').attachedRoutes, 1);
  assert.equal(listenerOf(whole, 'infra/gw', 'foo').attachedRoutes, 0);
});

test('attachedRoutes counts a route once per listener, however many parentRefs lead there', () => {
  // Admission refuses such parentRefs; the translator must still not count twice.
  const snapshot = snapshotFromYaml(base + route('[{name: gw}]'));
  snapshot.httpRoutes[0].spec.parentRefs = [
    { name: 'gw' },
    { name: 'gw', sectionName: 'http' },
    { name: 'gw', port: 80 },
  ];
  const run = runRoutesOn(snapshot);
  const parents = routeParents(run, 'HTTPRoute', 'infra', 'r');
  assert.equal(parents.length, 3);
  assert.ok(parents.every((p) => conditionsOf(p)[0] === 'Accepted=True/Accepted'));
  assert.equal(listenerOf(run, 'infra/gw', 'http').attachedRoutes, 1);
  const vhosts = listenerOf(run, 'infra/gw', 'http').ir!.virtualHosts!;
  assert.equal(vhosts.length, 1);
  assert.equal(vhosts[0].routes.length, 1, 'one entry, not one per parentRef');
});

test('a listener that is not programmed counts the route but gets no IR', () => {
  const run = runRoutes(base + route('[{name: gw, sectionName: http}]'), { unprogrammed: ['infra/gw/http'] });
  assert.deepEqual(conditionsOf(routeParents(run, 'HTTPRoute', 'infra', 'r')[0])[0], 'Accepted=True/Accepted');
  assert.equal(listenerOf(run, 'infra/gw', 'http').attachedRoutes, 1);
  assert.equal(listenerOf(run, 'infra/gw', 'http').ir, undefined);
});

test('ListenerSets: a ListenerSet parentRef reaches its listeners only; a Gateway parentRef does not reach them', () => {
  const yaml =
    base +
    `
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: ls, namespace: infra}
spec:
  parentRef: {name: gw}
  listeners:
  - {name: extra, port: 9090, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: lonely, namespace: infra}
spec:
  parentRef: {name: gw}
  listeners:
  - {name: x, port: 9091, protocol: HTTP}
` +
    route('[{kind: ListenerSet, name: ls}]', '', 'infra', 'via-ls') +
    route('[{name: gw, sectionName: extra}]', '', 'infra', 'via-gw') +
    route('[{kind: ListenerSet, name: lonely}]', '', 'infra', 'via-lonely');
  const run = runRoutes(yaml, { detachedListenerSets: ['infra/lonely'] });
  const viaLs = routeParents(run, 'HTTPRoute', 'infra', 'via-ls');
  assert.deepEqual(viaLs[0].parentRef, {
    group: 'gateway.networking.k8s.io',
    kind: 'ListenerSet',
    namespace: 'infra',
    name: 'ls',
  });
  assert.deepEqual(conditionsOf(viaLs[0])[0], 'Accepted=True/Accepted');
  assert.equal(listenerOf(run, 'infra/gw', 'extra').attachedRoutes, 1);
  assert.equal(
    listenerOf(run, 'infra/gw', 'http').attachedRoutes,
    0,
    'a ListenerSet parentRef does not reach the Gateway',
  );
  // sectionName of a ListenerSet listener on a Gateway parentRef selects nothing.
  assert.deepEqual(
    conditionsOf(routeParents(run, 'HTTPRoute', 'infra', 'via-gw')[0])[0],
    'Accepted=False/NoMatchingParent',
  );
  // A ListenerSet of our Gateway that the Gateway did not accept: the route hears why.
  const lonely = routeParents(run, 'HTTPRoute', 'infra', 'via-lonely');
  assert.deepEqual(conditionsOf(lonely[0])[0], 'Accepted=False/NotAllowedByListeners');
  assert.match(lonely[0].conditions[0].message, /ListenerSet infra\/lonely is not accepted/);
});

test('status: other controllers keep their entries, unchanged conditions keep their transition time', () => {
  const snapshot = snapshotFromYaml(base + route('[{name: gw}]'));
  snapshot.httpRoutes[0].status = {
    parents: [
      {
        parentRef: { name: 'gw' },
        controllerName: 'sluice.dev/gateway-controller',
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: 'old',
            lastTransitionTime: '2020-01-01T00:00:00Z',
          },
          {
            type: 'ResolvedRefs',
            status: 'False',
            reason: 'BackendNotFound',
            message: 'old',
            lastTransitionTime: '2020-01-01T00:00:00Z',
          },
        ],
      },
      { parentRef: { name: 'theirs' }, controllerName: 'example.com/other', conditions: [] },
    ],
  };
  const run = runRoutesOn(snapshot);
  const parents = routeParents(run, 'HTTPRoute', 'infra', 'r');
  assert.deepEqual(
    parents.map((p) => p.controllerName),
    ['example.com/other', 'sluice.dev/gateway-controller'],
  );
  const ours = parents[1].conditions;
  assert.equal(ours.find((c) => c.type === 'Accepted')!.lastTransitionTime, '2020-01-01T00:00:00Z');
  assert.equal(ours.find((c) => c.type === 'ResolvedRefs')!.lastTransitionTime, '2026-01-01T00:00:00Z');
});

test('status: a route that no longer names our Gateway loses our entries', () => {
  const snapshot = snapshotFromYaml(base + route('[{name: theirs}]'));
  snapshot.httpRoutes[0].status = {
    parents: [
      { parentRef: { name: 'gw' }, controllerName: 'sluice.dev/gateway-controller', conditions: [] },
      { parentRef: { name: 'theirs' }, controllerName: 'example.com/other', conditions: [] },
    ],
  };
  const run = runRoutesOn(snapshot);
  assert.deepEqual(
    routeParents(run, 'HTTPRoute', 'infra', 'r').map((p) => p.controllerName),
    ['example.com/other'],
  );
});
