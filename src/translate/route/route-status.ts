/**
 * Route status: one RouteParentStatus per parentRef naming one of our
 * Gateways (or ListenerSets), with Accepted, ResolvedRefs and, when only
 * some rules are invalid, PartiallyInvalid (GEP-1364). Entries written by
 * other controllers are kept, and a condition keeps its lastTransitionTime
 * while its status does not change.
 */
import { carryTransitionTimes, setCondition, type Condition } from '../conditions.ts';
import type { TranslationContext } from '../context.ts';
import type { ResolvedParent } from './parents.ts';
import { allRulesInvalid, type AnyRoute, type TranslatedRoute } from './types.ts';

interface PreviousParent {
  controllerName: string;
  parentRef: { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string; port?: number };
  conditions: Condition[];
}

/**
 * A route that names none of our parents (any more): if an earlier status
 * holds entries of ours, they are removed, since the route left us.
 */
export function clearRouteStatus(ctx: TranslationContext, route: AnyRoute): void {
  const controllerName = ctx.options.controllerName;
  const previous = previousParents(route);
  if (!previous.some((p) => p.controllerName === controllerName)) return;
  const status = ctx.status.of(route.apiVersion, route.kind, route.metadata.namespace, route.metadata.name);
  status.parents = previous.filter((p) => p.controllerName !== controllerName);
}

export function writeRouteStatus(ctx: TranslationContext, t: TranslatedRoute, parents: ResolvedParent[]): void {
  const controllerName = ctx.options.controllerName;
  const route = t.route;
  const previous = previousParents(route);

  const generation = route.metadata.generation;
  const now = ctx.now;
  const routeNamespace = route.metadata.namespace ?? '';
  const rulesAllInvalid = allRulesInvalid(t);
  const firstInvalid = [...t.issues.invalidRules.entries()].sort((a, b) => a[0] - b[0])[0];

  const ours = parents.map((parent) => {
    const conditions: Condition[] = [];
    if (parent.failure) {
      setCondition(conditions, 'Accepted', 'False', parent.failure.reason, parent.failure.message, generation, now);
    } else if (rulesAllInvalid && firstInvalid) {
      setCondition(conditions, 'Accepted', 'False', firstInvalid[1].reason, firstInvalid[1].message, generation, now);
    } else {
      setCondition(conditions, 'Accepted', 'True', 'Accepted', 'Route is accepted', generation, now);
    }
    const unresolved = t.issues.resolvedRefs;
    if (unresolved.length > 0) {
      const message = unresolved.map((i) => i.message).join('; ');
      setCondition(conditions, 'ResolvedRefs', 'False', unresolved[0].reason, message, generation, now);
    } else {
      setCondition(conditions, 'ResolvedRefs', 'True', 'ResolvedRefs', 'All references resolved', generation, now);
    }
    if (!parent.failure && !rulesAllInvalid && firstInvalid) {
      const indexes = [...t.issues.invalidRules.keys()].sort((a, b) => a - b).join(', ');
      const message = `Invalid rule(s) ${indexes}: ${firstInvalid[1].message}`;
      setCondition(conditions, 'PartiallyInvalid', 'True', firstInvalid[1].reason, message, generation, now);
    }
    const before = previous.find(
      (p) => p.controllerName === controllerName && sameParentRef(p.parentRef, parent.statusRef, routeNamespace),
    );
    carryTransitionTimes(conditions, before?.conditions);
    return { parentRef: parent.statusRef, controllerName, conditions };
  });

  const others = previous.filter((p) => p.controllerName !== controllerName);
  const status = ctx.status.of(route.apiVersion, route.kind, route.metadata.namespace, route.metadata.name);
  status.parents = [...others, ...ours];
}

function previousParents(route: AnyRoute): PreviousParent[] {
  return ((route.status as { parents?: PreviousParent[] } | undefined)?.parents ?? []).filter(Boolean);
}

function sameParentRef(
  a: PreviousParent['parentRef'],
  b: ResolvedParent['statusRef'],
  routeNamespace: string,
): boolean {
  return (
    (a.group ?? 'gateway.networking.k8s.io') === b.group &&
    (a.kind ?? 'Gateway') === b.kind &&
    (a.namespace ?? routeNamespace) === b.namespace &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}
