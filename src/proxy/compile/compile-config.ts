/**
 * IR → what requests walk, once per configuration: one router per bound
 * socket (listener address × port), each listener's virtual hosts and route
 * entries with their matchers, filter chains and backends. Listeners of one
 * Gateway on one port share a socket; Gateways on the same port are kept
 * apart by their addresses.
 */
import type { BackendIR, GatewayIR, HTTPRouteIR, IR, ListenerIR, WeightedBackendIR } from '../../ir/types.ts';
import type { AccessLogger } from '../../observability/access-log.ts';
import { buildAccessLogger } from '../../observability/access-log/gateway-access-log.ts';
import { EndpointStats } from '../../observability/metrics/endpoint-stats.ts';
import { compileFilters, type FilterCompileEnv } from '../filters/index.ts';
import { compileLocalResponse } from '../filters/direct-response.ts';
import { isL4Protocol } from '../l4/protocols.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { RouteMatcher } from '../router/route-matcher.ts';
import type { SecureContextCache } from '../tls/secure-contexts.ts';
import { SniContexts, buildTlsListener, type TlsListener } from '../tls/sni-contexts.ts';
import { mergeProxyProtocol, type ProxyProtocolMode } from '../listeners/client-address.ts';
import { ListenerRoutes, SocketRouter, VirtualHostRoutes } from '../router/router.ts';
import { BackendPicker, CompiledBackend } from '../upstream/backend.ts';
import type { CompiledRoute, SocketTable } from './compiled-route.ts';
import { NO_TELEMETRY, type GatewayTelemetry } from './gateway-telemetry.ts';
import { NO_ROUTE, type ClassLabels } from '../../observability/metrics/data-plane-metrics.ts';

/** Metrics labels of a route entry: gateway (ns/name), listener (section name), route (ns/name), rule (name or index). */
export type RouteLabels = readonly [string, string, string, string];

/** Bind address for a Gateway without addresses. */
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';

export interface CompiledSocket {
  /** `<address>|<bound port>`. */
  readonly key: string;
  readonly address: string;
  /** IR listener port. */
  readonly port: number;
  readonly boundPort: number;
  /** IR listener names served here. */
  readonly listeners: string[];
  readonly table: SocketTable;
  /** HTTPS sockets: certificates by SNI and client validation; null = cleartext. */
  readonly tls: SniContexts | null;
  /** PROXY protocol header before HTTP / TLS (some listener enables it); undefined = none read. */
  proxyProtocol?: ProxyProtocolMode;
}

export interface CompiledConfig {
  readonly sockets: Map<string, CompiledSocket>;
  /** One line per listener or route entry that cannot be served as asked. */
  readonly errors: string[];
  /** Upstream targets this configuration uses (the rest are released after the swap). */
  readonly upstreamKeys: Set<string>;
  /** Trace export pipelines this configuration uses (the rest are shut down after the swap). */
  readonly tracerKeys: Set<string>;
  /** Access-log sinks this configuration uses (the rest are closed after the swap). */
  readonly accessLogKeys: Set<string>;
  /** Each Gateway's telemetry by `<namespace>/<name>`, for its L4 listeners too (../l4/compile.ts). */
  readonly telemetry: Map<string, GatewayTelemetry>;
}

export function socketKey(address: string, boundPort: number): string {
  return `${address}|${boundPort}`;
}

/**
 * `tlsContexts` builds the certificates of HTTPS listeners; without it
 * (tests of the routing tables) HTTPS listeners are reported and skipped.
 */
