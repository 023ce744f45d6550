/**
 * TLSRoute, TCPRoute and UDPRoute: no matches and no filters, only weighted
 * backends. The backends of all rules form one weighted set (the spec gives
 * several rules of an L4 route no other meaning). An invalid backendRef keeps
 * its weight: connections picked for it are refused, as the spec asks.
 */
import type { TCPRoute, TLSRoute, UDPRoute } from '../../api/generated/index.ts';
import type { WeightedBackendIR } from '../../ir/types.ts';
import type { RouteKind } from '../backend/index.ts';
import type { TranslationContext } from '../context.ts';
import { weightedBackends, type RouteScope } from './backends.ts';
import { RouteIssues, type RouteEnv, type TranslatedRoute } from './types.ts';

export function translateL4Route(
  ctx: TranslationContext,
  env: RouteEnv,
  route: TLSRoute | TCPRoute | UDPRoute,
  kind: Extract<RouteKind, 'TLSRoute' | 'TCPRoute' | 'UDPRoute'>,
): TranslatedRoute {
  const namespace = route.metadata.namespace ?? '';
  const name = route.metadata.name;
  const issues = new RouteIssues();
  const scope: RouteScope = { ctx, env, referrer: { kind, namespace, name }, issues, tlsPolicies: new Set() };
  const backends: WeightedBackendIR[] = [];
  const rules = route.spec?.rules ?? [];
  for (const [i, rule] of rules.entries()) {
    backends.push(...weightedBackends(scope, rule.backendRefs, `spec.rules[${i}]`));
  }
  return {
    route,
    kind,
    identity: { namespace, name, creationTimestamp: route.metadata.creationTimestamp },
    ruleCount: rules.length,
    issues,
    l4: backends,
    tlsPolicies: scope.tlsPolicies,
  };
}
