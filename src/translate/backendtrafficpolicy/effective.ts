/**
 * The winning BackendTrafficPolicy of every route entry in the IR, most
 * specific first: its rule (by rule name), its route, its listener (a
 * Gateway's own listener; ListenerSet listeners only see Gateway-level
 * policies), its Gateway. The winner's settings go on the entry's backends;
 * every less specific winner it displaces is told, for Overridden.
 */
import type { BackendTrafficPolicy } from '../../api/generated/index.ts';
import type { HTTPRouteIR, ObjectRef, WeightedBackendIR } from '../../ir/types.ts';
import type { GatewayContext } from '../context.ts';
import type { Claims } from '../policy/attachment.ts';
import type { AncestorRef } from '../policy/status.ts';
import { routeTracing } from './tracing.ts';

export type Level = 'rule' | 'route' | 'listener' | 'gateway';

/** A policy holding one target. */
export interface Winner {
  policy: BackendTrafficPolicy;
  level: Level;
  ancestors: AncestorRef[];
}

export type Winners = Record<Level, Claims<Winner>>;

/** What displaced a winner somewhere: listener names, `Kind/ns/name` routes, rule names. */
export interface Displaced {
  listeners: Set<string>;
  routes: Set<string>;
  rules: Set<string>;
}

interface Entry {
  route: ObjectRef;
  ruleName?: string;
  backends: WeightedBackendIR[];
  /** HTTP and GRPC route entries (the ones `telemetry.tracing` applies to). */
  http?: HTTPRouteIR;
}

export function applyWinners(gateways: GatewayContext[], winners: Winners): Map<Winner, Displaced> {
  const displaced = new Map<Winner, Displaced>();
  const note = (w: Winner | undefined, what: keyof Displaced, item: string): void => {
    if (!w) return;
    let d = displaced.get(w);
    if (!d) displaced.set(w, (d = { listeners: new Set(), routes: new Set(), rules: new Set() }));
    d[what].add(item);
  };
  for (const [key] of winners.listener.entries()) {
    note(winners.gateway.get(key.slice(0, key.indexOf('#'))), 'listeners', key.slice(key.indexOf('#') + 1));
  }
  for (const [key] of winners.rule.entries()) {
    note(winners.route.get(key.slice(0, key.indexOf('#'))), 'rules', key.slice(key.indexOf('#') + 1));
  }

  for (const g of gateways) {
    const gw = `${g.gateway.metadata.namespace ?? ''}/${g.gateway.metadata.name}`;
    const gatewayWinner = winners.gateway.get(gw);
    for (const l of g.listeners) {
      if (!l.ir) continue;
      const listenerWinner = l.listenerSet ? undefined : winners.listener.get(`${gw}#${l.name}`);
      for (const e of entries(l.ir)) {
        const route = `${e.route.kind}/${e.route.namespace}/${e.route.name}`;
        const ruleWinner = e.ruleName !== undefined ? winners.rule.get(`${route}#${e.ruleName}`) : undefined;
        const routeWinner = winners.route.get(route);
        const winner = ruleWinner ?? routeWinner ?? listenerWinner ?? gatewayWinner;
        if (!winner) continue;
        if (winner.level === 'rule' || winner.level === 'route') {
          const label = `${e.route.kind}/${e.route.namespace}/${e.route.name}`;
          note(listenerWinner, 'routes', label);
          note(gatewayWinner, 'routes', label);
        }
        const tracing = winner.policy.spec.telemetry?.tracing;
        if (tracing && e.http) e.http.tracing = routeTracing(tracing);
        const pp = winner.policy.spec.proxyProtocol;
        if (!pp) continue;
        for (const b of e.backends) if (!b.invalid) b.proxyProtocol = { version: pp.version };
      }
    }
  }
  return displaced;
}

function* entries(ir: NonNullable<GatewayContext['listeners'][number]['ir']>): Generator<Entry> {
  for (const vh of ir.virtualHosts ?? []) {
    for (const r of vh.routes) {
      yield {
        route: r.route,
        backends: r.backends,
        http: r,
        ...(r.ruleName !== undefined ? { ruleName: r.ruleName } : {}),
      };
    }
  }
  for (const list of [ir.tlsRoutes, ir.tcpRoutes, ir.udpRoutes]) {
    for (const r of list ?? []) yield { route: r.route, backends: r.backends };
  }
}
