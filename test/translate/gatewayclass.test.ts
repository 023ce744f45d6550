import { test } from 'node:test';
import assert from 'node:assert/strict';
import { docs, expectCondition, run } from './fixtures/gateway-fixtures.ts';

const classes = docs(
  `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours, generation: 4}
spec: {controllerName: sluice.dev/gateway-controller}`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: with-proxy}
spec:
  controllerName: sluice.dev/gateway-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: proxy, namespace: infra}`,
  `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: proxy, namespace: infra}
spec: {}`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: missing-proxy}
spec:
  controllerName: sluice.dev/gateway-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: nope, namespace: infra}`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: wrong-kind}
spec:
  controllerName: sluice.dev/gateway-controller
  parametersRef: {group: "", kind: ConfigMap, name: settings, namespace: infra}`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: no-namespace}
spec:
  controllerName: sluice.dev/gateway-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: proxy}`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: on-theirs, namespace: infra}
spec:
  gatewayClassName: theirs
  listeners: [{name: http, protocol: HTTP, port: 80}]`,
  `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: on-invalid-class, namespace: infra}
spec:
  gatewayClassName: missing-proxy
  listeners: [{name: http, protocol: HTTP, port: 80}]`,
);

test('a class of our controller is Accepted with SupportedVersion, at its generation', () => {
  const r = run(classes);
  const s = r.status('GatewayClass', undefined, 'ours');
  expectCondition(s?.conditions, 'Accepted', 'True', 'Accepted', 4);
  expectCondition(s?.conditions, 'SupportedVersion', 'True', 'SupportedVersion', 4);
});

test('a class of another controller gets no status, nor do its Gateways', () => {
  const r = run(classes);
  assert.equal(r.status('GatewayClass', undefined, 'theirs'), undefined);
  assert.equal(r.status('Gateway', 'infra', 'on-theirs'), undefined);
});

test('parametersRef to an existing EnvoyProxy is accepted', () => {
  const s = run(classes).status('GatewayClass', undefined, 'with-proxy');
  expectCondition(s?.conditions, 'Accepted', 'True', 'Accepted');
});

test('parametersRef to a missing EnvoyProxy, another kind, or without namespace is InvalidParameters', () => {
  const r = run(classes);
  for (const name of ['missing-proxy', 'wrong-kind', 'no-namespace']) {
    const c = expectCondition(
      r.status('GatewayClass', undefined, name)?.conditions,
      'Accepted',
      'False',
      'InvalidParameters',
    );
    assert.match(c.message, /spec\.parametersRef/);
  }
});

test('Gateways of a class that is not accepted get no status and no IR', () => {
  const r = run(classes);
  assert.equal(r.status('Gateway', 'infra', 'on-invalid-class'), undefined);
  assert.equal(r.result.ir.gateways.length, 0);
});

test('the controller name is an option', () => {
  const r = run(classes, { controllerName: 'example.com/other' });
  expectCondition(r.status('GatewayClass', undefined, 'theirs')?.conditions, 'Accepted', 'True', 'Accepted');
  assert.equal(r.status('GatewayClass', undefined, 'ours'), undefined);
  expectCondition(r.gateway('infra', 'on-theirs').conditions, 'Accepted', 'True', 'Accepted');
});
