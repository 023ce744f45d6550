/**
 * L4 load balancing: per connection (TCP, TLS) or per UDP session, a
 * weighted random pick across the route's backendRefs, then round-robin
 * across the picked backend's endpoints. No pools: every client connection
 * gets its own upstream connection.
 */
import type { ConnectionOptions } from 'node:tls';
import type { EndpointIR, L4RouteIR, TLSRouteIR, WeightedBackendIR } from '../../ir/types.ts';
import { backendTlsOptions } from '../upstream/backend-tls.ts';
import { NO_TELEMETRY, type GatewayTelemetry } from '../compile/gateway-telemetry.ts';
import type { DataPlaneMetrics } from '../../observability/metrics/data-plane-metrics.ts';

/** What an L4 route is compiled with besides its IR: its Gateway's telemetry and the metrics ids of its backends. */
export interface L4RouteEnv {
  readonly telemetry: GatewayTelemetry;
  readonly metrics: DataPlaneMetrics | null;
  /** `tcp` (TCP, TLS) or `udp`. */
  readonly transport: 'tcp' | 'udp';
  /** `<namespace>/<name>` of the Gateway. */
  readonly gateway: string;
  /** The listener's section name. */
  readonly listener: string;
}

const NO_ENV: L4RouteEnv = { telemetry: NO_TELEMETRY, metrics: null, transport: 'tcp', gateway: '', listener: '' };

export function endpointKey(e: EndpointIR): string {
  return `${e.kind}|${e.address}|${e.port}`;
}

export class L4Backend {
  private next = 0;
  /** TLS origination towards the backend (BackendTLSPolicy), ready for `tls.connect`. */
  readonly tls: ConnectionOptions | undefined;
  readonly proxyProtocol: 'V1' | 'V2' | undefined;
  /** L4 metrics series of this route × backend (-1 = not counted). */
  metricsSeries = -1;

  constructor(
    /** `Service/<ns>/<name>:<port>` or `Backend/<ns>/<name>`. */
    readonly name: string,
    readonly endpoints: readonly EndpointIR[],
    /** The backendRef is invalid: connections picked for it are refused (its weight still counts). */
    readonly invalid: boolean,
    ir: WeightedBackendIR,
    originateTls: boolean,
  ) {
    this.tls = ir.tls === undefined || !originateTls ? undefined : backendTlsOptions(ir.tls);
    this.proxyProtocol = ir.proxyProtocol?.version;
  }

  /** Next endpoint, or null when the backend has none. */
  pickEndpoint(): EndpointIR | null {
    const n = this.endpoints.length;
    if (n === 0) return null;
    const i = this.next % n;
    this.next = i + 1;
    return this.endpoints[i];
  }
}

export class L4Route {
  readonly backends: readonly L4Backend[];
  /** The Gateway's access log (sessions are logged when it takes them) and tracer. */
  readonly telemetry: GatewayTelemetry;
  readonly metrics: DataPlaneMetrics | null;
  /** Metrics series of sessions refused before a backend was picked (-1 = not counted). */
  readonly metricsSeries: number;
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(
    /** IR route name, for logs. */
    readonly name: string,
    refs: readonly WeightedBackendIR[],
    /** False for TLS passthrough: the bytes are the client's TLS already. */
    originateTls = true,
    env: L4RouteEnv = NO_ENV,
    /** `<namespace>/<name>` of the route object, the metrics label. */
    routeLabel = name,
  ) {
    this.backends = refs.map((b) => new L4Backend(b.name, b.endpoints, b.invalid === true, b, originateTls));
    this.telemetry = env.telemetry;
    this.metrics = env.metrics;
    const m = env.metrics;
    this.metricsSeries = m === null ? -1 : m.l4Series([env.transport, env.gateway, env.listener, routeLabel, '']);
    if (m !== null) {
      for (const b of this.backends)
        b.metricsSeries = m.l4Series([env.transport, env.gateway, env.listener, routeLabel, b.name]);
    }
    let sum = 0;
    for (const b of refs) this.cumulative.push((sum += Math.max(0, b.weight)));
    this.total = sum;
  }

  static of(r: L4RouteIR | TLSRouteIR, originateTls = true, env: L4RouteEnv = NO_ENV): L4Route {
    return new L4Route(r.name, r.backends, originateTls, env, `${r.route.namespace}/${r.route.name}`);
  }

  /** A backend in proportion to its weight; null when every weight is 0 or there is none. */
  pick(): L4Backend | null {
    if (this.total === 0) return null;
    const r = Math.random() * this.total;
    for (let i = 0; i < this.backends.length; i++) if (r < this.cumulative[i]) return this.backends[i];
    return this.backends[this.backends.length - 1];
  }

  /** Every endpoint this route can send to (UDP sessions towards others end on a swap). */
  endpointKeys(into: Set<string>): void {
    for (const b of this.backends) if (!b.invalid) for (const e of b.endpoints) into.add(endpointKey(e));
  }
}

/** What a connection goes to: a backend and one of its endpoints, or why it is refused. */
export type L4Target = { backend: L4Backend; endpoint: EndpointIR } | { refused: string };

export function pickTarget(route: L4Route): L4Target {
  const backend = route.pick();
  if (backend === null) return { refused: `route ${route.name} has no backend with weight` };
  if (backend.invalid) return { refused: `backend ${backend.name} of route ${route.name} is invalid` };
  const endpoint = backend.pickEndpoint();
  if (endpoint === null) return { refused: `backend ${backend.name} has no endpoints` };
  return { backend, endpoint };
}
