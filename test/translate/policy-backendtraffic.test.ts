/**
 * BackendTrafficPolicy beyond the golden file: routes attached through a
 * ListenerSet, routes with several parent Gateways, GRPCRoute rule
 * sections, invalid backends, and routes Sluice does not report on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WeightedBackendIR } from '../../src/ir/types.ts';
import { CLASS, docs, gatewayYaml, run, type Result } from './fixtures/gateway-fixtures.ts';

function btp(name: string, targetRefs: Array<Record<string, unknown>>, version?: 'V1' | 'V2'): string {
  return JSON.stringify({
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'BackendTrafficPolicy',
    metadata: { name, namespace: 'infra', generation: 1 },
    spec: {
      targetRefs: targetRefs.map((t) => ({ group: 'gateway.networking.k8s.io', ...t })),
      ...(version ? { proxyProtocol: { version } } : {}),
    },
  });
}

const SERVICE = `
apiVersion: v1
kind: Service
metadata: {name: app, namespace: infra}
spec: {ports: [{port: 8080}]}`;

function httpRoute(name: string, parentRefs: Array<Record<string, unknown>>, rules?: unknown[]): string {
  return JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'infra', generation: 1 },
    spec: {
      parentRefs,
      hostnames: [`${name}.example.com`],
      rules: rules ?? [{ backendRefs: [{ name: 'app', port: 8080 }] }],
    },
  });
}

/** `listener: version` of every backend of the route, over all Gateways. */
function versions(r: Result, route: string): string[] {
  const out: string[] = [];
  for (const g of r.result.ir.gateways) {
    for (const l of g.listeners) {
      for (const vh of l.virtualHosts ?? []) {
        for (const e of vh.routes) {
          if (e.route.name !== route) continue;
          for (const b of e.backends)
            out.push(`${g.name}/${l.sectionName}${e.ruleName ? `#${e.ruleName}` : ''}: ${version(b)}`);
        }
      }
    }
  }
  return out.sort();
}

const version = (b: WeightedBackendIR): string => (b.invalid ? 'invalid' : (b.proxyProtocol?.version ?? 'none'));

function ancestorsOf(r: Result, name: string): string[] {
  const s = r.status('BackendTrafficPolicy', 'infra', name) as
    | { ancestors: Array<{ ancestorRef: Record<string, string>; conditions: Array<{ type: string; reason: string }> }> }
    | undefined;
  return (s?.ancestors ?? []).map(
    (a) =>
      `${a.ancestorRef.kind} ${a.ancestorRef.namespace}/${a.ancestorRef.name}${a.ancestorRef.sectionName ? `#${a.ancestorRef.sectionName}` : ''}: ${a.conditions.map((c) => `${c.type}=${c.reason}`).join(',')}`,
  );
}

test('ListenerSet listeners see the Gateway-level policy, not listener-level ones; their routes report on the ListenerSet', () => {
  const gw = gatewayYaml('web', {
    allowedListeners: { namespaces: { from: 'Same' } },
    listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
  });
  const ls = `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: extra, namespace: infra}
spec:
  parentRef: {name: web}
  listeners: [{name: http, protocol: HTTP, port: 8080}]`;
  const r = run(
    docs(
      CLASS,
      gw,
      ls,
      SERVICE,
      httpRoute('own', [{ name: 'web' }]),
      httpRoute('via-set', [{ kind: 'ListenerSet', name: 'extra' }]),
      btp('gateway', [{ kind: 'Gateway', name: 'web' }], 'V1'),
      btp('listener', [{ kind: 'Gateway', name: 'web', sectionName: 'http' }], 'V2'),
      btp('route', [{ kind: 'HTTPRoute', name: 'via-set' }], 'V2'),
    ),
  );
  assert.deepEqual(versions(r, 'own'), ['web/http: V2']);
  assert.deepEqual(versions(r, 'via-set'), ['web/http: V2']);
  assert.deepEqual(ancestorsOf(r, 'route'), ['ListenerSet infra/extra: Accepted=Accepted']);
  // The ListenerSet's "http" is not the Gateway's "http": only the route policy displaced the Gateway's there.
  assert.deepEqual(ancestorsOf(r, 'gateway'), ['Gateway infra/web: Accepted=Accepted,Overridden=Overridden']);
});

test('a route policy applies on every parent Gateway and reports on each; invalid backends are left alone', () => {
  const gws = ['a', 'b'].map((g) => gatewayYaml(g, { listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] }));
  const route = httpRoute(
    'app',
    [{ name: 'a', sectionName: 'http' }, { name: 'b' }],
    [
      {
        backendRefs: [
          { name: 'app', port: 8080 },
          { name: 'missing', port: 8080 },
        ],
      },
    ],
  );
  const r = run(docs(CLASS, ...gws, SERVICE, route, btp('route', [{ kind: 'HTTPRoute', name: 'app' }], 'V1')));
  assert.deepEqual(versions(r, 'app'), ['a/http: V1', 'a/http: invalid', 'b/http: V1', 'b/http: invalid']);
  assert.deepEqual(ancestorsOf(r, 'route'), [
    'Gateway infra/a#http: Accepted=Accepted',
    'Gateway infra/b: Accepted=Accepted',
  ]);
});

test('GRPCRoute rules are sections; a route of another controller gets no status', () => {
  const gw = gatewayYaml('web', { listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] });
  const grpc = `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: infra}
spec:
  parentRefs: [{name: web}]
  rules:
  - name: echo
    matches: [{method: {service: echo.Echo}}]
    backendRefs: [{name: app, port: 8080}]
  - backendRefs: [{name: app, port: 8080}]`;
  const foreign = httpRoute('foreign', [{ name: 'elsewhere' }]);
  const r = run(
    docs(
      CLASS,
      gw,
      SERVICE,
      grpc,
      foreign,
      btp('rule', [{ kind: 'GRPCRoute', name: 'rpc', sectionName: 'echo' }], 'V2'),
      btp('foreign', [{ kind: 'HTTPRoute', name: 'foreign' }], 'V1'),
    ),
  );
  assert.deepEqual(versions(r, 'rpc'), ['web/http#echo: V2', 'web/http: none']);
  assert.deepEqual(ancestorsOf(r, 'rule'), ['Gateway infra/web: Accepted=Accepted']);
  assert.equal(r.status('BackendTrafficPolicy', 'infra', 'foreign'), undefined);
});
