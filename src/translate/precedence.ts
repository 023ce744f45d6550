/**
 * Route precedence, as the Gateway API orders matches across all routes of a
 * listener and hostname (HTTPRouteRule.matches, GRPCRouteRule.matches).
 *
 * HTTPRoute, continuing on ties:
 *   1. path match type: Exact, then RegularExpression, then PathPrefix. The
 *      spec leaves regex precedence to the implementation; like Envoy Gateway
 *      we put a regex above every prefix so that a catch-all `/` never hides
 *      a regex route;
 *   2. more characters in the path value (the longest prefix wins);
 *   3. a method match;
 *   4. more header matches;
 *   5. more query param matches.
 * GRPCRoute, continuing on ties:
 *   1. more characters in the matched service, 2. more in the method
 *   (exact before regular expression for the same length), 3. more header
 *   matches.
 * Then, for both: the oldest route (creationTimestamp), the route first in
 * `{namespace}/{name}` order, the rule order, the match order.
 *
 * Hostname specificity is not here: every virtual host holds one intersected
 * hostname, and the data plane picks the most specific host first.
 */

export interface RouteIdentity {
  namespace: string;
  name: string;
  creationTimestamp?: string;
}

export interface HTTPMatchPrecedence {
  kind: 'HTTPRoute';
  pathType: 'Exact' | 'PathPrefix' | 'RegularExpression';
  pathLength: number;
  method: boolean;
  headers: number;
  queryParams: number;
}

export interface GRPCMatchPrecedence {
  kind: 'GRPCRoute';
  serviceChars: number;
  methodChars: number;
  /** The method match is a regular expression (ranks after exact at equal length). */
  regex: boolean;
  headers: number;
}

export interface MatchPrecedence {
  match: HTTPMatchPrecedence | GRPCMatchPrecedence;
  route: RouteIdentity;
  ruleIndex: number;
  matchIndex: number;
}

const PATH_RANK: Record<HTTPMatchPrecedence['pathType'], number> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

/** Negative when `a` must be tried before `b`. */
export function compareMatchPrecedence(a: MatchPrecedence, b: MatchPrecedence): number {
  const byMatch = compareMatches(a.match, b.match);
  if (byMatch !== 0) return byMatch;
  const byRoute = compareRouteAge(a.route, b.route);
  if (byRoute !== 0) return byRoute;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

function compareMatches(a: MatchPrecedence['match'], b: MatchPrecedence['match']): number {
  // Cross-serving keeps HTTPRoutes and GRPCRoutes off a shared hostname, so
  // mixed kinds only meet here through that rule's loser; order them by route.
  if (a.kind !== b.kind) return 0;
  if (a.kind === 'HTTPRoute' && b.kind === 'HTTPRoute') {
    if (a.pathType !== b.pathType) return PATH_RANK[a.pathType] - PATH_RANK[b.pathType];
    if (a.pathLength !== b.pathLength) return b.pathLength - a.pathLength;
    if (a.method !== b.method) return a.method ? -1 : 1;
    if (a.headers !== b.headers) return b.headers - a.headers;
    return b.queryParams - a.queryParams;
  }
  if (a.kind === 'GRPCRoute' && b.kind === 'GRPCRoute') {
    if (a.serviceChars !== b.serviceChars) return b.serviceChars - a.serviceChars;
    if (a.methodChars !== b.methodChars) return b.methodChars - a.methodChars;
    if (a.regex !== b.regex) return a.regex ? 1 : -1;
    return b.headers - a.headers;
  }
  return 0;
}

/**
 * The tie-breaker between routes: the oldest first, then `{namespace}/{name}`
 * alphabetically. A route without creationTimestamp (a file-provider
 * resource) counts as created at the epoch.
 */
export function compareRouteAge(a: RouteIdentity, b: RouteIdentity): number {
  const ta = creationTime(a);
  const tb = creationTime(b);
  if (ta !== tb) return ta - tb;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function creationTime(r: RouteIdentity): number {
  if (!r.creationTimestamp) return 0;
  const t = Date.parse(r.creationTimestamp);
  return Number.isNaN(t) ? 0 : t;
}
