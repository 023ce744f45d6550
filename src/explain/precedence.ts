/**
 * Why one route entry comes before another in a virtual host. The order
 * itself is the translator's (src/translate/precedence.ts, already applied
 * to the IR, and the router takes the first match); this names the first
 * criterion of that order on which the two entries differ.
 */
import type { HTTPRouteIR } from '../ir/types.ts';
import {
  compareMatchPrecedence,
  type GRPCMatchPrecedence,
  type HTTPMatchPrecedence,
  type MatchPrecedence,
} from '../translate/precedence.ts';
import { array, record, spec, type ResourceIndex } from './resources.ts';

export function precedenceOf(r: HTTPRouteIR, resources: ResourceIndex): MatchPrecedence {
  const obj = resources.get(r.route.kind, r.route.namespace, r.route.name);
  const creationTimestamp = obj?.metadata.creationTimestamp;
  return {
    match: r.grpc === true ? grpcPrecedence(r, spec(obj)) : httpPrecedence(r),
    route: {
      namespace: r.route.namespace,
      name: r.route.name,
      ...(creationTimestamp !== undefined ? { creationTimestamp } : {}),
    },
    ruleIndex: r.ruleIndex,
    matchIndex: r.matchIndex,
  };
}

function httpPrecedence(r: HTTPRouteIR): HTTPMatchPrecedence {
  return {
    kind: 'HTTPRoute',
    pathType: r.path.type,
    pathLength: r.path.value.length,
    method: r.method !== undefined,
    headers: r.headers.length,
    queryParams: r.queryParams.length,
  };
}

/** GRPCRoute precedence counts the method match as written, which the IR has turned into a path. */
function grpcPrecedence(r: HTTPRouteIR, routeSpec: Record<string, unknown>): GRPCMatchPrecedence {
  const rule = record(array(routeSpec.rules)[r.ruleIndex]);
  const method = record(record(array(rule?.matches)[r.matchIndex])?.method);
  return {
    kind: 'GRPCRoute',
    serviceChars: typeof method?.service === 'string' ? method.service.length : 0,
    methodChars: typeof method?.method === 'string' ? method.method.length : 0,
    regex: method?.type === 'RegularExpression',
    headers: r.headers.length,
  };
}

/** Why `w` (the winner) is tried before `l`. */
export function precedenceReason(w: MatchPrecedence, l: MatchPrecedence): string {
  if (compareMatchPrecedence(w, l) >= 0) return 'it comes first in the listener table';
  return matchReason(w.match, l.match) ?? routeReason(w, l);
}

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

function matchReason(w: MatchPrecedence['match'], l: MatchPrecedence['match']): string | undefined {
  if (w.kind === 'HTTPRoute' && l.kind === 'HTTPRoute') {
    if (PATH_RANK[w.pathType] < PATH_RANK[l.pathType]) return `${w.pathType} path match ranks above ${l.pathType}`;
    if (w.pathLength !== l.pathLength) return `longer path value (${w.pathLength} vs ${l.pathLength} characters)`;
    if (w.method !== l.method) return 'it has a method match';
    if (w.headers !== l.headers) return `more header matches (${w.headers} vs ${l.headers})`;
    if (w.queryParams !== l.queryParams) return `more query param matches (${w.queryParams} vs ${l.queryParams})`;
  }
  if (w.kind === 'GRPCRoute' && l.kind === 'GRPCRoute') {
    if (w.serviceChars !== l.serviceChars) return `longer service match (${w.serviceChars} vs ${l.serviceChars})`;
    if (w.methodChars !== l.methodChars) return `longer method match (${w.methodChars} vs ${l.methodChars})`;
    if (w.regex !== l.regex) return 'an exact method match ranks above a regular expression';
    if (w.headers !== l.headers) return `more header matches (${w.headers} vs ${l.headers})`;
  }
  return undefined;
}

function routeReason(w: MatchPrecedence, l: MatchPrecedence): string {
  const wt = w.route.creationTimestamp ?? '';
  const lt = l.route.creationTimestamp ?? '';
  const same = w.route.namespace === l.route.namespace && w.route.name === l.route.name;
  if (!same && time(wt) !== time(lt)) {
    return `older route (created ${wt || 'without a timestamp, counted as the epoch'} vs ${lt || 'no timestamp'})`;
  }
  if (!same) {
    return `equal matches and age: route ${w.route.namespace}/${w.route.name} sorts before ${l.route.namespace}/${l.route.name}`;
  }
  if (w.ruleIndex !== l.ruleIndex)
    return `equal matches: earlier rule of the same route (rule ${w.ruleIndex} vs ${l.ruleIndex})`;
  return `equal matches: earlier match of the same rule (match ${w.matchIndex} vs ${l.matchIndex})`;
}

function time(t: string): number {
  const n = t === '' ? 0 : Date.parse(t);
  return Number.isNaN(n) ? 0 : n;
}
