/**
 * The resources with their status (what `sluice translate --show status`
 * prints, or `/api/status` serves with the data plane's results applied),
 * indexed for the questions explain asks: a listener's conditions, a
 * route's parents, the policies naming an object.
 */
import type { KubeObject } from '../api/object.ts';
import { HostTable } from '../proxy/router/host-table.ts';
import type { ConditionSummary } from './types.ts';

export interface ParentStatus {
  parentRef: { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string; port?: number };
  conditions: ConditionSummary[];
}

export class ResourceIndex {
  readonly #byKey = new Map<string, KubeObject>();
  readonly #byKind = new Map<string, KubeObject[]>();

  constructor(resources: readonly KubeObject[]) {
    for (const o of resources) {
      this.#byKey.set(key(o.kind, o.metadata.namespace, o.metadata.name), o);
      const list = this.#byKind.get(o.kind);
      if (list) list.push(o);
      else this.#byKind.set(o.kind, [o]);
    }
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#byKey.get(key(kind, namespace, name));
  }

  ofKind(kind: string): KubeObject[] {
    return this.#byKind.get(kind) ?? [];
  }

  all(): KubeObject[] {
    return [...this.#byKey.values()];
  }
}

function key(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A string field, '' when absent or of another type. */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function array(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function spec(o: KubeObject | undefined): Record<string, unknown> {
  return record(o?.spec) ?? {};
}

export function statusOf(o: KubeObject | undefined): Record<string, unknown> {
  return record(o?.status) ?? {};
}

export function conditions(v: unknown): ConditionSummary[] {
  return array(v).flatMap((c) => {
    const r = record(c);
    if (r === undefined || typeof r.type !== 'string') return [];
    return [{ type: r.type, status: str(r.status), reason: str(r.reason), message: str(r.message) }];
  });
}

export function findCondition(list: readonly ConditionSummary[], type: string): ConditionSummary | undefined {
  return list.find((c) => c.type === type);
}

/** `Reason: message` (or just one of them). */
export function conditionText(c: ConditionSummary): string {
  return c.message === '' ? c.reason : c.reason === '' ? c.message : `${c.reason}: ${c.message}`;
}

/** Conditions of listener `section` in a Gateway's or ListenerSet's `status.listeners`. */
export function listenerConditions(owner: KubeObject | undefined, section: string): ConditionSummary[] | undefined {
  const entry = array(statusOf(owner).listeners)
    .map(record)
    .find((l) => l?.name === section);
  return entry === undefined ? undefined : conditions(entry.conditions);
}

export interface ListenerSpec {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
}

export function listenerSpecs(owner: KubeObject): ListenerSpec[] {
  return array(spec(owner).listeners).flatMap((l) => {
    const r = record(l);
    if (r === undefined || typeof r.name !== 'string') return [];
    const hostname = typeof r.hostname === 'string' ? r.hostname : undefined;
    return [
      {
        name: r.name,
        port: Number(r.port),
        protocol: str(r.protocol),
        ...(hostname !== undefined ? { hostname } : {}),
      },
    ];
  });
}

export function routeParents(route: KubeObject): ParentStatus[] {
  return array(statusOf(route).parents).flatMap((p) => {
    const r = record(p);
    const ref = record(r?.parentRef);
    if (r === undefined || ref === undefined || typeof ref.name !== 'string') return [];
    return [{ parentRef: ref as ParentStatus['parentRef'], conditions: conditions(r.conditions) }];
  });
}

export function parentRefText(ref: ParentStatus['parentRef'], routeNamespace: string): string {
  const kind = ref.kind ?? 'Gateway';
  const section = ref.sectionName !== undefined ? ` listener ${ref.sectionName}` : '';
  const port = ref.port !== undefined ? ` port ${ref.port}` : '';
  return `${kind} ${ref.namespace ?? routeNamespace}/${ref.name}${section}${port}`;
}

export function stringList(v: unknown): string[] {
  return array(v).filter((x): x is string => typeof x === 'string');
}

/** Whether a hostname pattern (`name`, `*.suffix`, `*`) covers `host`, by the data plane's own host table. */
export function hostnameCovers(pattern: string | undefined, host: string): boolean {
  const t = new HostTable<true>();
  t.add(pattern, true);
  return t.lookup(host) === true;
}

export { array, record };
