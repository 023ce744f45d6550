/**
 * The data plane's routing, borrowed read-only: the IR is compiled by the
 * data plane's own compiler (same sockets, listener and virtual host
 * tables, RouteMatchers, filter chains) and requests go through its own
 * router. Explain never decides a match by itself; it only asks these
 * tables, and the matcher class, the questions that name the reasons.
 *
 * compileConfig also builds upstream pools (and TLS contexts); the pools are
 * never dispatched on and are closed right away. A routing-only compile in
 * src/proxy, without upstreams, would spare that work.
 */
import { DataPlaneMetrics } from '../observability/metrics/data-plane-metrics.ts';
import type { IR } from '../ir/types.ts';
import { createLogger } from '../observability/logger.ts';
import { compileConfig, type CompiledConfig, type CompiledSocket } from '../proxy/compile/compile-config.ts';
import type { CompiledRoute } from '../proxy/compile/compiled-route.ts';
import { parseQuery } from '../proxy/http/request-context.ts';
import type { ProxyRuntime } from '../proxy/http/runtime.ts';
import { DEFAULT_TUNING } from '../proxy/http/tuning.ts';
import type { MatchInput } from '../proxy/router/route-matcher.ts';
import type { ListenerRoutes, VirtualHostRoutes } from '../proxy/router/router.ts';
import { SecureContextCache } from '../proxy/tls/secure-contexts.ts';
import { normalizeServername } from '../proxy/tls/sni-contexts.ts';
import { TicketKeys } from '../proxy/tls/ticket-keys.ts';
import { UpstreamRegistry } from '../proxy/upstream/registry.ts';
import type { ExplainRequest } from './types.ts';

export type { CompiledConfig, CompiledSocket } from '../proxy/compile/compile-config.ts';
export type { CompiledRoute } from '../proxy/compile/compiled-route.ts';

const SILENT = createLogger('silent');

export function compileForExplain(ir: IR, portOffset: number): CompiledConfig {
  const runtime: ProxyRuntime = {
    tuning: DEFAULT_TUNING,
    log: SILENT,
    upstreams: new UpstreamRegistry(DEFAULT_TUNING),
    mirrorsInFlight: 0,
    metrics: new DataPlaneMetrics(false),
  };
  // HTTPS listeners are built as served: a certificate the data plane refuses makes its listener absent here too.
  const tls = new SecureContextCache(new TicketKeys(undefined, DEFAULT_TUNING.tlsTicketKeyRotationMs));
  const config = compileConfig(ir, portOffset, runtime, tls);
  runtime.upstreams.release(new Set(), 0).catch(() => undefined);
  return config;
}

/** The request as the router reads it (what RequestContext provides in the data plane). */
export function matchInput(req: ExplainRequest): MatchInput {
  const params = parseQuery(req.query);
  return {
    host: req.host,
    path: req.path,
    method: req.method,
    rawHeaders: flatHeaders(req),
    queryParam: (name) => params.get(name),
  };
}

export interface SocketDecision {
  /** The listener the socket's Host table picks (undefined: none takes this host). */
  listener?: ListenerRoutes<CompiledRoute>;
  /** HTTPS: the listener the SNI picks during the handshake. */
  sniListener?: ListenerRoutes<CompiledRoute>;
  vhost?: VirtualHostRoutes<CompiledRoute>;
  /** The router's answer: the first route entry whose matcher accepts the request. */
  route: CompiledRoute | null;
}

export function decide(socket: CompiledSocket, req: ExplainRequest, input: MatchInput): SocketDecision {
  const listener = socket.table.listeners.lookup(req.host);
  // The handshake picks by SNI from the same table (tls/misdirected.ts compares the two picks).
  const sniListener =
    socket.tls !== null && req.sni !== undefined
      ? socket.table.listeners.lookup(normalizeServername(req.sni))
      : undefined;
  const vhost = listener?.vhosts.lookup(req.host);
  return { listener, sniListener, vhost, route: socket.table.route(input) };
}

/** `[name, value, ...]`, the data plane's header shape. */
export function flatHeaders(req: ExplainRequest): string[] {
  return req.headers.flatMap((h) => [h.name, h.value]);
}
