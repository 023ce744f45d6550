/**
 * Demo backends for `sluice serve --demo-backends`: every Service whose
 * EndpointSlice points at a loopback address gets a tiny HTTP server on that
 * address and port, answering with who it is:
 *
 *   {"service":"app-v1","namespace":"default","version":"v1","method":"GET","path":"/","host":"app.example.com"}
 *
 * `version` is the Service's `version` selector label when it has one,
 * else its name. So any example directory can be served and curled with
 * nothing else running. The set follows the configuration on every reload.
 * Each port also speaks h2c and answers gRPC calls (./grpc-backends.ts).
 */
import { isIP } from 'node:net';
import { SERVICE_NAME_LABEL, type Service } from '../api/core.ts';
import type { Logger } from '../observability/logger.ts';
import type { ResourceSnapshot } from '../providers/snapshot.ts';
import { listenDemo, type DemoServer } from './grpc-backends.ts';

interface Wanted {
  address: string;
  port: number;
  service: Service;
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}

/** The loopback endpoints of every Service, one per address and port (the first Service to claim one keeps it). */
export function demoEndpoints(snapshot: ResourceSnapshot): Wanted[] {
  const out = new Map<string, Wanted>();
  for (const service of snapshot.services) {
    const ns = service.metadata.namespace ?? 'default';
    for (const slice of snapshot.endpointSlices) {
      if ((slice.metadata.namespace ?? 'default') !== ns) continue;
      if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== service.metadata.name) continue;
      for (const p of slice.ports ?? []) {
        if (p.port === undefined || (p.protocol ?? 'TCP') !== 'TCP') continue;
        for (const ep of slice.endpoints ?? []) {
          for (const address of ep.addresses.filter(isLoopback)) {
            const key = `${address}|${p.port}`;
            if (!out.has(key)) out.set(key, { address, port: p.port, service });
          }
        }
      }
    }
  }
  return [...out.values()];
}

export class DemoBackends {
  readonly #running = new Map<string, { server: DemoServer; identity: string }>();

  constructor(private readonly log: Logger) {}

  /** Starts a backend for each loopback endpoint of `snapshot` and stops the ones no longer there. */
  async sync(snapshot: ResourceSnapshot): Promise<void> {
    const wanted = new Map(demoEndpoints(snapshot).map((w) => [`${w.address}|${w.port}`, w]));
    const identity = (w: Wanted): string => `${w.service.metadata.namespace ?? 'default'}/${w.service.metadata.name}`;
    const stops: Array<Promise<void>> = [];
    for (const [key, r] of this.#running) {
      const w = wanted.get(key);
      if (w && identity(w) === r.identity) continue;
      this.#running.delete(key);
      stops.push(r.server.close());
    }
    await Promise.all(stops);
    await Promise.all(
      [...wanted].map(async ([key, w]) => {
        if (this.#running.has(key)) return;
        try {
          const server = await listen(w);
          this.#running.set(key, { server, identity: identity(w) });
          this.log.info(`demo backend ${identity(w)} listening on ${w.address}:${w.port}`);
        } catch (err) {
          this.log.warn(
            `demo backend ${identity(w)}: cannot listen on ${w.address}:${w.port}: ${(err as Error).message}`,
          );
        }
      }),
    );
  }

  async close(): Promise<void> {
    const servers = [...this.#running.values()].map((r) => r.server);
    this.#running.clear();
    await Promise.all(servers.map((s) => s.close()));
  }
}

function listen(w: Wanted): Promise<DemoServer> {
  const who = {
    service: w.service.metadata.name,
    namespace: w.service.metadata.namespace ?? 'default',
    version: w.service.spec?.selector?.version ?? w.service.metadata.name,
  };
  return listenDemo(
    w.address,
    w.port,
    who,
    (method, path, host) => JSON.stringify({ ...who, method, path, host }) + '\n',
  );
}
