/**
 * The echo backends of a live run (ECHO.md, GRPC-ECHO.md,
 * TRANSPORT-KINDS.md 7): one child process per Deployment, in the mode the
 * Deployment's env asks for (HTTP echo test/support/echo/main.ts, gRPC echo
 * test/support/grpc-echo/main.ts, TCP/UDP echo and the DNS stand-in for
 * CoreDNS ./l4-echo-child.ts), serving each replica on its own loopback
 * "pod IP", all replicas on the same ephemeral ports. It is also the
 * EndpointSource: Services get EndpointSlices naming those addresses, with
 * the container ports (3000, 3001, 8443, 8080/UDP, 53/UDP) mapped to the
 * bound ones, protocols as the Service ports say.
 *
 * A process per Deployment, not per replica: half the process start-ups
 * on a 2-core machine, while a Deployment still lives and dies (and keeps
 * its retry counters) apart from the runner and from the others.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { Service } from '../../src/api/core.ts';
import type { KubeObject } from '../../src/api/object.ts';
import {
  SPEC_ENV,
  type BoundReplica,
  type ChildMessage,
  type DeploymentSpec,
  type ParentMessage,
} from '../support/echo/fleet-protocol.ts';
import { L4_MODE_ENV, resolveEchoSpec, type EchoContainer, type EchoMode } from './echo-deployments.ts';
import { slicePorts, type EndpointSource, type SliceContent } from './endpoints.ts';

const CHILD: Record<EchoMode, string> = {
  http: fileURLToPath(new URL('../support/echo/main.ts', import.meta.url)),
  grpc: fileURLToPath(new URL('../support/grpc-echo/main.ts', import.meta.url)),
  tcp: fileURLToPath(new URL('./l4-echo-child.ts', import.meta.url)),
  udp: fileURLToPath(new URL('./l4-echo-child.ts', import.meta.url)),
  dns: fileURLToPath(new URL('./l4-echo-child.ts', import.meta.url)),
};
const START_TIMEOUT_MS = 30_000;
const QUERY_TIMEOUT_MS = 5_000;
const READY = { ready: true, serving: true, terminating: false };

interface Running {
  key: string;
  /** What the process was started from; a different spec restarts it. */
  fingerprint: unknown;
  container: EchoContainer;
  child: ChildProcess;
  replicas: BoundReplica[];
}

