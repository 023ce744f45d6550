/**
 * Building blocks for judging status (TRANSPORT-KINDS.md 1.4): condition
 * subset matching, observedGeneration currency, parent/ancestor refs,
 * listeners and addresses. Every function is pure: status in, first
 * mismatch (a reason string) or undefined out.
 */
import type {
  AddressesExpectation,
  ConditionExpectation,
  GroupKind,
  ListenerExpectation,
  ParentRefExpectation,
} from './case-types.ts';
import { isPlainObject } from './merge-patch.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  observedGeneration?: number;
}

/** A parentRef / ancestorRef as written in status. */
export interface StatusRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  sectionName?: string;
  port?: number;
}

/** A status value for a message: strings as they are, anything else as JSON. */
export function show(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'none');
}

export function asRecord(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

export function asList(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

export function conditionsOf(v: unknown): Condition[] {
  return asList(v).map((c) => c as unknown as Condition);
}

export function describeConditions(conds: Condition[]): string {
  return conds.length ? conds.map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`).join(', ') : 'none';
}

/** Subset match: each expected condition present with its status (`*` = any) and reason (`*` = any). */
export function matchConditions(expected: ConditionExpectation[] | undefined, actual: Condition[]): string | undefined {
  for (const want of expected ?? []) {
    const got = actual.find((c) => c.type === want.type);
    if (!got) return `condition ${want.type} missing (have: ${describeConditions(actual)})`;
    const statusOk = want.status === '*' || got.status === want.status;
    const reasonOk = want.reason === '*' || got.reason === want.reason;
    if (!statusOk || !reasonOk)
      return `condition ${want.type}: want ${want.status}/${want.reason}, got ${got.status}/${got.reason ?? ''}`;
  }
  return undefined;
}

/**
 * Status is only compared once its conditions carry the object's current
 * generation (upstream waits for it); a missing observedGeneration counts as stale.
 */
export function staleCondition(conds: Condition[], generation: number | undefined, label: string): string | undefined {
  const c = conds.find((x) => x.observedGeneration !== generation);
  if (!c) return undefined;
  const og =
    c.observedGeneration === undefined ? 'no observedGeneration' : `observedGeneration ${c.observedGeneration}`;
  return `stale status: ${label} condition ${c.type} has ${og}, metadata.generation is ${generation ?? 'unset'}`;
}

export function describeRef(r: StatusRef | ParentRefExpectation): string {
  const kind = r.kind ?? 'Gateway';
  const ns = r.namespace ? `${r.namespace}/` : '';
  const section = r.sectionName !== undefined ? `#${r.sectionName}` : '';
  const port = r.port !== undefined ? `:${r.port}` : '';
  return `${kind} ${ns}${r.name ?? '?'}${section}${port}`;
}

/**
 * Does a status parentRef match the expected one? Each field present in the
 * expectation must match; group and kind must be written in the status
 * (no defaulting), namespace defaults to the route's own unless required.
 */
export function parentRefMatches(
  want: ParentRefExpectation,
  got: StatusRef,
  ownNamespace: string | undefined,
  namespaceRequired = false,
): boolean {
  if (got.name !== want.name) return false;
  if (want.group !== undefined && got.group !== want.group) return false;
  if (want.kind !== undefined && got.kind !== want.kind) return false;
  if (want.namespace !== undefined) {
    const ns = namespaceRequired ? got.namespace : (got.namespace ?? ownNamespace);
    if (ns !== want.namespace) return false;
  }
  if (want.sectionName !== undefined && got.sectionName !== want.sectionName) return false;
  if (want.port !== undefined && got.port !== want.port) return false;
  return true;
}

/** Policy ancestors (TRANSPORT-KINDS.md 3.3): name equal, namespace missing or equal, other listed fields equal. */
export function ancestorRefMatches(want: ParentRefExpectation, got: StatusRef): boolean {
  if (got.name !== want.name) return false;
  if (want.namespace !== undefined && got.namespace !== undefined && got.namespace !== want.namespace) return false;
  if (want.group !== undefined && got.group !== want.group) return false;
  if (want.kind !== undefined && got.kind !== want.kind) return false;
  if (want.sectionName !== undefined && got.sectionName !== want.sectionName) return false;
  if (want.port !== undefined && got.port !== want.port) return false;
  return true;
}

/**
 * Maximum one-to-one assignment of expected entries to status entries
 * (Kuhn's algorithm; the lists are tiny). Returns, per expected index, the
 * status index it got or -1.
 */
export function assign(expected: number, actual: number, fits: (e: number, a: number) => boolean): number[] {
  const owner = new Array<number>(actual).fill(-1);
  const tryAssign = (e: number, seen: boolean[]): boolean => {
    for (let a = 0; a < actual; a++) {
      if (seen[a] || !fits(e, a)) continue;
      seen[a] = true;
      if (owner[a] === -1 || tryAssign(owner[a], seen)) {
        owner[a] = e;
        return true;
      }
    }
    return false;
  };
  for (let e = 0; e < expected; e++) tryAssign(e, new Array<boolean>(actual).fill(false));
  const result = new Array<number>(expected).fill(-1);
  owner.forEach((e, a) => {
    if (e !== -1) result[e] = a;
  });
  return result;
}

function sameGroupKind(want: GroupKind, got: Record<string, unknown>): boolean {
  const group = typeof got.group === 'string' ? got.group : GATEWAY_GROUP;
  return (want.group ?? GATEWAY_GROUP) === group && want.kind === got.kind;
}

function describeKinds(kinds: Record<string, unknown>[]): string {
  return `[${kinds.map((k) => show(k.kind)).join(', ')}]`;
}

/** Listener entries of a Gateway or ListenerSet status (TRANSPORT-KINDS.md 1.4, 3.2). */
export function matchListeners(
  expected: ListenerExpectation[],
  actual: Record<string, unknown>[],
  exact: boolean,
  allowEmpty: boolean,
): string | undefined {
  if (exact && allowEmpty && actual.length === 0) return undefined;
  const names = actual.map((l) => show(l.name)).join(', ') || 'none';
  for (const want of expected) {
    const got = actual.find((l) => l.name === want.name);
    if (!got) return `listener ${want.name} missing from status (have: ${names})`;
    if (want.attachedRoutes !== undefined && got.attachedRoutes !== want.attachedRoutes)
      return `listener ${want.name} attachedRoutes: want ${want.attachedRoutes}, got ${show(got.attachedRoutes)}`;
    if (want.supportedKinds !== undefined) {
      const kinds = asList(got.supportedKinds);
      if (want.supportedKinds.length === 0 && kinds.length)
        return `listener ${want.name} supportedKinds: want [], got ${describeKinds(kinds)}`;
      const missing = want.supportedKinds.find((w) => !kinds.some((k) => sameGroupKind(w, k)));
      if (missing)
        return `listener ${want.name} supportedKinds: ${missing.group ?? GATEWAY_GROUP}/${missing.kind} missing (have ${describeKinds(kinds)})`;
    }
    const cond = matchConditions(want.conditions, conditionsOf(got.conditions));
    if (cond) return `listener ${want.name} ${cond}`;
  }
  if (exact && actual.length !== expected.length)
    return `want exactly ${expected.length} listener(s), status has ${actual.length} (${names})`;
  return undefined;
}

/** `status.addresses` rules of EXTRA-KINDS.md 7.2. */
export function matchAddresses(want: AddressesExpectation, actual: Record<string, unknown>[]): string | undefined {
  const list = actual.map((a) => `${show(a.type ?? '')}:${show(a.value)}`).join(', ') || 'none';
  if (want.exactCount !== undefined && actual.length !== want.exactCount)
    return `want exactly ${want.exactCount} address(es), status has ${actual.length} (${list})`;
  for (const c of want.contains ?? []) {
    if (!actual.some((a) => a.value === c.value && (c.type === undefined || a.type === c.type)))
      return `address ${c.type ? `${c.type}:` : ''}${c.value} missing (have ${list})`;
  }
  const bad = actual.find((a) => (want.notContains ?? []).includes(show(a.value)));
  if (bad) return `address ${show(bad.value)} must not be in status (have ${list})`;
  return undefined;
}