export function compileConfig(
  ir: IR,
  portOffset: number,
  runtime: ProxyRuntime,
  tlsContexts?: SecureContextCache,
): CompiledConfig {
  const sockets = new Map<string, CompiledSocket>();
  const tlsListeners = new Map<string, TlsListener[]>();
  const errors: string[] = [];
  const upstreamKeys = new Set<string>();
  const backends = new BackendCompiler(runtime, upstreamKeys);
  const tracerKeys = new Set<string>();
  const accessLogKeys = new Set<string>();
  const gatewayTelemetry = new Map<string, GatewayTelemetry>();
  /** Per socket: its first Gateway and the section names of its listeners (connection metrics). */
  const connLabels = new Map<string, { gateway: string; sections: string[] }>();

  for (const gw of ir.gateways) {
    const telemetry: GatewayTelemetry = {
      accessLog: gatewayAccessLog(gw, runtime, accessLogKeys, errors),
      tracer: runtime.tracers?.tracer(`${gw.namespace}/${gw.name}`, gw.telemetry?.tracing, tracerKeys) ?? null,
    };
    gatewayTelemetry.set(`${gw.namespace}/${gw.name}`, telemetry);
    backends.vhostStats = gw.telemetry?.metrics?.enableVirtualHostStats === true;
    backends.sizeStats = gw.telemetry?.metrics?.enableRequestResponseSizesStats === true;
    backends.endpointStats = gw.telemetry?.metrics?.enablePerEndpointStats
      ? new EndpointStats(runtime.metrics, `${gw.namespace}/${gw.name}`)
      : null;
    const addresses = gw.addresses.length > 0 ? gw.addresses : [DEFAULT_BIND_ADDRESS];
    for (const l of gw.listeners) {
      if (isL4Protocol(l.protocol)) continue; // TLS, TCP, UDP: served by ../l4/
      let tls: TlsListener | null = null;
      if (l.protocol === 'HTTPS') {
        if (tlsContexts === undefined) {
          errors.push(`listener ${l.name}: HTTPS is not available here`);
          continue;
        }
        const built = buildTlsListener(l, tlsContexts, errors);
        if ('error' in built) {
          errors.push(`listener ${l.name}: ${built.error}; not served`);
          continue;
        }
        tls = built;
        tls.metricsSeries = runtime.metrics.connSeries([`${gw.namespace}/${gw.name}`, l.sectionName, 'https']);
      } else if (l.protocol !== 'HTTP') {
        errors.push(`listener ${l.name}: protocol ${l.protocol} is not supported yet`);
        continue;
      }
      const compiled = compileListener(l, `${gw.namespace}/${gw.name}`, backends, errors, telemetry);
      const boundPort = l.port + portOffset;
      for (const address of addresses) {
        const key = socketKey(address, boundPort);
        let s = sockets.get(key);
        if (s === undefined) {
          s = { key, address, port: l.port, boundPort, listeners: [], table: new SocketRouter(), tls: null };
          // Requests no route takes (404, and those refused before routing) count under the socket's first Gateway.
          s.table.metricsSeries = runtime.metrics.series([`${gw.namespace}/${gw.name}`, '', NO_ROUTE, '', '']);
          s.table.telemetry = telemetry;
          sockets.set(key, s);
          connLabels.set(key, { gateway: `${gw.namespace}/${gw.name}`, sections: [] });
          if (tls !== null) tlsListeners.set(key, []);
        }
        if (tlsListeners.has(key) !== (tls !== null)) {
          errors.push(`listener ${l.name}: ${address}:${boundPort} already serves ${tls ? 'HTTP' : 'HTTPS'}; ignored`);
          continue;
        }
        if (!s.table.listeners.add(l.hostname, compiled)) {
          errors.push(
            `listener ${l.name}: ${address}:${boundPort} already serves hostname ${l.hostname ?? '*'} for another listener; ignored`,
          );
          continue;
        }
        s.listeners.push(l.name);
        connLabels.get(key)!.sections.push(l.sectionName);
        if (l.enableProxyProtocol === true) {
          s.proxyProtocol = mergeProxyProtocol(s.proxyProtocol, l.proxyProtocolOptional === true);
        }
        if (tls !== null) tlsListeners.get(key)!.push(tls);
      }
    }
  }
  // Connections on a cleartext socket count under its listener, or under listener "" when it serves several.
  for (const [key, c] of connLabels) {
    const s = sockets.get(key)!;
    if (tlsListeners.has(key)) continue;
    s.table.connSeries = runtime.metrics.connSeries([c.gateway, c.sections.length === 1 ? c.sections[0] : '', 'http']);
  }
  for (const [key, list] of tlsListeners) {
    const contexts = new SniContexts(list, tlsContexts!);
    errors.push(...contexts.conflicts);
    sockets.set(key, { ...sockets.get(key)!, tls: contexts });
  }
  tlsContexts?.sweep();
  return { sockets, errors, upstreamKeys, tracerKeys, accessLogKeys, telemetry: gatewayTelemetry };
}

/** The Gateway's access log: from its EnvoyProxy telemetry when the runtime keeps sinks, else the data plane's default. */
function gatewayAccessLog(
  gw: GatewayIR,
  runtime: ProxyRuntime,
  used: Set<string>,
  errors: string[],
): AccessLogger | null {
  const fallback = runtime.accessLog ?? null;
  if (runtime.accessLogSinks === undefined) return fallback;
  const where = `gateway ${gw.namespace}/${gw.name}`;
  return buildAccessLogger(gw.telemetry?.accessLog, fallback, runtime.accessLogSinks, used, where, errors);
}

function compileListener(
  l: ListenerIR,
  gateway: string,
  backends: BackendCompiler,
  errors: string[],
  telemetry: GatewayTelemetry,
): ListenerRoutes<CompiledRoute> {
  const out = new ListenerRoutes<CompiledRoute>(l.name, l.hostname);
  for (const vh of l.virtualHosts ?? []) {
    const routes: CompiledRoute[] = [];
    backends.vhostSeries = backends.vhostStats ? backends.classSeries(['vhost', gateway, vh.hostname, '']) : -1;
    for (const r of vh.routes) {
      const labels: RouteLabels = [
        gateway,
        l.sectionName,
        `${r.route.namespace}/${r.route.name}`,
        r.ruleName ?? String(r.ruleIndex),
      ];
      const c = compileRoute(r, backends, `listener ${l.name}: route ${r.name}`, errors, labels, telemetry);
      if (c !== null) routes.push(c);
    }
    if (!out.vhosts.add(vh.hostname, new VirtualHostRoutes(vh.hostname, routes))) {
      errors.push(`listener ${l.name}: duplicate virtual host ${vh.hostname}; ignored`);
    }
  }
  return out;
}

