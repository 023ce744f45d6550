import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveBackendRef, type BackendReferrer, type BackendResolution } from '../../src/translate/backend/index.ts';
import { defaultOptions, TranslationContext } from '../../src/translate/context.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';
import { serviceYaml } from './route-fixtures.ts';

function context(yaml: string): TranslationContext {
  return new TranslationContext(snapshotFromYaml(yaml), defaultOptions({ now: '2026-01-01T00:00:00Z' }));
}

const http: BackendReferrer = { kind: 'HTTPRoute', namespace: 'app', name: 'r' };

function reason(r: BackendResolution): string {
  return r.ok ? 'ok' : r.error.reason;
}

test('Service: endpoints from EndpointSlices on the target port, ready ones only', () => {
  const ctx = context(`
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  ports:
  - {name: http, port: 80, targetPort: web}
  - {name: admin, port: 81, targetPort: 9000}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-a, namespace: app, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 3000, protocol: TCP}, {name: admin, port: 9000, protocol: TCP}]
endpoints:
- {addresses: [10.0.0.1], conditions: {ready: true}}
- {addresses: [10.0.0.2], conditions: {ready: false}}
- {addresses: [10.0.0.3]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-b, namespace: app, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints:
- {addresses: ["fd00::1"], conditions: {ready: true}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: other, namespace: app, labels: {kubernetes.io/service-name: other}}
addressType: IPv4
ports: [{name: http, port: 1, protocol: TCP}]
endpoints: [{addresses: [10.9.9.9]}]
`);
  const r = resolveBackendRef(ctx, { name: 'web', port: 80 }, http, 'spec.rules[0].backendRefs[0]');
  assert.ok(r.ok);
  assert.deepEqual(r.backend, {
    name: 'Service/app/web:80',
    ref: { kind: 'Service', namespace: 'app', name: 'web', port: 80 },
    protocol: 'http',
    endpoints: [
      { address: '10.0.0.1', port: 3000, kind: 'ip' },
      { address: '10.0.0.3', port: 3000, kind: 'ip' },
      { address: 'fd00::1', port: 3000, kind: 'ip' },
    ],
  });
  const admin = resolveBackendRef(ctx, { name: 'web', port: 81 }, http, 'f');
  assert.ok(admin.ok);
  assert.deepEqual(
    admin.backend.endpoints.map((e) => `${e.address}:${e.port}`),
    ['10.0.0.1:9000', '10.0.0.3:9000'],
  );
});

test('Service: hand-written slices without port names use the numeric targetPort', () => {
  const ctx = context(`
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec: {ports: [{port: 80, targetPort: 3000}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-a, namespace: app, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{port: 3000}]
endpoints: [{addresses: [10.0.0.1]}]
`);
  const r = resolveBackendRef(ctx, { name: 'web', port: 80 }, http, 'f');
  assert.ok(r.ok);
  assert.deepEqual(r.backend.endpoints, [{ address: '10.0.0.1', port: 3000, kind: 'ip' }]);
});

test('Service: appProtocol selects h2c / ws for HTTPRoute; GRPCRoute always speaks grpc', () => {
  const ctx = context(
    serviceYaml('h2', 'app', ['10.0.0.1'], { appProtocol: 'kubernetes.io/h2c' }) +
      '---' +
      serviceYaml('ws', 'app', ['10.0.0.2'], { appProtocol: 'kubernetes.io/ws' }),
  );
  const h2 = resolveBackendRef(ctx, { name: 'h2', port: 8080 }, http, 'f');
  const ws = resolveBackendRef(ctx, { name: 'ws', port: 8080 }, http, 'f');
  const grpc = resolveBackendRef(ctx, { name: 'h2', port: 8080 }, { ...http, kind: 'GRPCRoute' }, 'f');
  assert.equal(h2.ok && h2.backend.protocol, 'h2c');
  assert.equal(ws.ok && ws.backend.protocol, 'ws');
  assert.equal(grpc.ok && grpc.backend.protocol, 'grpc');
  assert.equal(
    reason(resolveBackendRef(ctx, { name: 'ws', port: 8080 }, { ...http, kind: 'GRPCRoute' }, 'f')),
    'UnsupportedProtocol',
  );
});

test('Service: transport must fit the route kind (UDPRoute needs a UDP port)', () => {
  const ctx = context(`
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: app}
spec:
  ports:
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: dns-udp, port: 53, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: tcp-only, namespace: app}
spec: {ports: [{port: 53}]}
`);
  const udp = { ...http, kind: 'UDPRoute' as const };
  const r = resolveBackendRef(ctx, { name: 'dns', port: 53 }, udp, 'f');
  assert.ok(r.ok);
  assert.equal(r.backend.protocol, 'udp');
  assert.equal(reason(resolveBackendRef(ctx, { name: 'tcp-only', port: 53 }, udp, 'f')), 'UnsupportedProtocol');
  assert.equal(reason(resolveBackendRef(ctx, { name: 'dns', port: 53 }, { ...http, kind: 'TCPRoute' }, 'f')), 'ok');
});

