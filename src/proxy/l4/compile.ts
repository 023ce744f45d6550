/**
 * IR → the tables of the L4 sockets, once per configuration: one per
 * address × port × transport. A TCP or UDP socket serves one listener from
 * its first (oldest) route, as the translator orders them; a TLS socket may
 * serve several TLS listeners told apart by hostname (exact before
 * wildcard, then the catch-all), each with its TLSRoutes by SNI and, in
 * Terminate mode, its certificates and an optional TCPRoute for whatever no
 * TLSRoute claims.
 */
import type { IR, ListenerIR } from '../../ir/types.ts';
import { DEFAULT_BIND_ADDRESS } from '../compile/compile-config.ts';
import { HostTable } from '../router/host-table.ts';
import { L4Route, type L4RouteEnv } from './backends.ts';
import { NO_TELEMETRY, type GatewayTelemetry } from '../compile/gateway-telemetry.ts';
import type { DataPlaneMetrics } from '../../observability/metrics/data-plane-metrics.ts';
import { isL4Protocol } from './protocols.ts';
import { Termination } from './termination.ts';

export type Transport = 'tcp' | 'udp';

export interface TlsListenerTable {
  /** IR listener name. */
  readonly name: string;
  /** Set in Terminate mode; null = passthrough. */
  readonly termination: Termination | null;
  /** TLSRoutes by SNI: exact names, then wildcards, then `*`. */
  readonly routes: HostTable<L4Route>;
  /** Terminate mode: the listener's first TCPRoute, for connections no TLSRoute claims. */
  readonly tcpRoute: L4Route | null;
  /** Terminate mode: metrics id of the listener's handshake series (-1 = not counted). */
  readonly metricsSeries: number;
}

export type L4Table =
  | {
      readonly kind: 'tcp';
      readonly listener: string;
      readonly route: L4Route | null;
      readonly proxyProtocol: boolean;
      /** With `proxyProtocol`: connections without a PROXY header are served too. */
      readonly proxyProtocolOptional?: boolean;
    }
  | {
      readonly kind: 'tls';
      readonly listeners: HostTable<TlsListenerTable>;
      readonly proxyProtocol: boolean;
      readonly proxyProtocolOptional?: boolean;
    }
  | { readonly kind: 'udp'; readonly listener: string; readonly route: L4Route | null };

export interface L4Socket {
  /** `<transport>|<address>|<bound port>`. */
  readonly key: string;
  readonly transport: Transport;
  readonly address: string;
  readonly port: number;
  readonly boundPort: number;
  readonly listeners: string[];
  readonly table: L4Table;
}

export interface L4Config {
  readonly sockets: Map<string, L4Socket>;
  readonly errors: string[];
}

/** Same shape as the HTTP socket keys but with the transport first, so TCP/UDP/HTTP keys never collide. */
export function l4SocketKey(transport: Transport, address: string, boundPort: number): string {
  return `${transport}|${address}|${boundPort}`;
}

/**
 * `telemetry`: each Gateway's access log and tracer by `<namespace>/<name>`
 * (built with the HTTP tables); `metrics`: where session counters go.
 */
