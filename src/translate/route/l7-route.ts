/**
 * HTTPRoute and GRPCRoute rules to HTTP route entries (one per rule ×
 * match; the hostname is added when the route is placed on a listener).
 *
 * Per rule: matches (invalid = the rule is dropped, as Envoy Gateway does),
 * traffic settings, filters, then backends. The rule answers 500 when a
 * filter is invalid or unresolved, or when no backend can take a request
 * (no backendRefs, all invalid, all weight 0) and no filter answers instead
 * (redirect, direct response); the spec requires exactly that.
 */
import type { GRPCRoute, HTTPRoute } from '../../api/generated/index.ts';
import type { DirectResponseIR, FilterIR, WeightedBackendIR } from '../../ir/types.ts';
import type { RouteKind } from '../backend/index.ts';
import type { TranslationContext } from '../context.ts';
import {
  noUsableBackend,
  weightedBackends,
  type BackendFilters,
  type RouteScope,
  type WeightedRef,
} from './backends.ts';
import { translateFilters, type FilterSpec } from './filters.ts';
import { grpcMatches, httpMatches, type MatchResult } from './matches.ts';
import { ruleTraffic, type RuleTraffic } from './rule-traffic.ts';
import { RouteIssues, type HTTPEntryTemplate, type RouteEnv, type TranslatedRoute } from './types.ts';

const INTERNAL_ERROR: DirectResponseIR = { statusCode: 500 };

interface L7Rule {
  name?: string;
  filters?: FilterSpec[];
  backendRefs?: Array<WeightedRef & { filters?: FilterSpec[] }>;
  timeouts?: { request?: string; backendRequest?: string };
  retry?: { attempts?: number; backoff?: string; codes?: number[] };
  sessionPersistence?: NonNullable<NonNullable<HTTPRoute['spec']['rules']>[number]['sessionPersistence']>;
}

export function translateHTTPRoute(ctx: TranslationContext, env: RouteEnv, route: HTTPRoute): TranslatedRoute {
  // The CRD default for a route without rules: one rule matching everything (and, having no backend, answering 500).
  const rules = route.spec?.rules ?? [{}];
  return translateL7(ctx, env, route, 'HTTPRoute', rules, (i, field) => httpMatches(rules[i].matches, field));
}

export function translateGRPCRoute(ctx: TranslationContext, env: RouteEnv, route: GRPCRoute): TranslatedRoute {
  const rules = route.spec?.rules ?? [];
  return translateL7(ctx, env, route, 'GRPCRoute', rules, (i, field) => grpcMatches(rules[i].matches, field));
}

function translateL7(
  ctx: TranslationContext,
  env: RouteEnv,
  route: HTTPRoute | GRPCRoute,
  kind: Extract<RouteKind, 'HTTPRoute' | 'GRPCRoute'>,
  rules: L7Rule[],
  matchesOf: (ruleIndex: number, field: string) => MatchResult,
): TranslatedRoute {
  const namespace = route.metadata.namespace ?? '';
  const name = route.metadata.name;
  const identity = { namespace, name, creationTimestamp: route.metadata.creationTimestamp };
  const issues = new RouteIssues();
  const scope: RouteScope = { ctx, env, referrer: { kind, namespace, name }, issues, tlsPolicies: new Set() };
  const templates: HTTPEntryTemplate[] = [];
  const prefix = `${kind.toLowerCase()}/${namespace}/${name}`;

  for (const [i, rule] of rules.entries()) {
    const field = `spec.rules[${i}]`;
    const matches = matchesOf(i, field);
    if (!matches.ok) {
      issues.invalidRule(i, 'UnsupportedValue', matches.message);
      continue;
    }
    const traffic: RuleTraffic | string = ruleTraffic(rule, field);
    if (typeof traffic === 'string') {
      issues.invalidRule(i, 'UnsupportedValue', traffic);
      continue;
    }
    const action = ruleAction(scope, rule, field, kind, i);
    for (const [j, m] of matches.matches.entries()) {
      templates.push({
        namePrefix: `${prefix}/rule/${i}/match/${j}`,
        precedence: { match: m.precedence, route: identity, ruleIndex: i, matchIndex: j },
        ir: {
          route: { kind, namespace, name },
          ruleIndex: i,
          ...(rule.name ? { ruleName: rule.name } : {}),
          matchIndex: j,
          path: m.path,
          headers: m.headers,
          queryParams: m.queryParams,
          ...(m.method !== undefined ? { method: m.method } : {}),
          ...(kind === 'GRPCRoute' ? { grpc: true } : {}),
          filters: action.filters,
          backends: action.backends,
          ...(action.directResponse ? { directResponse: action.directResponse } : {}),
          ...traffic,
        },
      });
    }
  }

  return {
    route,
    kind,
    identity,
    ruleCount: rules.length,
    issues,
    http: templates,
    tlsPolicies: scope.tlsPolicies,
  };
}

interface RuleAction {
  filters: FilterIR[];
  backends: WeightedBackendIR[];
  directResponse?: DirectResponseIR;
}

/** What a matching request gets: filters, then backends or a local answer. Status decisions are made here. */
function ruleAction(
  scope: RouteScope,
  rule: L7Rule,
  field: string,
  kind: Extract<RouteKind, 'HTTPRoute' | 'GRPCRoute'>,
  ruleIndex: number,
): RuleAction {
  const built = translateFilters(scope, rule.filters, `${field}.filters`, kind);
  // Backends are resolved even when the rule will not use them, so that
  // every bad reference shows in ResolvedRefs.
  const backends = weightedBackends(scope, rule.backendRefs, field, perBackendFilters(scope, kind));
  if (built.invalid) {
    scope.issues.invalidRule(ruleIndex, built.invalid.reason, built.invalid.message);
    return { filters: [], backends: [], directResponse: INTERNAL_ERROR };
  }
  if (built.unresolved) {
    scope.issues.unresolved(built.unresolved.reason, built.unresolved.message);
    return { filters: [], backends: [], directResponse: INTERNAL_ERROR };
  }
  if (built.terminal) return { filters: built.filters, backends: [] };
  if (noUsableBackend(backends)) return { filters: built.filters, backends: [], directResponse: INTERNAL_ERROR };
  return { filters: built.filters, backends };
}

/** Filters under a backendRef; a failure there makes only that backend invalid (its share answers 500). */
function perBackendFilters(
  scope: RouteScope,
  kind: Extract<RouteKind, 'HTTPRoute' | 'GRPCRoute'>,
): BackendFilters<WeightedRef & { filters?: FilterSpec[] }> {
  return (ref, at) => {
    if (!ref.filters?.length) return { filters: [] };
    const built = translateFilters(scope, ref.filters, `${at}.filters`, kind);
    if (built.invalid)
      return { filters: [], issue: { reason: 'InvalidBackendFilters', message: built.invalid.message } };
    if (built.unresolved) return { filters: [], issue: built.unresolved };
    return { filters: built.filters };
  };
}
