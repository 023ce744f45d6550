/**
 * A TCP echo, UDP echo or DNS Deployment (TRANSPORT-KINDS.md 7) as one
 * child process of the echo fleet, speaking the fork protocol of
 * ../support/echo/fleet-protocol.ts: every replica on its own loopback
 * address, all on the same port numbers. The mode comes in L4_MODE_ENV.
 * The main port (TCP_PORT, UDP_PORT, 53) is reported as `httpPort` (and
 * `h2cPort`), the TCP echo's TLS port as `httpsPort`. Count queries (mirror
 * checks, HTTP only) are answered with nothing seen.
 */
import { startDnsResponder } from '../support/dns-responder.ts';
import {
  SPEC_ENV,
  type BoundReplica,
  type ChildMessage,
  type DeploymentSpec,
  type ParentMessage,
} from '../support/echo/fleet-protocol.ts';
import { startTcpEcho } from '../support/tcp-echo.ts';
import { startUdpEcho } from '../support/udp-echo.ts';
import { L4_MODE_ENV } from './echo-deployments.ts';

const BIND_ATTEMPTS = 20;

interface Bound {
  port: number;
  tlsPort?: number;
  close(): Promise<void>;
}

function send(m: ChildMessage): void {
  process.send?.(m);
}

function startReplica(
  mode: string,
  spec: DeploymentSpec,
  r: DeploymentSpec['replicas'][number],
  first: Bound | undefined,
): Promise<Bound> {
  const identity = { pod: r.pod, namespace: spec.namespace, service: spec.service ?? '', ingress: spec.ingress ?? '' };
  switch (mode) {
    case 'tcp':
      return startTcpEcho({
        ...identity,
        host: r.address,
        ...(first ? { port: first.port } : {}),
        ...(spec.tls
          ? { tls: { cert: spec.tls.cert, key: spec.tls.key, ...(first?.tlsPort ? { port: first.tlsPort } : {}) } }
          : {}),
      }).then((t) => ({
        port: t.port,
        ...(t.tlsPort !== undefined ? { tlsPort: t.tlsPort } : {}),
        close: () => t.close(),
      }));
    case 'udp':
      return startUdpEcho({ ...identity, host: r.address, ...(first ? { port: first.port } : {}) });
    case 'dns':
      return startDnsResponder({ host: r.address, ...(first ? { port: first.port } : {}) });
    default:
      return Promise.reject(new Error(`unknown L4 echo mode ${JSON.stringify(mode)}`));
  }
}

/** Replica 0 picks ephemeral ports; the others take the same numbers on their own addresses (retried when taken). */
async function bindAll(mode: string, spec: DeploymentSpec): Promise<Bound[]> {
  for (let attempt = 1; ; attempt++) {
    const bound: Bound[] = [];
    try {
      for (const r of spec.replicas) bound.push(await startReplica(mode, spec, r, bound[0]));
      return bound;
    } catch (err) {
      await Promise.all(bound.map((b) => b.close()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) throw err;
    }
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env[SPEC_ENV] ?? 'null') as DeploymentSpec | null;
  if (!spec) throw new Error(`${SPEC_ENV} is not set`);
  const mode = process.env[L4_MODE_ENV] ?? '';
  // Without a parent there is nobody to serve: a runner killed hard must not leave echo processes behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'count') send({ type: 'count', id: m.id, counts: {} });
  });
  const bound = await bindAll(mode, spec);
  const replicas: BoundReplica[] = bound.map((b, i) => ({
    ...spec.replicas[i],
    httpPort: b.port,
    h2cPort: b.port,
    ...(b.tlsPort !== undefined ? { httpsPort: b.tlsPort } : {}),
  }));
  send({ type: 'ready', replicas });
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: (err as Error).message });
  process.exitCode = 1;
  process.disconnect?.();
});
