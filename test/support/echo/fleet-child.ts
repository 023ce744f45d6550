/**
 * The child side of the fleet protocol (./fleet-protocol.ts), shared by
 * the HTTP echo (./main.ts) and gRPC echo (../grpc-echo/main.ts) processes:
 * binds every replica (replica 0 on ephemeral ports, the others on the same
 * numbers on their own addresses, the whole set retried when a number is
 * taken), replies `ready` with the ports, answers `count` queries and exits
 * when the parent goes away.
 */
import {
  SPEC_ENV,
  type BoundReplica,
  type ChildMessage,
  type DeploymentSpec,
  type ParentMessage,
  type ReplicaSpec,
} from './fleet-protocol.ts';

const BIND_ATTEMPTS = 20;

/** One bound replica, whatever it serves. */
export interface FleetReplica {
  readonly httpPort: number;
  readonly h2cPort: number;
  readonly httpsPort?: number | undefined;
  close(): Promise<void>;
}

/** What `count` queries ask about: key (request target, gRPC method) → pod → hits. */
export class Hits {
  private readonly seen = new Map<string, Map<string, number>>();

  add(key: string, pod: string): void {
    let byPod = this.seen.get(key);
    if (!byPod) this.seen.set(key, (byPod = new Map()));
    byPod.set(pod, (byPod.get(pod) ?? 0) + 1);
  }

  counts(key: string): Record<string, number> {
    return Object.fromEntries(this.seen.get(key) ?? []);
  }
}

/** Starts one replica; `first` is replica 0 once bound (its ports are the ones to take). */
export type StartReplica = (
  spec: DeploymentSpec,
  replica: ReplicaSpec,
  first: FleetReplica | undefined,
  hits: Hits,
) => Promise<FleetReplica>;

function send(m: ChildMessage): void {
  process.send?.(m);
}

async function bindAll(spec: DeploymentSpec, start: StartReplica, hits: Hits): Promise<FleetReplica[]> {
  for (let attempt = 1; ; attempt++) {
    const servers: FleetReplica[] = [];
    try {
      for (const r of spec.replicas) servers.push(await start(spec, r, servers[0], hits));
      return servers;
    } catch (err) {
      await Promise.all(servers.map((s) => s.close()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) throw err;
    }
  }
}

async function run(start: StartReplica): Promise<void> {
  const spec = JSON.parse(process.env[SPEC_ENV] ?? 'null') as DeploymentSpec | null;
  if (!spec) throw new Error(`${SPEC_ENV} is not set`);
  const hits = new Hits();
  // Without a parent there is nobody to serve: a runner killed hard must not leave echo processes behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'count') send({ type: 'count', id: m.id, counts: hits.counts(m.target) });
  });
  const servers = await bindAll(spec, start, hits);
  const replicas: BoundReplica[] = servers.map((s, i) => ({
    ...spec.replicas[i],
    httpPort: s.httpPort,
    h2cPort: s.h2cPort,
    ...(s.httpsPort !== undefined ? { httpsPort: s.httpsPort } : {}),
  }));
  send({ type: 'ready', replicas });
}

/** The process's whole life: serve the Deployment in SLUICE_ECHO_SPEC until the parent goes away. */
export function runFleetChild(start: StartReplica): void {
  run(start).catch((err: unknown) => {
    send({ type: 'failed', message: (err as Error).message });
    process.exitCode = 1;
    process.disconnect?.();
  });
}
