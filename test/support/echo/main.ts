/**
 * An echo Deployment as one child process (forked by the conformance
 * runner with the spec in SLUICE_ECHO_SPEC): every replica is an in-process
 * echo server on its own loopback address, all on the same ports. Replies
 * `ready` with the ports, answers `count` queries about echoed request
 * targets (how mirror checks find copies), exits when the parent goes away.
 */
import { startEchoServer, type EchoServer } from './server.ts';
import {
  SPEC_ENV,
  type BoundReplica,
  type ChildMessage,
  type DeploymentSpec,
  type ParentMessage,
} from './fleet-protocol.ts';

const BIND_ATTEMPTS = 20;

function send(m: ChildMessage): void {
  process.send?.(m);
}

/** target → pod → echoes. */
const seen = new Map<string, Map<string, number>>();

function record(pod: string, target: string, remote: string, log: boolean): void {
  let byPod = seen.get(target);
  if (!byPod) seen.set(target, (byPod = new Map()));
  byPod.set(pod, (byPod.get(pod) ?? 0) + 1);
  if (log) process.stdout.write(`Echoing back request made to ${target} to client (${remote})\n`);
}

/** Replica 0 picks ephemeral ports; the others take the same numbers on their own addresses (retried when taken). */
async function bindAll(spec: DeploymentSpec): Promise<EchoServer[]> {
  for (let attempt = 1; ; attempt++) {
    const servers: EchoServer[] = [];
    try {
      for (const r of spec.replicas) {
        const first = servers[0];
        servers.push(
          await startEchoServer({
            identity: {
              pod: r.pod,
              namespace: spec.namespace,
              service: spec.service ?? '',
              ingress: spec.ingress ?? '',
            },
            host: r.address,
            ...(first ? { httpPort: first.httpPort, h2cPort: first.h2cPort } : {}),
            ...(spec.tls ? { tls: { ...spec.tls, ...(first?.httpsPort ? { port: first.httpsPort } : {}) } } : {}),
            onEcho: (target, remote) => record(r.pod, target, remote, spec.log === true),
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
  // Without a parent there is nobody to serve: a runner killed hard must not leave echo processes behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ParentMessage) => {
    if (m.type !== 'count') return;
    send({ type: 'count', id: m.id, counts: Object.fromEntries(seen.get(m.target) ?? []) });
  });
  const servers = await bindAll(spec);
  const replicas: BoundReplica[] = servers.map((s, i) => ({
    ...spec.replicas[i],
    httpPort: s.httpPort,
    h2cPort: s.h2cPort,
    ...(s.httpsPort !== undefined ? { httpsPort: s.httpsPort } : {}),
  }));
  send({ type: 'ready', replicas });
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: (err as Error).message });
  process.exitCode = 1;
  process.disconnect?.();
});
