/**
 * What every traffic check needs: the live context, the upstream polling
 * defaults (TRANSPORT-KINDS.md 1.3), where a Gateway listener is served,
 * bounded parallelism, and Secret/ConfigMap material of the case.
 */
import type { KubeObject } from '../../../src/api/object.ts';
import type { StatusDocument } from '../../../src/controlplane/control-loop.ts';
import type { EchoFleet } from '../echo-fleet.ts';
import { isPlainObject } from '../merge-patch.ts';
import type { PollOptions } from './eventually.ts';
import type { Endpoint } from './http-client.ts';
import type { GatewayRef, SecretKeyRef } from './types.ts';

export interface TrafficContext {
  /** The gateway's current status document (refetched when an address is missing). */
  status(): Promise<StatusDocument>;
  fleet: Pick<EchoFleet, 'count'>;
  /** Objects of the case as the runner stored them (Secrets for client certificates). */
  lookup(kind: string, namespace: string, name: string): KubeObject | undefined;
  portOffset: number;
  /** Give up on a check once no try has passed for this long (undefined: full upstream budgets). */
  settleMs?: number;
}

/** Each single request/connection (1.3). */
export const REQUEST_TIMEOUT_MS = 10_000;

export function pollOptions(
  check: { timeoutSeconds?: number; pollSeconds?: number; consecutive?: number },
  ctx: TrafficContext,
  consecutive = 3,
): PollOptions {
  return {
    consecutive: check.consecutive ?? consecutive,
    timeoutMs: (check.timeoutSeconds ?? 30) * 1000,
    pollMs: (check.pollSeconds ?? 0.1) * 1000,
    ...(ctx.settleMs !== undefined ? { settleMs: ctx.settleMs } : {}),
  };
}

/** Finds where a Gateway listener is served; cached per check, refreshed while the address is missing. */
export function endpointResolver(ctx: TrafficContext, gw: GatewayRef, listenerPort: number): () => Promise<Endpoint> {
  let cached: Endpoint | undefined;
  return async () => {
    if (cached) return cached;
    const doc = await ctx.status();
    const g = doc.resources.find(
      (r) => r.kind === 'Gateway' && r.metadata.namespace === gw.namespace && r.metadata.name === gw.name,
    );
    if (!g) throw new Error(`Gateway ${gw.namespace}/${gw.name} is not in the gateway's configuration`);
    const status = isPlainObject(g.status) ? g.status : {};
    const addresses = Array.isArray(status.addresses) ? (status.addresses as Record<string, unknown>[]) : [];
    const a = addresses.find((x) => typeof x.type === 'string' && x.type !== '' && typeof x.value === 'string');
    if (!a) throw new Error(`Gateway ${gw.namespace}/${gw.name} has no status.addresses entry with a type`);
    cached = { address: a.value as string, port: listenerPort + ctx.portOffset };
    return cached;
  };
}

/** A key of a Secret (base64 data) or ConfigMap (plain data) of the case; default key: certKey, key, `tls.crt` (`ca.crt` in a ConfigMap). */
export function secretText(ctx: Pick<TrafficContext, 'lookup'>, ref: SecretKeyRef, key?: string): string | undefined {
  const obj = ctx.lookup(ref.kind || 'Secret', ref.namespace, ref.name);
  const k = key ?? ref.certKey ?? ref.key ?? (ref.kind === 'ConfigMap' ? 'ca.crt' : 'tls.crt');
  const data = isPlainObject(obj?.data) ? obj.data : {};
  const v = data[k];
  if (typeof v === 'string') return obj?.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  const plain = isPlainObject(obj?.stringData) ? obj.stringData[k] : undefined;
  return typeof plain === 'string' ? plain : undefined;
}

/**
 * Runs `fn(i)` for i < n with at most `concurrency` in flight. Once a
 * result satisfies `stop`, no new call starts (the ones in flight finish):
 * a round that has already failed is not worth finishing.
 */
export async function inParallel<T>(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
  stop: (r: T) => boolean = () => false,
): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (next < n && !stopped) {
      const r = await fn(next++);
      out.push(r);
      if (stop(r)) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
  return out;
}
