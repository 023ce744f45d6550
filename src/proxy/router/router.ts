/**
 * The router of one bound socket: Host → listener (most specific listener
 * hostname) → virtual host (most specific route hostname) → first route
 * whose match accepts the request, in the IR's precedence order. There is
 * no fallback to a less specific listener or virtual host: that is what
 * keeps listeners isolated (GatewayHTTPListenerIsolation).
 */
import { NO_TELEMETRY, type GatewayTelemetry } from '../compile/gateway-telemetry.ts';
import { HostTable } from './host-table.ts';
import type { MatchInput, RouteMatcher } from './route-matcher.ts';

export interface RoutableEntry {
  readonly matcher: RouteMatcher;
}

export class VirtualHostRoutes<R extends RoutableEntry> {
  constructor(
    readonly hostname: string,
    readonly routes: readonly R[],
  ) {}
}

export class ListenerRoutes<R extends RoutableEntry> {
  readonly vhosts = new HostTable<VirtualHostRoutes<R>>();
  constructor(
    /** IR listener name. */
    readonly name: string,
    /** IR listener hostname (absent = any). */
    readonly hostname: string | undefined,
  ) {}
}

export class SocketRouter<R extends RoutableEntry> {
  readonly listeners = new HostTable<ListenerRoutes<R>>();
  /** Metrics series of requests on this socket that no route takes (-1 = not counted). */
  metricsSeries = -1;
  /** Cleartext sockets: metrics series of the connections accepted (-1 = not counted). */
  connSeries = -1;
  /** Access log and tracer of requests on this socket that no route takes (the socket's first Gateway). */
  telemetry: GatewayTelemetry = NO_TELEMETRY;

  /** The matching route, or null (→ 404). */
  route(req: MatchInput): R | null {
    const listener = this.listeners.lookup(req.host);
    if (listener === undefined) return null;
    const vhost = listener.vhosts.lookup(req.host);
    if (vhost === undefined) return null;
    const routes = vhost.routes;
    for (let i = 0; i < routes.length; i++) {
      if (routes[i].matcher.matches(req)) return routes[i];
    }
    return null;
  }
}
