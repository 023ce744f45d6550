/**
 * Judges the status check kinds against objects as the API server holds
 * them. Pure: the object (or undefined) in, a verdict with the first
 * failing reason out, so a live runner can poll the same functions until
 * its timeout. `stale` marks a status not yet written for the current
 * generation (a poller waits on it; the synchronous runner fails).
 */
import type { KubeObject } from '../../src/api/object.ts';
import type {
  GatewayClassStatusCheck,
  GatewayStatusCheck,
  LatestConditionsCheck,
  ListenerSetStatusCheck,
  ParentExpectation,
  PolicyStatusCheck,
  RouteStatusCheck,
  StatusCheck,
} from './case-types.ts';
import type { ObjectRef } from './object-store.ts';
import {
  ancestorRefMatches,
  asList,
  asRecord,
  assign,
  conditionsOf,
  describeRef,
  GATEWAY_GROUP,
  matchAddresses,
  matchConditions,
  matchListeners,
  parentRefMatches,
  staleCondition,
  type Condition,
  type StatusRef,
} from './status-match.ts';

export type Verdict = { ok: true } | { ok: false; reason: string; stale?: boolean };

export const PASS: Verdict = { ok: true };

function fail(reason: string): Verdict {
  return { ok: false, reason };
}

function stale(reason: string): Verdict {
  return { ok: false, reason, stale: true };
}

export interface JudgeContext {
  /** The class under test's controller name, which `controllerName: "*"` stands for. */
  controllerName: string;
  lookup(ref: ObjectRef): KubeObject | undefined;
}

function statusOf(o: KubeObject): Record<string, unknown> {
  return asRecord(o.status);
}

function name(ns: string | undefined, n: string): string {
  return ns ? `${ns}/${n}` : n;
}

/** The first stale condition among several lists, as a verdict. */
function firstStale(lists: [Condition[], string][], generation: number | undefined): Verdict | undefined {
  for (const [conds, label] of lists) {
    const s = staleCondition(conds, generation, label);
    if (s) return stale(s);
  }
  return undefined;
}

// --- routeStatus -------------------------------------------------------------

interface ParentStatus {
  parentRef: StatusRef;
  controllerName?: string;
  conditions: Condition[];
}

function parentStatuses(route: KubeObject): ParentStatus[] {
  return asList(statusOf(route).parents).map((p) => ({
    parentRef: asRecord(p.parentRef),
    controllerName: typeof p.controllerName === 'string' ? p.controllerName : undefined,
    conditions: conditionsOf(p.conditions),
  }));
}

/** Why a status parent does not satisfy an expected one (its ref already matches), or undefined. */
function parentDetailMismatch(want: ParentExpectation, got: ParentStatus, controllerName: string): string | undefined {
  if (want.controllerName !== undefined) {
    const expected = want.controllerName === '*' ? controllerName : want.controllerName;
    if (got.controllerName !== expected) return `controllerName: want ${expected}, got ${got.controllerName ?? 'none'}`;
  }
  return matchConditions(want.conditions, got.conditions);
}