/** A route entry, or null when even its match cannot be built. A broken filter makes the entry answer 500. */
export function compileRoute(
  r: HTTPRouteIR,
  backends: BackendCompiler,
  where: string,
  errors: string[],
  labels: RouteLabels = ['', '', r.name, ''],
  telemetry: GatewayTelemetry = NO_TELEMETRY,
): CompiledRoute | null {
  let matcher: RouteMatcher;
  try {
    matcher = new RouteMatcher(r.path, r.headers, r.queryParams, r.method, where);
  } catch (err) {
    errors.push(`${(err as Error).message}; route entry ignored`);
    return null;
  }
  const base = {
    name: r.name,
    matcher,
    requestTimeoutMs: r.timeouts?.requestMs ?? 0,
    backendTimeoutMs: r.timeouts?.backendRequestMs ?? 0,
    grpc: r.grpc === true,
    metricsSeries: backends.series(labels, ''),
    endpointStats: backends.endpointStats,
    vhostSeries: backends.vhostSeries,
    sizeStats: backends.sizeStats,
    telemetry,
    tracing: telemetry.tracer === null ? null : telemetry.tracer.route(r.route, r.tracing),
    retry:
      r.retry === undefined
        ? null
        : { codes: new Set(r.retry.codes), retries: Math.max(0, r.retry.attempts), backoffMs: r.retry.backoffMs ?? 0 },
  };
  try {
    const env = backends.env(r, `${where}: filters`);
    const chain = compileFilters(r.filters, env);
    return {
      ...base,
      requestFilters: chain.request,
      responseFilters: chain.response,
      backends: backends.picker(r, r.backends, where, labels),
      directResponse: r.directResponse ? compileLocalResponse(r.directResponse) : null,
    };
  } catch (err) {
    errors.push(`${(err as Error).message}; the route entry answers 500`);
    return {
      ...base,
      retry: null,
      requestFilters: [],
      responseFilters: [],
      backends: new BackendPicker([], []),
      directResponse: { status: 500, headers: [], body: null },
    };
  }
}

/** Turns IR backends into load-balanced upstream targets from the shared registry. */
export class BackendCompiler {
  /** The Gateway being compiled counts requests per endpoint (EnvoyProxy enablePerEndpointStats). */
  endpointStats: EndpointStats | null = null;
  /** The Gateway being compiled counts requests per virtual host (EnvoyProxy enableVirtualHostStats). */
  vhostStats = false;
  /** The Gateway being compiled keeps request/response size histograms (EnvoyProxy enableRequestResponseSizesStats). */
  sizeStats = false;
  /** The class series of the virtual host being compiled (-1 = not counted). */
  vhostSeries = -1;

  /** A per-virtual-host (or per-endpoint) series id. */
  classSeries(labels: ClassLabels): number {
    return this.runtime.metrics.classSeries(labels);
  }

  constructor(
    private readonly runtime: ProxyRuntime,
    private readonly used: Set<string>,
  ) {}

  env(r: HTTPRouteIR, where: string): FilterCompileEnv {
    return { routePath: r.path, where, mirrorBackend: (b) => this.backend(b, false, [], []) };
  }

  /** The metrics series of a route entry (and backend; '' = the route itself). */
  series(labels: RouteLabels, backend: string): number {
    return this.runtime.metrics.series([labels[0], labels[1], labels[2], labels[3], backend]);
  }

  picker(r: HTTPRouteIR, refs: readonly WeightedBackendIR[], where: string, labels?: RouteLabels): BackendPicker {
    const compiled = refs.map((b, i) => {
      const chain = compileFilters(b.filters, this.env(r, `${where}: backendRefs[${i}].filters`));
      const c = this.backend(b, b.invalid === true, chain.request, chain.response);
      if (labels !== undefined) c.metricsSeries = this.series(labels, b.name);
      return c;
    });
    return new BackendPicker(
      compiled,
      refs.map((b) => b.weight),
    );
  }

  private backend(
    b: BackendIR,
    invalid: boolean,
    requestFilters: CompiledBackend['requestFilters'],
    responseFilters: CompiledBackend['responseFilters'],
  ): CompiledBackend {
    const upstreams = this.runtime.upstreams;
    const tlsKey = upstreams.tlsKey(b);
    const targets = invalid ? [] : b.endpoints.map((e) => upstreams.acquire(b, e, tlsKey, this.used));
    const c = new CompiledBackend(b.name, targets, invalid, requestFilters, responseFilters);
    c.metricsBackend = this.runtime.metrics.backend(b.name);
    for (const t of targets) t.countFor(c.metricsBackend);
    return c;
  }
}
