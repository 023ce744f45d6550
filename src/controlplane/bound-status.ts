/**
 * What the workers actually did with a configuration, and the status that
 * follows from it. The translator predicts a Programmed listener; only the
 * data plane knows whether its socket bound. This is where the prediction
 * meets the result: Gateway `status.addresses` become the bound addresses,
 * a listener's Programmed condition names the address and port it listens
 * on, or turns False with the bind error.
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../api/object.ts';
import type { IR, ListenerIR } from '../ir/types.ts';
import type { BoundSocket } from '../proxy/dataplane.ts';
import { setCondition, type Condition } from '../translate/conditions.ts';
import type { WorkerState } from './runner.ts';

/** The outcome of one configuration version across all workers. */
export interface ApplyOutcome {
  version: number;
  /** Workers that answered for this version, and how many there are. */
  applied: number;
  workers: number;
  /** Sockets as bound (from the first worker that answered; workers share sockets through the cluster). */
  sockets: BoundSocket[];
  /** IR listener names bound by every worker that answered. */
  boundListeners: Set<string>;
  /** Every distinct error line any worker reported. */
  errors: string[];
}

export function applyOutcome(version: number, workers: WorkerState[]): ApplyOutcome {
  const answered = workers.filter((w) => w.version === version);
  const errors = new Set<string>();
  let bound: Set<string> | undefined;
  let sockets: BoundSocket[] = [];
  for (const w of answered) {
    if (w.error !== undefined) errors.add(w.error);
    for (const e of w.result?.errors ?? []) errors.add(e);
    const names = new Set((w.result?.bound ?? []).flatMap((s) => s.listeners));
    bound = bound ? new Set([...bound].filter((n) => names.has(n))) : names;
    if (!sockets.length && w.result) sockets = w.result.bound;
  }
  return {
    version,
    applied: answered.filter((w) => w.result).length,
    workers: workers.length,
    sockets,
    boundListeners: bound ?? new Set(),
    errors: [...errors],
  };
}

export function irListeners(ir: IR): ListenerIR[] {
  return ir.gateways.flatMap((g) => g.listeners);
}

/** Why the configuration is not ready yet, or undefined when it is. */
export function notReadyReason(ir: IR, outcome: ApplyOutcome): string | undefined {
  if (outcome.workers === 0) return 'no data-plane worker is running';
  if (outcome.applied < outcome.workers)
    return `${outcome.applied} of ${outcome.workers} workers applied configuration v${outcome.version}`;
  if (outcome.errors.length) return outcome.errors.join('; ');
  const missing = irListeners(ir).filter((l) => !outcome.boundListeners.has(l.name));
  if (missing.length) return `listeners not bound: ${missing.map((l) => l.name).join(', ')}`;
  return undefined;
}

interface ListenerStatus {
  name: string;
  conditions?: Condition[];
}

function key(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `127.0.0.1:8080`, or `127.0.0.1:53/udp`: where a socket listens, for people. */
export function socketLabel(s: BoundSocket): string {
  return hostPort(s.address, s.boundPort) + (s.protocol === 'udp' ? '/udp' : '');
}

/**
 * Returns `resources` with the Gateway and ListenerSet statuses adjusted to
 * `outcome` (objects it changes are copied; the rest are shared).
 */
export function withBoundStatus(resources: KubeObject[], ir: IR, outcome: ApplyOutcome, now: string): KubeObject[] {
  const byKey = new Map(resources.map((r, i) => [key(r.kind, r.metadata.namespace, r.metadata.name), i]));
  const out = resources.slice();
  /** A private copy of one resource's status, made on first write. */
  const statusOf = (kind: string, namespace: string, name: string): Record<string, unknown> | undefined => {
    const i = byKey.get(key(kind, namespace, name));
    if (i === undefined) return undefined;
    const r = out[i];
    if (r === resources[i]) out[i] = { ...r, status: structuredClone(r.status ?? {}) };
    return out[i].status as Record<string, unknown>;
  };
  const socketsOf = (listener: string): BoundSocket[] => outcome.sockets.filter((s) => s.listeners.includes(listener));

  for (const gw of ir.gateways) {
    const addresses = [...new Set(gw.listeners.flatMap((l) => socketsOf(l.name).map((s) => s.address)))];
    if (addresses.length) {
      const st = statusOf('Gateway', gw.namespace, gw.name);
      if (st) st.addresses = addresses.map((value) => ({ type: isIP(value) ? 'IPAddress' : 'Hostname', value }));
    }
    for (const l of gw.listeners) {
      const owner = l.listenerSet
        ? statusOf('ListenerSet', l.listenerSet.namespace, l.listenerSet.name)
        : statusOf('Gateway', gw.namespace, gw.name);
      const ls = (owner?.listeners as ListenerStatus[] | undefined)?.find((s) => s.name === l.sectionName);
      if (!ls) continue;
      ls.conditions ??= [];
      const programmed = ls.conditions.find((c) => c.type === 'Programmed');
      if (outcome.boundListeners.has(l.name)) {
        const where = socketsOf(l.name).map(socketLabel).join(', ');
        if (programmed?.status === 'True') programmed.message = `Listening on ${where}`;
      } else if (programmed?.status === 'True') {
        const errors = outcome.errors.filter((e) => e.includes(l.name));
        const message = errors.length ? errors.join('; ') : 'The data plane has not bound this listener';
        setCondition(ls.conditions, 'Programmed', 'False', 'Pending', message, programmed.observedGeneration, now);
      }
    }
  }
  return out;
}
