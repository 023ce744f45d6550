/**
 * The route half of the translator: every HTTPRoute, GRPCRoute, TLSRoute,
 * TCPRoute and UDPRoute that names one of our Gateways (or ListenerSets).
 *
 *   parentRefs -> listeners (NoMatchingParent / NotAllowedByListeners /
 *                 NoMatchingListenerHostname)
 *   rules      -> IR entries (matches, filters, backends; 500s where the spec
 *                 wants them; ResolvedRefs and PartiallyInvalid decisions)
 *   HTTP/gRPC cross-serving on shared listeners
 *   attach     -> attachedRoutes, listener route tables, policy ancestors
 *   status     -> route parents, BackendTLSPolicy ancestors, Backends used
 *
 * Runs after gateway translation filled GatewayContext/ListenerContext and
 * before finalizeGateways reads attachedRoutes.
 */
import type { GatewayContext, TranslationContext } from '../context.ts';
import { BackendTLSPolicies } from '../backendtlspolicy/index.ts';
import { EnvoyBackends } from '../backend/envoy-backend-tls.ts';
import type { RouteKind } from '../backend/index.ts';
import { resolveCrossServing, type RouteParents } from './cross-serving.ts';
import { translateL4Route } from './l4-route.ts';
import { translateGRPCRoute, translateHTTPRoute } from './l7-route.ts';
import { ListenerTables } from './listener-tables.ts';
import { resolveParents } from './parents.ts';
import { clearRouteStatus, writeRouteStatus } from './route-status.ts';
import { allRulesInvalid, type AnyRoute, type RouteEnv, type TranslatedRoute } from './types.ts';

export function translateRoutes(ctx: TranslationContext, gateways: GatewayContext[]): void {
  const env: RouteEnv = { tlsPolicies: new BackendTLSPolicies(ctx), envoyBackends: new EnvoyBackends(ctx) };
  const routes: RouteParents[] = [];
  const { snapshot } = ctx;
  const add = (route: AnyRoute, kind: RouteKind, translate: () => TranslatedRoute): void => {
    const hostnames = route.spec && 'hostnames' in route.spec ? route.spec.hostnames : undefined;
    const namespace = route.metadata.namespace ?? '';
    const parents = resolveParents(ctx, gateways, namespace, kind, route.spec?.parentRefs, hostnames);
    // Routes that name none of our parents are not translated at all.
    if (parents.length === 0) clearRouteStatus(ctx, route);
    else routes.push({ translated: translate(), parents });
  };
  for (const r of snapshot.httpRoutes) add(r, 'HTTPRoute', () => translateHTTPRoute(ctx, env, r));
  for (const r of snapshot.grpcRoutes) add(r, 'GRPCRoute', () => translateGRPCRoute(ctx, env, r));
  for (const r of snapshot.tlsRoutes) add(r, 'TLSRoute', () => translateL4Route(ctx, env, r, 'TLSRoute'));
  for (const r of snapshot.tcpRoutes) add(r, 'TCPRoute', () => translateL4Route(ctx, env, r, 'TCPRoute'));
  for (const r of snapshot.udpRoutes) add(r, 'UDPRoute', () => translateL4Route(ctx, env, r, 'UDPRoute'));

  resolveCrossServing(routes);

  const tables = new ListenerTables(env.tlsPolicies);
  for (const { translated, parents } of routes) {
    // A route whose every rule is invalid is accepted by no parent.
    if (!allRulesInvalid(translated)) {
      for (const parent of parents) {
        if (parent.failure) continue;
        for (const attachment of parent.attachments) tables.attach(translated, parent.gateway, attachment);
      }
    }
    writeRouteStatus(ctx, translated, parents);
  }
  tables.write();
  env.tlsPolicies.writeStatus();
  env.envoyBackends.writeStatus();
}