export function judgeRouteStatus(
  check: RouteStatusCheck,
  route: KubeObject | undefined,
  controllerName: string,
): Verdict {
  const r = check.route;
  if (!route) return fail(`${r.kind} ${name(r.namespace, r.name)} not found`);
  const ns = route.metadata.namespace;
  const parents = parentStatuses(route);
  const staleness = firstStale(
    parents.map((p) => [p.conditions, `parent ${describeRef(p.parentRef)}`]),
    route.metadata.generation,
  );
  if (staleness) return staleness;
  if (parents.length === 0 && check.allowNoParents) return PASS;
  const listed = parents.map((p) => describeRef(p.parentRef)).join(', ') || 'none';

  const refOk = (e: number, a: number): boolean =>
    parentRefMatches(check.parents[e].parentRef, parents[a].parentRef, ns, check.namespaceRequired);
  const fits = (e: number, a: number): boolean =>
    refOk(e, a) && parentDetailMismatch(check.parents[e], parents[a], controllerName) === undefined;
  const assigned = assign(check.parents.length, parents.length, fits);
  const missing = assigned.indexOf(-1);
  if (missing !== -1) {
    const want = check.parents[missing];
    const wantRef = describeRef(want.parentRef);
    const candidates = parents.map((_, a) => a).filter((a) => refOk(missing, a));
    if (!candidates.length) return fail(`no status parent matches ${wantRef} (status parents: ${listed})`);
    const detail = candidates.map((a) => parentDetailMismatch(want, parents[a], controllerName)).find((d) => d);
    if (detail) return fail(`parent ${wantRef}: ${detail}`);
    const wanted = check.parents.filter((_, e) => candidates.some((a) => refOk(e, a))).length;
    return fail(`${wanted} parent entries expected for ${wantRef}, status has ${candidates.length} (${listed})`);
  }
  if (check.exactParents && parents.length !== check.parents.length) {
    const extra = parents.filter((_, a) => !assigned.includes(a)).map((p) => describeRef(p.parentRef));
    return fail(
      `want exactly ${check.parents.length} parent(s), status has ${parents.length}; unexpected: ${extra.join(', ')}`,
    );
  }
  return PASS;
}

// --- gatewayStatus / listenerSetStatus ---------------------------------------

function judgeListenerHolder(
  what: string,
  obj: KubeObject,
  check: GatewayStatusCheck | ListenerSetStatusCheck,
): Verdict | undefined {
  const status = statusOf(obj);
  const conditions = conditionsOf(status.conditions);
  const listeners = asList(status.listeners);
  const listed = (check.listeners ?? []).flatMap((want) => {
    const l = listeners.find((x) => x.name === want.name);
    return l ? [[conditionsOf(l.conditions), `${what} listener ${want.name}`] as [Condition[], string]] : [];
  });
  const staleness = firstStale([[conditions, what], ...listed], obj.metadata.generation);
  if (staleness) return staleness;
  const cond = matchConditions(check.conditions, conditions);
  if (cond) return fail(`${what} ${cond}`);
  if (check.listeners) {
    const l = matchListeners(
      check.listeners,
      listeners,
      check.exactListeners === true,
      check.allowEmptyListeners === true,
    );
    if (l) return fail(`${what} ${l}`);
  }
  return undefined;
}

export function judgeGatewayStatus(check: GatewayStatusCheck, gateway: KubeObject | undefined): Verdict {
  const what = `Gateway ${name(check.gateway.namespace, check.gateway.name)}`;
  if (!gateway) return fail(`${what} not found`);
  const early = judgeListenerHolder(what, gateway, check);
  if (early) return early;
  const status = statusOf(gateway);
  const addresses = asList(status.addresses);
  if (check.requireAddress && !addresses.some((a) => typeof a.type === 'string' && a.type !== ''))
    return fail(`${what} has no status.addresses entry with a type`);
  if (check.addresses) {
    const a = matchAddresses(check.addresses, addresses);
    if (a) return fail(`${what} ${a}`);
  }
  if (check.attachedListenerSets !== undefined) {
    const got = typeof status.attachedListenerSets === 'number' ? status.attachedListenerSets : 0;
    if (got !== check.attachedListenerSets)
      return fail(`${what} attachedListenerSets: want ${check.attachedListenerSets}, got ${got}`);
  }
  return PASS;
}

export function judgeListenerSetStatus(check: ListenerSetStatusCheck, ls: KubeObject | undefined): Verdict {
  const what = `ListenerSet ${name(check.listenerSet.namespace, check.listenerSet.name)}`;
  if (!ls) return fail(`${what} not found`);
  return judgeListenerHolder(what, ls, check) ?? PASS;
}

// --- gatewayClassStatus -------------------------------------------------------

export function judgeGatewayClassStatus(check: GatewayClassStatusCheck, gc: KubeObject | undefined): Verdict {
  const what = `GatewayClass ${check.gatewayClass.name}`;
  if (!gc) return fail(`${what} not found`);
  const conditions = conditionsOf(statusOf(gc).conditions);
  const staleness = firstStale([[conditions, what]], gc.metadata.generation);
  if (staleness) return staleness;
  const cond = matchConditions(check.conditions, conditions);
  return cond ? fail(`${what} ${cond}`) : PASS;
}