test('Service: ExternalName resolves to an FQDN endpoint on the ref port', () => {
  const ctx = context(`
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: app}
spec: {type: ExternalName, externalName: api.example.com, ports: [{port: 443}]}
`);
  const r = resolveBackendRef(ctx, { name: 'ext', port: 443 }, http, 'f');
  assert.ok(r.ok);
  assert.deepEqual(r.backend.endpoints, [{ address: 'api.example.com', port: 443, kind: 'fqdn' }]);
});

test('failures: InvalidKind, RefNotPermitted before BackendNotFound, port problems', () => {
  const ctx = context(serviceYaml('web', 'app') + '---' + serviceYaml('far', 'other'));
  assert.equal(reason(resolveBackendRef(ctx, { name: 'web', port: 8080, kind: 'Pod' }, http, 'f')), 'InvalidKind');
  assert.equal(
    reason(resolveBackendRef(ctx, { name: 'web', port: 8080, group: 'example.com', kind: 'Service' }, http, 'f')),
    'InvalidKind',
  );
  assert.equal(reason(resolveBackendRef(ctx, { name: 'missing', port: 8080 }, http, 'f')), 'BackendNotFound');
  assert.equal(
    reason(resolveBackendRef(ctx, { name: 'far', namespace: 'other', port: 8080 }, http, 'f')),
    'RefNotPermitted',
  );
  // A denied reference says so even when the target does not exist.
  assert.equal(
    reason(resolveBackendRef(ctx, { name: 'nope', namespace: 'other', port: 8080 }, http, 'f')),
    'RefNotPermitted',
  );
  assert.equal(reason(resolveBackendRef(ctx, { name: 'web' }, http, 'f')), 'PortNotSpecified');
  assert.equal(reason(resolveBackendRef(ctx, { name: 'web', port: 9 }, http, 'f')), 'PortNotFound');
  const r = resolveBackendRef(ctx, { name: 'missing', port: 8080 }, http, 'spec.rules[0].backendRefs[2]');
  assert.ok(!r.ok);
  assert.equal(r.error.message, 'spec.rules[0].backendRefs[2]: Service app/missing not found');
});

test('ReferenceGrant: permits a cross-namespace backend for the granted route kind only', () => {
  const ctx = context(`
${serviceYaml('far', 'other')}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: app}]
  to: [{group: "", kind: Service, name: far}]
`);
  assert.equal(reason(resolveBackendRef(ctx, { name: 'far', namespace: 'other', port: 8080 }, http, 'f')), 'ok');
  assert.equal(
    reason(
      resolveBackendRef(ctx, { name: 'far', namespace: 'other', port: 8080 }, { ...http, kind: 'GRPCRoute' }, 'f'),
    ),
    'RefNotPermitted',
  );
});

test('Envoy Gateway Backend: ip, fqdn and unix endpoints; appProtocols', () => {
  const ctx = context(`
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: app}
spec:
  appProtocols: [gateway.envoyproxy.io/h2c]
  endpoints:
  - ip: {address: 10.1.1.1, port: 8080}
  - unix: {path: /var/run/app.sock}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: fq, namespace: app}
spec:
  endpoints: [{fqdn: {hostname: svc.example.com, port: 443}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: dyn, namespace: app}
spec: {type: DynamicResolver}
`);
  const ref = { group: 'gateway.envoyproxy.io', kind: 'Backend', name: 'be' };
  const r = resolveBackendRef(ctx, ref, http, 'f');
  assert.ok(r.ok);
  assert.deepEqual(r.backend, {
    name: 'Backend/app/be',
    ref: { kind: 'Backend', namespace: 'app', name: 'be' },
    protocol: 'h2c',
    endpoints: [
      { address: '10.1.1.1', port: 8080, kind: 'ip' },
      { address: '/var/run/app.sock', port: 0, kind: 'unix' },
    ],
  });
  const fq = resolveBackendRef(ctx, { ...ref, name: 'fq' }, http, 'f');
  assert.ok(fq.ok);
  assert.deepEqual(fq.backend.endpoints, [{ address: 'svc.example.com', port: 443, kind: 'fqdn' }]);
  assert.equal(fq.backend.protocol, 'http');
  assert.equal(reason(resolveBackendRef(ctx, { ...ref, name: 'dyn' }, http, 'f')), 'UnsupportedValue');
  assert.equal(reason(resolveBackendRef(ctx, { ...ref, name: 'gone' }, http, 'f')), 'BackendNotFound');
});
