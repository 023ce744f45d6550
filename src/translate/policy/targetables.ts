/**
 * What policies can attach to in one translation: our Gateways (those of
 * our GatewayClasses) and the routes that name one of them, directly or
 * through a ListenerSet, with the ancestors a route-level policy reports
 * on. An object that exists but belongs to another controller is not ours
 * to report on; an object that does not exist at all is TargetNotFound.
 */
import type { ListenerSet } from '../../api/generated/index.ts';
import { GATEWAY_GROUP, type GatewayContext, type TranslationContext } from '../context.ts';
import type { AnyRoute } from '../route/types.ts';
import { gatewayAncestor } from './attachment.ts';
import { ancestorKey, type AncestorRef } from './status.ts';
import type { Candidate } from './targets.ts';

export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'] as const;
export type PolicyRouteKind = (typeof ROUTE_KINDS)[number];

export function isRouteKind(kind: string): kind is PolicyRouteKind {
  return (ROUTE_KINDS as readonly string[]).includes(kind);
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class Targetables {
  readonly #gateways = new Map<string, GatewayContext>();
  readonly #allGateways = new Set<string>();
  /** ListenerSets whose parentRef names one of our Gateways. */
  readonly #listenerSets = new Map<string, ListenerSet>();
  readonly #routes = new Map<string, AnyRoute>();

  constructor(
    readonly ctx: TranslationContext,
    readonly gateways: GatewayContext[],
  ) {
    for (const g of gateways) this.#gateways.set(key(g.gateway.metadata.namespace ?? '', g.gateway.metadata.name), g);
    for (const g of ctx.snapshot.gateways) this.#allGateways.add(key(g.metadata.namespace ?? '', g.metadata.name));
    for (const ls of ctx.snapshot.listenerSets) {
      const p = ls.spec.parentRef;
      if ((p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (p.kind ?? 'Gateway') !== 'Gateway') continue;
      const ns = ls.metadata.namespace ?? '';
      if (this.#gateways.has(key(p.namespace || ns, p.name))) this.#listenerSets.set(key(ns, ls.metadata.name), ls);
    }
    const s = ctx.snapshot;
    const lists: Array<[PolicyRouteKind, AnyRoute[]]> = [
      ['HTTPRoute', s.httpRoutes],
      ['GRPCRoute', s.grpcRoutes],
      ['TLSRoute', s.tlsRoutes],
      ['TCPRoute', s.tcpRoutes],
      ['UDPRoute', s.udpRoutes],
    ];
    for (const [kind, routes] of lists) {
      for (const r of routes) this.#routes.set(`${kind}/${key(r.metadata.namespace ?? '', r.metadata.name)}`, r);
    }
  }

  /** One of our Gateways. */
  gateway(namespace: string, name: string): GatewayContext | undefined {
    return this.#gateways.get(key(namespace, name));
  }

  gatewayExists(namespace: string, name: string): boolean {
    return this.#allGateways.has(key(namespace, name));
  }

  /** A ListenerSet attached (or asking to be) to one of our Gateways. */
  listenerSet(namespace: string, name: string): ListenerSet | undefined {
    return this.#listenerSets.get(key(namespace, name));
  }

  listenerSetExists(namespace: string, name: string): boolean {
    return this.ctx.snapshot.listenerSets.some(
      (l) => l.metadata.name === name && (l.metadata.namespace ?? '') === namespace,
    );
  }

  route(kind: PolicyRouteKind, namespace: string, name: string): AnyRoute | undefined {
    return this.#routes.get(`${kind}/${key(namespace, name)}`);
  }

  /**
   * The ancestors a policy on `route` reports on: each parentRef that names
   * one of our Gateways (with its sectionName) or a ListenerSet of one. Empty
   * when the route is not ours.
   */
  routeAncestors(route: AnyRoute): AncestorRef[] {
    const routeNamespace = route.metadata.namespace ?? '';
    const out = new Map<string, AncestorRef>();
    for (const p of route.spec?.parentRefs ?? []) {
      if ((p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP) continue;
      const kind = p.kind ?? 'Gateway';
      const namespace = p.namespace ?? routeNamespace;
      let ref: AncestorRef | undefined;
      if (kind === 'Gateway' && this.gateway(namespace, p.name))
        ref = gatewayAncestor(namespace, p.name, p.sectionName);
      else if (kind === 'ListenerSet' && this.listenerSet(namespace, p.name)) {
        ref = { group: GATEWAY_GROUP, kind: 'ListenerSet', namespace, name: p.name };
        if (p.sectionName !== undefined) ref.sectionName = p.sectionName;
      }
      if (ref) out.set(ancestorKey(ref), ref);
    }
    return [...out.values()];
  }

  /** Our Gateway objects, for targetSelectors. */
  gatewayCandidates(): Candidate[] {
    return this.gateways.map((g) => g.gateway);
  }

  /** Routes of ours, for targetSelectors. */
  routeCandidates(): Candidate[] {
    return [...this.#routes.values()].filter((r) => this.routeAncestors(r).length > 0);
  }
}