// --- policyStatus --------------------------------------------------------------

export function judgePolicyStatus(check: PolicyStatusCheck, policy: KubeObject | undefined): Verdict {
  const p = check.policy;
  const what = `${p.kind} ${name(p.namespace, p.name)}`;
  if (!policy) return fail(`${what} not found`);
  const ancestors = asList(statusOf(policy).ancestors).map((a) => ({
    ref: asRecord(a.ancestorRef),
    controllerName: typeof a.controllerName === 'string' ? a.controllerName : undefined,
    conditions: conditionsOf(a.conditions),
  }));
  const staleness = firstStale(
    ancestors.map((a) => [a.conditions, `${what} ancestor ${describeRef(a.ref)}`]),
    policy.metadata.generation,
  );
  if (staleness) return staleness;
  const listed = ancestors.map((a) => describeRef(a.ref)).join(', ') || 'none';
  for (const want of check.ancestors ?? []) {
    const wantRef = describeRef(want.ancestorRef);
    const candidates = ancestors.filter(
      (a) =>
        ancestorRefMatches(want.ancestorRef, a.ref) &&
        (want.controllerName === undefined || a.controllerName === want.controllerName),
    );
    if (!candidates.length) return fail(`${what}: no status ancestor matches ${wantRef} (status ancestors: ${listed})`);
    const reasons = candidates.map((a) => matchConditions(want.conditions, a.conditions));
    if (!reasons.includes(undefined)) return fail(`${what} ancestor ${wantRef}: ${reasons[0]}`);
  }
  return PASS;
}

// --- latestConditions -----------------------------------------------------------

/** Every condition a status holds: its own, each route parent's, each policy ancestor's. */
export function allConditions(o: KubeObject): [Condition[], string][] {
  const status = statusOf(o);
  const out: [Condition[], string][] = [
    [conditionsOf(status.conditions), `${o.kind} ${name(o.metadata.namespace, o.metadata.name)}`],
  ];
  for (const p of asList(status.parents))
    out.push([conditionsOf(p.conditions), `parent ${describeRef(asRecord(p.parentRef))}`]);
  for (const a of asList(status.ancestors))
    out.push([conditionsOf(a.conditions), `ancestor ${describeRef(asRecord(a.ancestorRef))}`]);
  return out;
}

export function judgeLatestConditions(check: LatestConditionsCheck, obj: KubeObject | undefined): Verdict {
  const t = check.target;
  if (!obj) return fail(`${t.kind} ${name(t.namespace, t.name)} not found`);
  return firstStale(allConditions(obj), obj.metadata.generation) ?? PASS;
}

// --- dispatch ------------------------------------------------------------------

export function judgeStatusCheck(check: StatusCheck, ctx: JudgeContext): Verdict {
  switch (check.kind) {
    case 'routeStatus': {
      const r = check.route;
      const route = ctx.lookup({ group: GATEWAY_GROUP, kind: r.kind, namespace: r.namespace, name: r.name });
      return judgeRouteStatus(check, route, ctx.controllerName);
    }
    case 'gatewayStatus': {
      const g = check.gateway;
      return judgeGatewayStatus(check, ctx.lookup({ group: GATEWAY_GROUP, kind: 'Gateway', ...g }));
    }
    case 'listenerSetStatus': {
      const l = check.listenerSet;
      return judgeListenerSetStatus(check, ctx.lookup({ group: GATEWAY_GROUP, kind: 'ListenerSet', ...l }));
    }
    case 'gatewayClassStatus':
      return judgeGatewayClassStatus(
        check,
        ctx.lookup({ group: GATEWAY_GROUP, kind: 'GatewayClass', name: check.gatewayClass.name }),
      );
    case 'policyStatus':
      return judgePolicyStatus(check, ctx.lookup({ ...check.policy }));
    case 'latestConditions':
      return judgeLatestConditions(check, ctx.lookup({ ...check.target }));
  }
}