export function compileL4Config(
  ir: IR,
  portOffset: number,
  telemetry: ReadonlyMap<string, GatewayTelemetry> = new Map(),
  metrics: DataPlaneMetrics | null = null,
): L4Config {
  const sockets = new Map<string, L4Socket>();
  const errors: string[] = [];
  for (const gw of ir.gateways) {
    const addresses = gw.addresses.length > 0 ? gw.addresses : [DEFAULT_BIND_ADDRESS];
    const gateway = `${gw.namespace}/${gw.name}`;
    const gwTelemetry = telemetry.get(gateway) ?? NO_TELEMETRY;
    for (const l of gw.listeners) {
      if (!isL4Protocol(l.protocol)) continue;
      const transport: Transport = l.protocol === 'UDP' ? 'udp' : 'tcp';
      const env: L4RouteEnv = { telemetry: gwTelemetry, metrics, transport, gateway, listener: l.sectionName };
      const boundPort = l.port + portOffset;
      let tlsEntry: TlsListenerTable | null = null;
      if (l.protocol === 'TLS') {
        tlsEntry = compileTlsListener(l, errors, env);
        if (tlsEntry === null) continue;
      }
      for (const address of addresses) {
        const key = l4SocketKey(transport, address, boundPort);
        const existing = sockets.get(key);
        const where = `listener ${l.name}: ${address}:${boundPort}/${transport}`;
        if (existing === undefined) {
          const table = tlsEntry === null ? singleTable(l, env) : tlsTable(l, tlsEntry);
          sockets.set(key, { key, transport, address, port: l.port, boundPort, listeners: [l.name], table });
          continue;
        }
        const t = existing.table;
        if (t.kind !== 'tls' || tlsEntry === null) {
          errors.push(`${where} is already served by listener ${existing.listeners[0]}; ignored`);
          continue;
        }
        if (!t.listeners.add(l.hostname, tlsEntry)) {
          errors.push(`${where} already serves hostname ${l.hostname ?? '*'} for another listener; ignored`);
          continue;
        }
        existing.listeners.push(l.name);
        // One PROXY header decision per socket: it comes before the SNI that would tell the listeners apart.
        // Required as soon as one listener requires it; optional only when every listener enabling it says so.
        if (l.enableProxyProtocol === true) {
          const optional = l.proxyProtocolOptional === true && (!t.proxyProtocol || t.proxyProtocolOptional === true);
          sockets.set(key, { ...existing, table: { ...t, proxyProtocol: true, proxyProtocolOptional: optional } });
        }
      }
    }
  }
  return { sockets, errors };
}

function singleTable(l: ListenerIR, env: L4RouteEnv): L4Table {
  const routes = l.protocol === 'UDP' ? l.udpRoutes : l.tcpRoutes;
  const route = routes !== undefined && routes.length > 0 ? L4Route.of(routes[0], true, env) : null;
  if (l.protocol === 'UDP') return { kind: 'udp', listener: l.name, route };
  return {
    kind: 'tcp',
    listener: l.name,
    route,
    proxyProtocol: l.enableProxyProtocol === true,
    proxyProtocolOptional: l.proxyProtocolOptional === true,
  };
}

function tlsTable(l: ListenerIR, entry: TlsListenerTable): L4Table {
  const listeners = new HostTable<TlsListenerTable>();
  listeners.add(l.hostname, entry);
  return {
    kind: 'tls',
    listeners,
    proxyProtocol: l.enableProxyProtocol === true,
    proxyProtocolOptional: l.proxyProtocolOptional === true,
  };
}

function compileTlsListener(l: ListenerIR, errors: string[], env: L4RouteEnv): TlsListenerTable | null {
  let termination: Termination | null = null;
  if (l.tls?.mode === 'Terminate') {
    const problems: string[] = [];
    try {
      termination = new Termination(l.tls, problems);
    } catch (err) {
      errors.push(`listener ${l.name}: ${(err as Error).message}; not served`);
      return null;
    }
    for (const p of problems) errors.push(`listener ${l.name}: ${p}`);
  }
  const routes = new HostTable<L4Route>();
  for (const r of l.tlsRoutes ?? []) {
    const compiled = L4Route.of(r, termination !== null, env);
    // The IR lists routes oldest first: for a hostname claimed twice the older route keeps it.
    for (const h of r.hostnames.length > 0 ? r.hostnames : ['*']) routes.add(h, compiled);
  }
  const tcp = termination !== null ? l.tcpRoutes : undefined;
  const tcpRoute = tcp !== undefined && tcp.length > 0 ? L4Route.of(tcp[0], true, env) : null;
  const metricsSeries =
    termination !== null && env.metrics !== null ? env.metrics.connSeries([env.gateway, env.listener, 'tls']) : -1;
  return { name: l.name, termination, routes, tcpRoute, metricsSeries };
}
