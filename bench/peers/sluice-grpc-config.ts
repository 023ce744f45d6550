/**
 * Sluice's configuration for the gRPC rows: a GRPCRoute matching the
 * bench's method (`bench.Echo/Ping`) among a few others, to a Service whose
 * EndpointSlice points at the gRPC origin. GRPCRoute backends are spoken to
 * over h2c; the port also says so (`appProtocol: kubernetes.io/h2c`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRPC_METHOD, GRPC_SERVICE } from './grpc-origin.ts';
import { gatewayYaml } from './sluice-config.ts';

export function writeSluiceGrpcConfig(dir: string, listenPort: number, grpcOriginPort: number): void {
  mkdirSync(dir, { recursive: true });
  const methods = ['Get', 'List', 'Watch', GRPC_METHOD];
  writeFileSync(
    join(dir, 'grpc.yaml'),
    `${gatewayYaml(listenPort)}---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: bench }
spec:
  ports: [{ name: grpc, port: 50051, targetPort: ${grpcOriginPort}, appProtocol: kubernetes.io/h2c }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo
  namespace: bench
  labels: { kubernetes.io/service-name: echo }
addressType: IPv4
ports: [{ name: grpc, port: ${grpcOriginPort}, protocol: TCP, appProtocol: kubernetes.io/h2c }]
endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo, namespace: bench }
spec:
  parentRefs: [{ name: bench }]
  rules:
${methods
  .map(
    (m) => `    - matches: [{ method: { service: ${GRPC_SERVICE}, method: ${m} } }]
      backendRefs: [{ name: echo, port: 50051 }]
`,
  )
  .join('')}`,
  );
}
