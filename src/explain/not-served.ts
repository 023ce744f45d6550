/**
 * "Why is my route not used?": HTTPRoutes and GRPCRoutes that name the
 * request's host (or name no host and have a parent problem) but have no
 * entry on the listener the request reaches, with the parent status the
 * translator wrote (Accepted False and its reason, typically).
 */
import type { KubeObject } from '../api/object.ts';
import {
  array,
  conditionText,
  findCondition,
  hostnameCovers,
  parentRefText,
  record,
  routeParents,
  spec,
  stringList,
  type ResourceIndex,
} from './resources.ts';
import type { ExplainRequest, NamespacedName, RouteNotServed } from './types.ts';

const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'];

/** `served`: `<kind>/<ns>/<name>` of routes with an entry on a chosen listener. */
export function routesNotServed(
  resources: ResourceIndex,
  req: ExplainRequest,
  served: ReadonlySet<string>,
  gateway: NamespacedName | undefined,
): RouteNotServed[] {
  const out: RouteNotServed[] = [];
  for (const kind of ROUTE_KINDS) {
    for (const route of resources.ofKind(kind)) {
      const ns = route.metadata.namespace ?? '';
      if (served.has(`${kind}/${ns}/${route.metadata.name}`)) continue;
      if (gateway !== undefined && !namesGateway(route, gateway)) continue;
      const hostnames = stringList(spec(route).hostnames);
      const parents = routeParents(route);
      const troubled =
        parents.length === 0 || parents.some((p) => findCondition(p.conditions, 'Accepted')?.status !== 'True');
      const namesHost = hostnames.some((h) => hostnameCovers(h, req.host));
      if (!namesHost && !(hostnames.length === 0 && troubled)) continue;
      out.push({
        route: { kind, namespace: ns, name: route.metadata.name },
        hostnames,
        summary: summary(route, parents),
        parents: parents.map((p) => ({ parentRef: parentRefText(p.parentRef, ns), conditions: p.conditions })),
      });
    }
  }
  return out;
}

function summary(route: KubeObject, parents: ReturnType<typeof routeParents>): string {
  const ns = route.metadata.namespace ?? '';
  if (parents.length === 0) {
    const refs = array(spec(route).parentRefs).map((r) => parentRefText(record(r) as { name: string }, ns));
    return `no status from Sluice: its parentRefs (${refs.join(', ') || 'none'}) name no Gateway Sluice manages`;
  }
  const failed = parents.filter((p) => findCondition(p.conditions, 'Accepted')?.status !== 'True');
  const attached = parents.filter((p) => !failed.includes(p)).map((p) => parentRefText(p.parentRef, ns));
  const why = failed.map((p) => {
    const c = findCondition(p.conditions, 'Accepted');
    return `${parentRefText(p.parentRef, ns)}: ${c ? conditionText(c) : 'no Accepted condition'}`;
  });
  if (attached.length === 0) return `not attached: ${why.join('; ')}`;
  const rest = why.length ? `; not attached to ${why.join('; ')}` : '';
  return `attached to ${attached.join(', ')}, not to the listener this request reaches${rest}`;
}

function namesGateway(route: KubeObject, gw: NamespacedName): boolean {
  const ns = route.metadata.namespace ?? '';
  return array(spec(route).parentRefs).some((x) => {
    const r = record(x);
    return r?.name === gw.name && (r.namespace ?? ns) === gw.namespace && (r.kind ?? 'Gateway') === 'Gateway';
  });
}
