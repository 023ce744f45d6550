/**
 * The dashboard's static half: what is configured (route rules and their
 * backend weights, from the IR) and what the control loop says about it
 * (status conditions of Gateways, listeners and routes; the last reload),
 * reshaped into the rows the page draws. The admin source hands both over
 * as `unknown`, so everything here reads defensively.
 */
import type { HTTPRouteIR, IR } from '../../ir/types.ts';

/** One backendRef of a route rule as configured. */
export interface ConfiguredBackend {
  name: string;
  weight: number;
  /** weight / sum of the rule's weights; null when they sum to 0. */
  weightShare: number | null;
  invalid: boolean;
}

/** An HTTPRoute or GRPCRoute rule: the unit metrics count by (route and rule labels). */
export interface ConfiguredRule {
  /** `<ns>/<name>#<rule>`, where rule is the rule's name or index (the metrics labels). */
  id: string;
  kind: string;
  route: string;
  rule: string;
  hostnames: string[];
  /** `<gateway ns>/<gateway name>/<listener>` of every listener serving the rule. */
  listeners: string[];
  backends: ConfiguredBackend[];
}

export function ruleId(route: string, rule: string): string {
  return `${route}#${rule}`;
}

/** Every HTTP/gRPC route rule in the IR, one entry however many matches and hostnames it has. */
export function configuredRules(ir: IR | undefined): ConfiguredRule[] {
  const rules = new Map<string, ConfiguredRule>();
  for (const gw of ir?.gateways ?? []) {
    for (const l of gw.listeners) {
      for (const vh of l.virtualHosts ?? []) {
        for (const r of vh.routes) add(rules, r, l.name);
      }
    }
  }
  return [...rules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function add(rules: Map<string, ConfiguredRule>, r: HTTPRouteIR, listener: string): void {
  const route = `${r.route.namespace}/${r.route.name}`;
  const rule = r.ruleName ?? String(r.ruleIndex);
  const id = ruleId(route, rule);
  let c = rules.get(id);
  if (c === undefined) {
    const sum = r.backends.reduce((s, b) => s + b.weight, 0);
    c = {
      id,
      kind: r.grpc ? 'GRPCRoute' : r.route.kind,
      route,
      rule,
      hostnames: [],
      listeners: [],
      backends: r.backends.map((b) => ({
        name: b.name,
        weight: b.weight,
        weightShare: sum > 0 ? b.weight / sum : null,
        invalid: b.invalid === true,
      })),
    };
    rules.set(id, c);
  }
  if (!c.hostnames.includes(r.hostname)) c.hostnames.push(r.hostname);
  if (!c.listeners.includes(listener)) c.listeners.push(listener);
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  /** Whether this condition is in its healthy state (True, or False for negative ones such as Conflicted). */
  ok: boolean;
}

/** A Gateway, one of its listeners, or a route's status towards one parent. */
export interface StatusRow {
  kind: string;
  /** `<ns>/<name>` (listeners: `<ns>/<gateway>/<listener>`). */
  name: string;
  /** Routes: the parentRef this status is about; listeners: their Gateway. */
  parent?: string;
  attachedRoutes?: number;
  conditions: ConditionView[];
}

/** Condition types whose healthy state is False. */
const NEGATIVE = new Set(['Conflicted', 'PartiallyInvalid', 'Degraded', 'OverlappingTLSConfig']);
const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function conditions(v: unknown): ConditionView[] {
  return arr(v).map((c) => {
    const o = obj(c);
    const type = str(o.type);
    const status = str(o.status);
    return {
      type,
      status,
      reason: str(o.reason),
      message: str(o.message),
      ok: NEGATIVE.has(type) ? status === 'False' : status === 'True',
    };
  });
}

function nsName(meta: Obj): string {
  const ns = str(meta.namespace);
  return ns ? `${ns}/${str(meta.name)}` : str(meta.name);
}

/** Status rows from `status().resources`: Gateways and their listeners, then routes per parent. */
export function statusRows(resources: unknown): StatusRow[] {
  const gateways: StatusRow[] = [];
  const routes: StatusRow[] = [];
  for (const r of arr(resources)) {
    const o = obj(r);
    const kind = str(o.kind);
    const name = nsName(obj(o.metadata));
    const status = obj(o.status);
    if (kind === 'Gateway') {
      gateways.push({ kind, name, conditions: conditions(status.conditions) });
      for (const l of arr(status.listeners)) {
        const lo = obj(l);
        gateways.push({
          kind: 'Listener',
          name: `${name}/${str(lo.name)}`,
          parent: name,
          ...(typeof lo.attachedRoutes === 'number' ? { attachedRoutes: lo.attachedRoutes } : {}),
          conditions: conditions(lo.conditions),
        });
      }
    } else if (ROUTE_KINDS.has(kind)) {
      const parents = arr(status.parents);
      if (parents.length === 0) routes.push({ kind, name, conditions: [] });
      for (const p of parents) {
        const po = obj(p);
        const ref = obj(po.parentRef);
        const refNs = str(ref.namespace) || str(obj(o.metadata).namespace);
        const section = str(ref.sectionName);
        routes.push({
          kind,
          name,
          parent: `${str(ref.kind) || 'Gateway'} ${refNs ? refNs + '/' : ''}${str(ref.name)}${section ? '/' + section : ''}`,
          conditions: conditions(po.conditions),
        });
      }
    }
  }
  return [...gateways, ...routes];
}

export interface ReloadView {
  count: number;
  errors: number;
  last?: { at: string; result: string; version: number; problems: string[]; error?: string };
}

export function reloadView(status: unknown): ReloadView {
  const r = obj(obj(status).reloads);
  const last = obj(r.last);
  const view: ReloadView = { count: Number(r.count) || 0, errors: Number(r.errors) || 0 };
  if (r.last !== undefined) {
    view.last = {
      at: str(last.at),
      result: str(last.result),
      version: Number(last.version) || 0,
      problems: arr(last.problems).map(str),
      ...(typeof last.error === 'string' ? { error: last.error } : {}),
    };
  }
  return view;
}
