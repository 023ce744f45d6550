/**
 * A gRPC echo Deployment (GRPC_ECHO_SERVER=1) as one child process, speaking
 * the same fork protocol as the HTTP echo fleet (../echo/fleet-child.ts):
 * every replica is a gRPC echo server on its own loopback address, all on
 * the same ports. The h2c port stands for container port 3000 (HTTP_PORT)
 * and is reported as both `httpPort` and `h2cPort`; the TLS port (8443) as
 * `httpsPort` when the spec has a certificate. `count` queries ask about
 * gRPC methods.
 */
import { runFleetChild } from '../echo/fleet-child.ts';
import { startGrpcEchoServer } from './server.ts';

runFleetChild(async (spec, r, first, hits) => {
  const s = await startGrpcEchoServer({
    identity: { pod: r.pod, namespace: spec.namespace, serviceName: spec.service, ingress: spec.ingress },
    host: r.address,
    ...(first ? { port: first.httpPort } : {}),
    ...(spec.tls ? { tls: { cert: spec.tls.cert, key: spec.tls.key, port: first?.httpsPort } } : {}),
    onCall: (method) => hits.add(method, r.pod),
  });
  return { httpPort: s.port, h2cPort: s.port, httpsPort: s.httpsPort, close: () => s.close() };
});
