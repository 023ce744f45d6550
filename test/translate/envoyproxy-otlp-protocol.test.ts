/**
 * The OTLP transport the translator picks for EnvoyProxy telemetry
 * endpoints: gRPC (Envoy Gateway's) unless the endpoint says OTLP/HTTP -
 * port 4318, or a Service port with appProtocol `http`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OtlpEndpointIR } from '../../src/ir/types.ts';
import { loadObjects } from '../../src/providers/file/loader.ts';
import { translate } from '../../src/translate/index.ts';

const OBJECTS = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec:
  controllerName: sluice.dev/gateway-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: otlp, namespace: infra}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: otlp, namespace: infra}
spec:
  telemetry:
    accessLog:
      settings:
      - sinks:
        - {type: OpenTelemetry, openTelemetry: {host: collector.example.com}}
        - {type: OpenTelemetry, openTelemetry: {host: collector.example.com, port: 4318}}
        - {type: OpenTelemetry, openTelemetry: {backendRefs: [{name: grpc-collector, port: 4317}]}}
        - {type: OpenTelemetry, openTelemetry: {backendRefs: [{name: http-collector, port: 9000}]}}
        - {type: OpenTelemetry, openTelemetry: {backendRefs: [{name: http-collector, port: 4318}]}}
        - {type: OpenTelemetry, openTelemetry: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: otlp-http}]}}
        - {type: OpenTelemetry, openTelemetry: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: otlp-h2c}]}}
    metrics:
      sinks:
      - {type: OpenTelemetry, openTelemetry: {host: collector.example.com, port: 4317}}
    tracing:
      provider:
        type: OpenTelemetry
        host: collector.example.com
        port: 4317
        openTelemetry:
          headers: [{name: Authorization, value: Bearer t}]
---
apiVersion: v1
kind: Service
metadata: {name: grpc-collector, namespace: infra}
spec:
  ports: [{name: otlp-grpc, port: 4317, appProtocol: grpc}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: grpc-collector-1, namespace: infra, labels: {kubernetes.io/service-name: grpc-collector}}
addressType: IPv4
ports: [{name: otlp-grpc, port: 4317, protocol: TCP}]
endpoints: [{addresses: [10.0.0.1]}]
---
apiVersion: v1
kind: Service
metadata: {name: http-collector, namespace: infra}
spec:
  ports:
  - {name: custom, port: 9000, targetPort: 9000, appProtocol: http}
  - {name: well-known, port: 4318, targetPort: 14318}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: http-collector-1, namespace: infra, labels: {kubernetes.io/service-name: http-collector}}
addressType: IPv4
ports:
- {name: custom, port: 9000, protocol: TCP}
- {name: well-known, port: 14318, protocol: TCP}
endpoints: [{addresses: [10.0.0.2]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: otlp-http, namespace: infra}
spec:
  endpoints: [{ip: {address: 10.0.0.3, port: 4318}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: otlp-h2c, namespace: infra}
spec:
  appProtocols: [gateway.envoyproxy.io/h2c]
  endpoints: [{ip: {address: 10.0.0.4, port: 4317}}]
`;

test('OTLP endpoints are gRPC unless port 4318 or appProtocol http says OTLP/HTTP', () => {
  const loaded = loadObjects([{ text: OBJECTS, file: 'otlp.yaml' }]);
  assert.deepEqual(loaded.problems, []);
  const { ir } = translate(loaded.snapshot, { now: '2026-01-01T00:00:00Z' });
  const telemetry = ir.gateways.find((g) => g.name === 'web')?.telemetry;
  assert.ok(telemetry, 'the Gateway has telemetry');
  const brief = (e: OtlpEndpointIR): string => `${e.protocol} ${e.url}`;
  const sinks = telemetry.accessLog?.settings[0].sinks ?? [];
  assert.deepEqual(
    sinks.map((s) => (s.type === 'OpenTelemetry' ? brief(s.endpoint) : s.path)),
    [
      'grpc http://collector.example.com:4317', // no port: Envoy Gateway's default 4317
      'http http://collector.example.com:4318',
      'grpc http://10.0.0.1:4317', // appProtocol grpc
      'http http://10.0.0.2:9000', // appProtocol http on another port
      'http http://10.0.0.2:14318', // Service port 4318, whatever the target port
      'http http://10.0.0.3:4318', // a Backend says HTTP by its port only
      'grpc http://10.0.0.4:4317',
    ],
  );
  assert.deepEqual(telemetry.metrics?.sinks.map(brief), ['grpc http://collector.example.com:4317']);
  assert.deepEqual(telemetry.tracing?.provider.endpoint, {
    url: 'http://collector.example.com:4317',
    protocol: 'grpc',
    headers: [{ name: 'Authorization', value: 'Bearer t' }],
  });
});
