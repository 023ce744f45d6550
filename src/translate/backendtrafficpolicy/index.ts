/**
 * BackendTrafficPolicy (gateway.envoyproxy.io): how the gateway talks to
 * backends, attached to Gateways, listeners, routes and route rules.
 *
 * Levels are settled from the most specific down, each oldest policy first:
 * route rules (a route target with sectionName = rule name), routes,
 * listeners (a Gateway target with sectionName), Gateways. On one target the
 * oldest policy wins and the others are Conflicted. For each route entry of
 * the IR the most specific winner applies as a whole (a route-level policy
 * replaces the Gateway's, it does not merge field by field: `mergeType` is
 * not supported yet); a less specific policy that loses somewhere reports
 * Overridden. A route policy reports on the route's parent Gateways (with
 * the parentRef's sectionName) and ListenerSets.
 *
 * Sluice honours `proxyProtocol` so far: every backend the winner covers
 * gets BackendIR.proxyProtocol; and `telemetry.tracing`, onto each HTTP and
 * GRPC route entry it covers (HTTPRouteIR.tracing, ./tracing.ts). Other
 * fields are accepted and not applied.
 */
import type { BackendTrafficPolicy } from '../../api/generated/index.ts';
import { GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { bracketList, byAge, Claims, gatewayAncestor } from '../policy/attachment.ts';
import { PolicyStatuses, type AncestorRef, type PolicyStatus } from '../policy/status.ts';
import { isRouteKind, type Targetables } from '../policy/targetables.ts';
import { resolveTargets, type PolicyTarget } from '../policy/targets.ts';
import { applyWinners, type Level, type Winner, type Winners } from './effective.ts';

const KIND = 'BackendTrafficPolicy';

/** L4 routes merge their rules' backends into one set, so a rule cannot be told apart in the IR. */
const NO_RULE_SECTIONS = new Set(['TLSRoute', 'TCPRoute', 'UDPRoute']);

export function translateBackendTrafficPolicies(ctx: TranslationContext, targetables: Targetables): void {
  const statuses = new PolicyStatuses(ctx);
  const candidates = [...targetables.gatewayCandidates(), ...targetables.routeCandidates()];
  const resolved = byAge(ctx.snapshot.backendTrafficPolicies).map((policy) => {
    statuses.of(policy);
    return { policy, targets: resolveTargets(ctx, policy, candidates) };
  });
  const winners: Winners = {
    rule: new Claims<Winner>(),
    route: new Claims<Winner>(),
    listener: new Claims<Winner>(),
    gateway: new Claims<Winner>(),
  };
  for (const level of ['rule', 'route', 'listener', 'gateway'] as const) {
    for (const { policy, targets } of resolved) {
      for (const t of targets) {
        if (levelOf(t) !== level) continue;
        attach(targetables, statuses.of(policy), policy, t, level, winners[level]);
      }
    }
  }

  const overrides = applyWinners(targetables.gateways, winners);
  for (const level of ['rule', 'route', 'listener', 'gateway'] as const) {
    for (const [, w] of winners[level].entries()) {
      const status = statuses.of(w.policy);
      status.accept(w.ancestors);
      const message = overriddenMessage(overrides.get(w));
      if (message) for (const a of w.ancestors) status.set(a, 'Overridden', 'True', 'Overridden', message);
    }
  }
  statuses.write();
}

function levelOf(t: PolicyTarget): Level | undefined {
  if (t.group !== GATEWAY_GROUP) return undefined;
  if (t.kind === 'Gateway') return t.sectionName !== undefined ? 'listener' : 'gateway';
  if (isRouteKind(t.kind)) return t.sectionName !== undefined ? 'rule' : 'route';
  return t.kind === 'ListenerSet' ? 'gateway' : undefined;
}

function attach(
  targetables: Targetables,
  status: PolicyStatus,
  policy: BackendTrafficPolicy,
  t: PolicyTarget,
  level: Level,
  claims: Claims<Winner>,
): void {
  const { kind, namespace, name, sectionName } = t;
  const object = `${kind} ${namespace}/${name}`;
  const self: AncestorRef = { group: t.group, kind, namespace, name };
  if (sectionName !== undefined) self.sectionName = sectionName;
  let ancestors: AncestorRef[];
  let key: string;
  if (kind === 'Gateway') {
    ancestors = [gatewayAncestor(namespace, name, sectionName)];
    const gateway = targetables.gateway(namespace, name);
    if (!gateway) {
      // A Gateway of another controller is not ours to report on.
      if (!targetables.gatewayExists(namespace, name))
        status.reject(ancestors, 'TargetNotFound', `${object} not found`);
      return;
    }
    if (sectionName !== undefined && !gateway.gateway.spec.listeners.some((l) => l.name === sectionName)) {
      status.reject(ancestors, 'TargetNotFound', `No section name ${sectionName} found for ${object}`);
      return;
    }
    key = `${namespace}/${name}${sectionName !== undefined ? `#${sectionName}` : ''}`;
  } else if (isRouteKind(kind)) {
    const route = targetables.route(kind, namespace, name);
    if (!route) {
      status.reject([self], 'TargetNotFound', `${object} not found`);
      return;
    }
    ancestors = targetables.routeAncestors(route);
    // A route of another controller's Gateways is not ours to report on.
    if (ancestors.length === 0) return;
    if (sectionName !== undefined) {
      if (NO_RULE_SECTIONS.has(kind)) {
        const message = `sectionName ${sectionName} is not supported for ${object} yet; omit it to target the whole route`;
        status.reject(ancestors, 'Invalid', message);
        return;
      }
      const rules = (route.spec?.rules ?? []) as Array<{ name?: string }>;
      if (!rules.some((r) => r.name === sectionName)) {
        status.reject(ancestors, 'TargetNotFound', `No section name ${sectionName} found for ${object}`);
        return;
      }
    }
    key = `${kind}/${namespace}/${name}${sectionName !== undefined ? `#${sectionName}` : ''}`;
  } else {
    if (kind === 'ListenerSet') {
      if (targetables.listenerSet(namespace, name)) {
        status.reject([self], 'Invalid', `${KIND} on a ListenerSet is not supported yet; target its Gateway`);
      } else if (!targetables.listenerSetExists(namespace, name)) {
        status.reject([self], 'TargetNotFound', `${object} not found`);
      }
    }
    return;
  }
  const owner = claims.claim(key, { policy, level, ancestors });
  if (owner) {
    const by = `${owner.policy.metadata.namespace ?? ''}/${owner.policy.metadata.name}`;
    status.reject(
      ancestors,
      'Conflicted',
      `Unable to target ${describe(t, level)}, another ${KIND} (${by}) has already attached to it`,
    );
  }
}

function describe(t: PolicyTarget, level: Level): string {
  switch (level) {
    case 'rule':
      return `rule ${t.sectionName} of ${t.kind} ${t.namespace}/${t.name}`;
    case 'listener':
      return `listener ${t.sectionName} of Gateway ${t.namespace}/${t.name}`;
    default:
      return `${t.kind} ${t.namespace}/${t.name}`;
  }
}

function overriddenMessage(o: { listeners: Set<string>; routes: Set<string>; rules: Set<string> } | undefined): string {
  if (!o) return '';
  const parts: string[] = [];
  if (o.listeners.size > 0) parts.push(`listeners ${bracketList(o.listeners)}`);
  if (o.routes.size > 0) parts.push(`routes ${bracketList(o.routes)}`);
  if (o.rules.size > 0) parts.push(`route rules ${bracketList(o.rules)}`);
  return parts.length > 0
    ? `This policy is being overridden by other backendTrafficPolicies for ${parts.join(' and ')}`
    : '';
}
