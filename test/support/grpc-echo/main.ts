/**
 * A gRPC echo Deployment (GRPC_ECHO_SERVER=1) as one child process, speaking
 * the same fork protocol as the HTTP echo fleet (../echo/fleet-protocol.ts):
 * every replica is a gRPC echo server on its own loopback address, all on
 * the same ports. The h2c port stands for container port 3000 (HTTP_PORT)
 * and is reported as both `httpPort` and `h2cPort`; the TLS port (8443) as
 * `httpsPort` when the spec has a certificate.
 */
import {
  SPEC_ENV,
  type BoundReplica,
  type ChildMessage,
  type DeploymentSpec,
  type ParentMessage,
} from '../echo/fleet-protocol.ts';
import { startGrpcEchoServer, type GrpcEchoServer } from './server.ts';

const BIND_ATTEMPTS = 20;

function send(m: ChildMessage): void {
  process.send?.(m);
}

/** method → pod → calls (what `count` queries ask about). */
const seen = new Map<string, Map<string, number>>();

async function bindAll(spec: DeploymentSpec): Promise<GrpcEchoServer[]> {
  for (let attempt = 1; ; attempt++) {
    const servers: GrpcEchoServer[] = [];
    try {
      for (const r of spec.replicas) {
        const first = servers[0];
        servers.push(
          await startGrpcEchoServer({
            identity: { pod: r.pod, namespace: spec.namespace, serviceName: spec.service, ingress: spec.ingress },
            host: r.address,
            ...(first ? { port: first.port } : {}),
            ...(spec.tls ? { tls: { cert: spec.tls.cert, key: spec.tls.key, port: first?.httpsPort } } : {}),
            onCall: (method) => {
              let byPod = seen.get(method);
              if (!byPod) seen.set(method, (byPod = new Map()));
              byPod.set(r.pod, (byPod.get(r.pod) ?? 0) + 1);
            },
          }),
        );
      }
      return servers;
    } catch (err) {
      await Promise.all(servers.map((s) => s.close()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) throw err;
    }
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env[SPEC_ENV] ?? 'null') as DeploymentSpec | null;
  if (!spec) throw new Error(`${SPEC_ENV} is not set`);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ParentMessage) => {
    if (m.type !== 'count') return;
    send({ type: 'count', id: m.id, counts: Object.fromEntries(seen.get(m.target) ?? []) });
  });
  const servers = await bindAll(spec);
  const replicas: BoundReplica[] = servers.map((s, i) => ({
    ...spec.replicas[i],
    httpPort: s.port,
    h2cPort: s.port,
    ...(s.httpsPort !== undefined ? { httpsPort: s.httpsPort } : {}),
  }));
  send({ type: 'ready', replicas });
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: (err as Error).message });
  process.exitCode = 1;
  process.disconnect?.();
});
