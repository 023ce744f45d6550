/**
 * Route entries of the chosen listener: the winner is the data plane
 * router's answer; every other entry is judged by its compiled matcher
 * (match or not), and the reasons are named by asking the same RouteMatcher
 * class one criterion at a time (a path-only matcher, a method-only one, one
 * per header and query parameter) so that explain cannot disagree with the
 * router on what a path prefix, a regex or a header value means.
 */
import type { HTTPRouteIR, ListenerIR, PathMatchIR, VirtualHostIR } from '../ir/types.ts';
import { getHeader } from '../proxy/http/headers.ts';
import { RouteMatcher, type MatchInput } from '../proxy/router/route-matcher.ts';
import type { ListenerRoutes, VirtualHostRoutes } from '../proxy/router/router.ts';
import type { CompiledRoute } from './dataplane.ts';
import { precedenceOf, precedenceReason } from './precedence.ts';
import { hostnameCovers, type ResourceIndex } from './resources.ts';
import type { MatchSummary, Mismatch, RouteEntryVerdict } from './types.ts';

const ANY_PATH: PathMatchIR = { type: 'PathPrefix', value: '/' };

export interface EntriesInput {
  listener: ListenerIR;
  compiled: ListenerRoutes<CompiledRoute>;
  /** The virtual host the router picked (undefined: none for this host). */
  vhost: VirtualHostRoutes<CompiledRoute> | undefined;
  winner: CompiledRoute | null;
  input: MatchInput;
  resources: ResourceIndex;
  /** The data plane's compile errors (why an entry is absent from its table). */
  errors: readonly string[];
}

export function entryVerdicts(x: EntriesInput): RouteEntryVerdict[] {
  const compiledHosts = x.compiled.vhosts.values();
  const winnerIR = x.winner === null ? undefined : findEntry(x.listener, x.winner.name);
  const out: RouteEntryVerdict[] = [];
  for (const vh of x.listener.virtualHosts ?? []) {
    const compiled = compiledHosts.find((c) => c.hostname === vh.hostname);
    const picked = compiled !== undefined && compiled === x.vhost;
    for (const r of vh.routes) {
      const c = compiled?.routes.find((e) => e.name === r.name);
      if (c === undefined) {
        out.push(notServed(r, x.errors, x.listener.name));
      } else if (!picked) {
        out.push(otherHost(r, vh, x));
      } else if (c === x.winner) {
        out.push(base(r, 'selected'));
      } else if (c.matcher.matches(x.input)) {
        const reason =
          winnerIR === undefined
            ? 'a route entry before it matched'
            : `lower precedence than ${entryLabel(winnerIR)}: ${precedenceReason(precedenceOf(winnerIR, x.resources), precedenceOf(r, x.resources))}`;
        out.push({ ...base(r, 'lower-precedence'), reason });
      } else {
        const m = mismatches(r, x.input, x.listener.name);
        // Never expected: the whole matcher said no, yet no single criterion did.
        const reason = m.length === 0 ? { reason: "the router's matcher does not accept the request" } : {};
        out.push({ ...base(r, 'no-match'), mismatches: m, ...reason });
      }
    }
  }
  return out;
}

export function findEntry(l: ListenerIR, name: string): HTTPRouteIR | undefined {
  for (const vh of l.virtualHosts ?? []) {
    const r = vh.routes.find((e) => e.name === name);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** `HTTPRoute default/store rule 1 match 0`: how people find the entry in their YAML. */
export function entryLabel(r: {
  route: HTTPRouteIR['route'];
  ruleIndex: number;
  ruleName?: string;
  matchIndex: number;
}): string {
  const rule = r.ruleName !== undefined ? `rule ${r.ruleIndex} (${r.ruleName})` : `rule ${r.ruleIndex}`;
  return `${r.route.kind} ${r.route.namespace}/${r.route.name} ${rule} match ${r.matchIndex}`;
}

export function matchSummary(r: HTTPRouteIR): MatchSummary {
  return {
    path: { ...r.path },
    ...(r.method !== undefined ? { method: r.method } : {}),
    headers: r.headers.map((h) => ({ ...h })),
    queryParams: r.queryParams.map((q) => ({ ...q })),
  };
}

function base(r: HTTPRouteIR, verdict: RouteEntryVerdict['verdict']): RouteEntryVerdict {
  return {
    entry: r.name,
    route: { ...r.route },
    ruleIndex: r.ruleIndex,
    ...(r.ruleName !== undefined ? { ruleName: r.ruleName } : {}),
    matchIndex: r.matchIndex,
    hostname: r.hostname,
    match: matchSummary(r),
    verdict,
    mismatches: [],
  };
}

function notServed(r: HTTPRouteIR, errors: readonly string[], listener: string): RouteEntryVerdict {
  const why = errors.filter((e) => e.startsWith(`listener ${listener}: route ${r.name}`));
  return { ...base(r, 'not-served'), reason: why.length ? why.join('; ') : 'absent from the data plane table' };
}

function otherHost(r: HTTPRouteIR, vh: VirtualHostIR, x: EntriesInput): RouteEntryVerdict {
  const host = x.input.host;
  const reason = !hostnameCovers(vh.hostname, host)
    ? `hostname ${vh.hostname} does not match ${host}`
    : x.vhost === undefined
      ? `hostname ${vh.hostname} matches ${host}, but the listener's virtual host table has no entry for it`
      : `hostname ${vh.hostname} also matches ${host}, but virtual host ${x.vhost.hostname} is more specific (no fallback between virtual hosts)`;
  return {
    ...base(r, 'other-host'),
    mismatches: [{ on: 'hostname', want: vh.hostname, got: host }],
    reason,
  };
}

/** Every criterion the request fails, each asked of a RouteMatcher holding only that criterion. */
export function mismatches(r: HTTPRouteIR, input: MatchInput, where: string): Mismatch[] {
  const probe = (
    path: PathMatchIR,
    headers: HTTPRouteIR['headers'],
    query: HTTPRouteIR['queryParams'],
    method: string | undefined,
  ): boolean => new RouteMatcher(path, headers, query, method, where).matches(input);
  const out: Mismatch[] = [];
  if (!probe(r.path, [], [], undefined))
    out.push({ on: 'path', want: `${r.path.type} ${r.path.value}`, got: input.path });
  if (r.method !== undefined && !probe(ANY_PATH, [], [], r.method)) {
    out.push({ on: 'method', want: r.method, got: input.method });
  }
  // Of several matches on one name only the first counts (spec; RouteMatcher skips the rest the same way).
  const seenHeaders = new Set<string>();
  for (const h of r.headers) {
    const lower = h.name.toLowerCase();
    if (seenHeaders.has(lower)) continue;
    seenHeaders.add(lower);
    if (!probe(ANY_PATH, [h], [], undefined)) {
      out.push({ on: 'header', name: h.name, want: want(h), got: getHeader(input.rawHeaders, lower) ?? null });
    }
  }
  const seenQuery = new Set<string>();
  for (const q of r.queryParams) {
    if (seenQuery.has(q.name)) continue;
    seenQuery.add(q.name);
    if (!probe(ANY_PATH, [], [q], undefined)) {
      out.push({ on: 'query', name: q.name, want: want(q), got: input.queryParam(q.name) ?? null });
    }
  }
  return out;
}

function want(m: { type: string; value: string }): string {
  return `${m.type} ${JSON.stringify(m.value)}`;
}