/** Kubernetes-style name parts: no `-`, so `weights` can strip the last two. */
function podName(deployment: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const suffix = [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${deployment}-${randomBytes(5).toString('hex')}-${suffix}`;
}

function keyOf(d: KubeObject): string {
  return `${d.metadata.namespace ?? 'default'}/${d.metadata.name}`;
}

export interface FleetOptions {
  /** First three octets of the loopback /24 the pod addresses come from, e.g. `127.23.41`. */
  podNet: string;
  /** Print upstream's echo log lines (stdout of the children). */
  echoLog?: boolean;
  log?: (line: string) => void;
}

export class EchoFleet implements EndpointSource {
  readonly #opts: FleetOptions;
  readonly #running = new Map<string, Running>();
  readonly #freeHosts: number[];
  #queries = 0;

  constructor(opts: FleetOptions) {
    this.#opts = opts;
    this.#freeHosts = Array.from({ length: 254 }, (_, i) => i + 1);
  }

  /**
   * Runs exactly the echo Deployments among `objects` (starting new ones,
   * restarting changed ones, stopping the rest); `objects` also supplies the
   * Secrets and ConfigMaps their TLS volumes name.
   */
  async sync(objects: KubeObject[]): Promise<void> {
    const lookup = (kind: string, namespace: string, name: string): KubeObject | undefined =>
      objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
    const wanted = new Map<string, { deployment: KubeObject; container: EchoContainer }>();
    for (const d of objects) {
      if (d.kind !== 'Deployment') continue;
      const container = resolveEchoSpec(d, lookup);
      if (container) wanted.set(keyOf(d), { deployment: d, container });
    }
    const stops: Promise<void>[] = [];
    for (const [key, r] of this.#running) {
      const w = wanted.get(key);
      if (!w || !isDeepStrictEqual(w.container, r.fingerprint)) stops.push(this.#stop(key));
    }
    await Promise.all(stops);
    const starts = [...wanted].filter(([key]) => !this.#running.has(key));
    await Promise.all(starts.map(([key, w]) => this.#start(key, w.deployment, w.container)));
  }

  async #start(key: string, deployment: KubeObject, container: EchoContainer): Promise<void> {
    const name = deployment.metadata.name;
    const hosts = Array.from({ length: container.replicas }, () => {
      const h = this.#freeHosts.shift();
      if (h === undefined) throw new Error(`no free pod address in ${this.#opts.podNet}.0/24`);
      return h;
    });
    const spec: DeploymentSpec = {
      namespace: deployment.metadata.namespace ?? 'default',
      deployment: name,
      replicas: hosts.map((h) => ({ pod: podName(name), address: `${this.#opts.podNet}.${h}` })),
      ...(container.service ? { service: container.service } : {}),
      ...(container.ingress ? { ingress: container.ingress } : {}),
      ...(container.tls ? { tls: container.tls } : {}),
      log: this.#opts.echoLog === true,
    };
    const child = fork(CHILD[container.mode], [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec), [L4_MODE_ENV]: container.mode },
      stdio: ['ignore', this.#opts.echoLog ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    });
    try {
      const replicas = await new Promise<BoundReplica[]>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`echo ${key}: not ready after ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
        const done = (): void => clearTimeout(timer);
        child.on('message', (m: ChildMessage) => {
          if (m.type === 'ready') resolve(m.replicas);
          else if (m.type === 'failed') reject(new Error(`echo ${key}: ${m.message}`));
          if (m.type !== 'count') done();
        });
        child.once('exit', (code) => {
          done();
          reject(new Error(`echo ${key} exited (${code}) before it was ready`));
        });
      });
      this.#running.set(key, { key, fingerprint: container, container, child, replicas });
      // A process that dies is started again by the next sync (like a restarted pod, with new addresses).
      child.once('exit', () => {
        if (this.#running.get(key)?.child !== child) return;
        this.#running.delete(key);
        for (const rep of replicas) this.#freeHosts.push(Number(rep.address.split('.')[3]));
      });
      this.#opts.log?.(
        `echo ${key} (${container.mode}): ${replicas.map((r) => `${r.pod}@${r.address}:${r.httpPort}`).join(', ')}`,
      );
    } catch (err) {
      child.kill('SIGKILL');
      for (const h of hosts) this.#freeHosts.push(h);
      throw err;
    }
  }

  async #stop(key: string): Promise<void> {
    const r = this.#running.get(key);
    if (!r) return;
    this.#running.delete(key);
    for (const rep of r.replicas) this.#freeHosts.push(Number(rep.address.split('.')[3]));
    await killChild(r.child);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((k) => this.#stop(k)));
  }

  /** Synchronous last resort at process exit. */
  killAll(): void {
    for (const r of this.#running.values()) r.child.kill('SIGKILL');
  }

  #find(deployment: KubeObject): Running | undefined {
    return this.#running.get(keyOf(deployment));
  }

  slicesFor(service: Service, deployments: KubeObject[]): SliceContent[] {
    const ports = slicePorts(service, deployments);
    const slices: SliceContent[] = [];
    for (const d of deployments) {
      const r = this.#find(d);
      if (!r) continue;
      slices.push({
        addressType: 'IPv4',
        endpoints: r.replicas.map((rep) => ({
          addresses: [rep.address],
          conditions: READY,
          targetRef: { kind: 'Pod', namespace: d.metadata.namespace, name: rep.pod },
        })),
        ports: ports.map((p) => ({ ...p, port: this.#mapPort(r, p.port ?? 0) })),
      });
    }
    // No echo behind the Service (or a mode we do not run): a slice without endpoints, as Kubernetes would show.
    return slices.length ? slices : [{ addressType: 'IPv4', endpoints: [], ports }];
  }

  addressesOf(deployment: KubeObject): string[] {
    return this.#find(deployment)?.replicas.map((r) => r.address) ?? [];
  }

  mapPort(deployment: KubeObject, containerPort: number): number {
    const r = this.#find(deployment);
    return r ? this.#mapPort(r, containerPort) : containerPort;
  }

  #mapPort(r: Running, containerPort: number): number {
    const rep = r.replicas[0];
    const p = r.container.ports;
    if (containerPort === p.http) return rep.httpPort;
    if (p.h2c !== undefined && containerPort === p.h2c) return rep.h2cPort;
    if (p.https !== undefined && containerPort === p.https && rep.httpsPort !== undefined) return rep.httpsPort;
    return containerPort;
  }

  /** How many echoed requests with exactly this target the Deployment's processes have seen (all replicas). */
  async count(namespace: string, deployment: string, target: string): Promise<number> {
    const r = this.#running.get(`${namespace}/${deployment}`);
    if (!r) throw new Error(`no echo process for Deployment ${namespace}/${deployment}`);
    const id = ++this.#queries;
    const counts = await new Promise<Record<string, number>>((resolve, reject) => {
      const timer = setTimeout(() => {
        r.child.off('message', on);
        reject(new Error(`echo ${r.key}: no answer to a count query`));
      }, QUERY_TIMEOUT_MS);
      const on = (m: ChildMessage): void => {
        if (m.type !== 'count' || m.id !== id) return;
        clearTimeout(timer);
        r.child.off('message', on);
        resolve(m.counts);
      };
      r.child.on('message', on);
      r.child.send({ type: 'count', id, target } satisfies ParentMessage);
    });
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }
}

/** SIGTERM, then SIGKILL after a second; resolves once the child is gone. */
export function killChild(child: ChildProcess, graceMs = 1000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
