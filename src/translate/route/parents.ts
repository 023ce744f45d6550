/**
 * parentRef resolution: which of our Gateways (or attached ListenerSets) a
 * route names, which of their listeners it attaches to, and, when it
 * attaches to none, why (the Accepted=False reason), in the order Envoy
 * Gateway and the spec check it:
 *   1. sectionName / port select listeners         -> NoMatchingParent
 *   2. they accept routes of this kind and namespace -> NotAllowedByListeners
 *   3. listener and route hostnames intersect      -> NoMatchingListenerHostname
 * A parentRef to a Gateway that is not ours gets no status entry at all.
 *
 * A Gateway parentRef selects the Gateway's own listeners only; the
 * listeners a ListenerSet adds are reached through a ListenerSet parentRef
 * (GEP-1713: route status stays scoped to the parent it names).
 */
import type { Gateway } from '../../api/generated/index.ts';
import type { RouteKind } from '../backend/index.ts';
import { GATEWAY_GROUP, type GatewayContext, type ListenerContext, type TranslationContext } from '../context.ts';
import { ANY_HOST, intersectHostnames } from '../hostname.ts';
import type { ParentRefSpec } from './types.ts';

export interface ParentFailure {
  reason: string;
  message: string;
}

export interface ListenerAttachment {
  listener: ListenerContext;
  /** Intersected hostnames (HTTP/GRPC/TLS); `*` for TCP/UDP. */
  hostnames: string[];
}

export interface ResolvedParent {
  /** The parentRef as status echoes it: group, kind and namespace defaulted. */
  statusRef: Required<Pick<ParentRefSpec, 'group' | 'kind' | 'namespace' | 'name'>> &
    Pick<ParentRefSpec, 'port' | 'sectionName'>;
  gateway: GatewayContext;
  failure?: ParentFailure;
  attachments: ListenerAttachment[];
}

/** Route kinds whose hostnames take part in listener matching. */
const USES_HOSTNAMES = new Set<RouteKind>(['HTTPRoute', 'GRPCRoute', 'TLSRoute']);

export function resolveParents(
  ctx: TranslationContext,
  gateways: GatewayContext[],
  routeNamespace: string,
  kind: RouteKind,
  parentRefs: ParentRefSpec[] | undefined,
  routeHostnames: string[] | undefined,
): ResolvedParent[] {
  const out: ResolvedParent[] = [];
  for (const ref of parentRefs ?? []) {
    const group = ref.group ?? GATEWAY_GROUP;
    const refKind = ref.kind ?? 'Gateway';
    const namespace = ref.namespace ?? routeNamespace;
    if (group !== GATEWAY_GROUP) continue;
    const statusRef: ResolvedParent['statusRef'] = {
      group,
      kind: refKind,
      namespace,
      name: ref.name,
      ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}),
      ...(ref.port !== undefined ? { port: ref.port } : {}),
    };
    const parent = findParent(ctx, gateways, refKind, namespace, ref.name);
    if (!parent) continue;
    const resolved: ResolvedParent = { statusRef, gateway: parent.gateway, attachments: [] };
    out.push(resolved);
    if (parent.notAttached) {
      resolved.failure = { reason: 'NotAllowedByListeners', message: parent.notAttached };
      continue;
    }
    const selected = parent.listeners.filter(
      (l) =>
        (ref.sectionName === undefined || ref.sectionName === l.name) &&
        (ref.port === undefined || ref.port === l.port),
    );
    if (selected.length === 0) {
      resolved.failure = { reason: 'NoMatchingParent', message: noMatchMessage(refKind, namespace, ref) };
      continue;
    }
    const allowed = selected.filter(
      (l) => parent.gateway.accepted && l.acceptsRoutes && supportsKind(l, kind) && l.allowsNamespace(routeNamespace),
    );
    if (allowed.length === 0) {
      resolved.failure = {
        reason: 'NotAllowedByListeners',
        message: parent.gateway.accepted
          ? `No listener selected by this parentRef allows ${kind}s from namespace ${routeNamespace}`
          : `Gateway ${namespace}/${parent.gateway.gateway.metadata.name} is not accepted`,
      };
      continue;
    }
    for (const listener of allowed) {
      const hostnames = USES_HOSTNAMES.has(kind) ? intersectHostnames(listener.hostname, routeHostnames) : [ANY_HOST];
      if (hostnames.length > 0) resolved.attachments.push({ listener, hostnames });
    }
    if (resolved.attachments.length === 0) {
      resolved.failure = {
        reason: 'NoMatchingListenerHostname',
        message: `No hostname of the ${kind} intersects the hostname of a listener selected by this parentRef`,
      };
    }
  }
  return out;
}

interface FoundParent {
  gateway: GatewayContext;
  listeners: ListenerContext[];
  /** Set when the parent is ours but cannot take routes (a ListenerSet the Gateway did not accept). */
  notAttached?: string;
}

function findParent(
  ctx: TranslationContext,
  gateways: GatewayContext[],
  kind: string,
  namespace: string,
  name: string,
): FoundParent | undefined {
  if (kind === 'Gateway') {
    const gateway = gateways.find((g) => isNamed(g.gateway, namespace, name));
    if (!gateway) return undefined;
    return { gateway, listeners: gateway.listeners.filter((l) => !l.listenerSet) };
  }
  if (kind === 'ListenerSet') {
    for (const gateway of gateways) {
      if (!gateway.listenerSets.some((ls) => isNamed(ls, namespace, name))) continue;
      return {
        gateway,
        listeners: gateway.listeners.filter((l) => l.listenerSet && isNamed(l.listenerSet, namespace, name)),
      };
    }
    // Not attached: still ours when its parent Gateway is, so the route hears why.
    const ls = ctx.snapshot.listenerSets.find((l) => isNamed(l, namespace, name));
    if (!ls) return undefined;
    const p = ls.spec?.parentRef;
    if (!p || (p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (p.kind ?? 'Gateway') !== 'Gateway') return undefined;
    const gateway = gateways.find((g) => isNamed(g.gateway, p.namespace ?? namespace, p.name));
    if (!gateway) return undefined;
    return {
      gateway,
      listeners: [],
      notAttached: `ListenerSet ${namespace}/${name} is not accepted by Gateway ${gateway.gateway.metadata.namespace ?? ''}/${gateway.gateway.metadata.name}`,
    };
  }
  return undefined;
}

function supportsKind(listener: ListenerContext, kind: RouteKind): boolean {
  return listener.supportedKinds.some((k) => (k.group || GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === kind);
}

function isNamed(
  o: { metadata: { namespace?: string; name: string } } | Gateway,
  namespace: string,
  name: string,
): boolean {
  return o.metadata.name === name && (o.metadata.namespace ?? '') === namespace;
}

function noMatchMessage(kind: string, namespace: string, ref: ParentRefSpec): string {
  const parts = [
    ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : undefined,
    ref.port !== undefined ? `port ${ref.port}` : undefined,
  ].filter((p) => p !== undefined);
  const what = parts.length > 0 ? `no listener with ${parts.join(' and ')}` : 'no listeners';
  return `${kind} ${namespace}/${ref.name} has ${what}`;
}
