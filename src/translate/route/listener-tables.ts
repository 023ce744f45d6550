/**
 * Placing translated routes on listeners: attachedRoutes counting (once per
 * route per listener, whatever the number of parentRefs leading there),
 * BackendTLSPolicy ancestors, per-Gateway backend TLS details, and the
 * listener's route tables in the IR, ordered once here:
 * - virtual hosts: exact hostnames, then wildcards longest first, then `*`;
 *   routes within one by the spec's precedence (src/translate/precedence.ts);
 * - TLS / TCP / UDP routes: oldest route first (the data plane serves a TCP
 *   or UDP listener from its first route, and picks TLS routes by SNI with
 *   exact names before wildcards).
 */
import type {
  BackendIR,
  FilterIR,
  HTTPRouteIR,
  L4RouteIR,
  TLSRouteIR,
  VirtualHostIR,
  WeightedBackendIR,
} from '../../ir/types.ts';
import type { BackendTLSPolicies } from '../backendtlspolicy/index.ts';
import type { GatewayContext, ListenerContext } from '../context.ts';
import { compareHostnames } from '../hostname.ts';
import { compareMatchPrecedence, compareRouteAge, type MatchPrecedence, type RouteIdentity } from '../precedence.ts';
import type { ListenerAttachment } from './parents.ts';
import type { TranslatedRoute } from './types.ts';

interface HTTPItem {
  ir: HTTPRouteIR;
  precedence: MatchPrecedence;
}
interface L4Item<T> {
  ir: T;
  identity: RouteIdentity;
}

export class ListenerTables {
  readonly #attached = new Map<ListenerContext, Set<string>>();
  readonly #http = new Map<ListenerContext, HTTPItem[]>();
  readonly #tls = new Map<ListenerContext, Array<L4Item<TLSRouteIR>>>();
  readonly #tcp = new Map<ListenerContext, Array<L4Item<L4RouteIR>>>();
  readonly #udp = new Map<ListenerContext, Array<L4Item<L4RouteIR>>>();

  constructor(private readonly tlsPolicies: BackendTLSPolicies) {}

  /** Attaches `t` to one listener of `gateway` (a no-op when another parentRef already did). */
  attach(t: TranslatedRoute, gateway: GatewayContext, attachment: ListenerAttachment): void {
    const { listener, hostnames } = attachment;
    const key = `${t.kind}/${t.identity.namespace}/${t.identity.name}`;
    let seen = this.#attached.get(listener);
    if (!seen) this.#attached.set(listener, (seen = new Set()));
    if (seen.has(key)) return;
    seen.add(key);
    listener.attachedRoutes += 1;
    for (const policy of t.tlsPolicies) this.tlsPolicies.recordAncestor(policy, gateway.gateway);
    // A listener that is not programmed counts the route but serves nothing.
    if (!listener.ir) return;

    const routeRef = { kind: t.kind, namespace: t.identity.namespace, name: t.identity.name };
    const adjust = backendAdjuster(gateway, t.kind === 'TLSRoute' && isPassthrough(listener));
    switch (t.kind) {
      case 'HTTPRoute':
      case 'GRPCRoute':
        for (const hostname of hostnames) {
          for (const tpl of t.http ?? []) {
            const ir: HTTPRouteIR = { name: `${tpl.namePrefix}/${hostname}`, ...structuredClone(tpl.ir), hostname };
            adjustHTTPRoute(ir, adjust);
            push(this.#http, listener, { ir, precedence: tpl.precedence });
          }
        }
        return;
      case 'TLSRoute':
        push(this.#tls, listener, {
          identity: t.identity,
          ir: { name: l4Name(t), route: routeRef, hostnames: [...hostnames], backends: adjustAll(t.l4 ?? [], adjust) },
        });
        return;
      case 'TCPRoute':
      case 'UDPRoute':
        push(t.kind === 'TCPRoute' ? this.#tcp : this.#udp, listener, {
          identity: t.identity,
          ir: { name: l4Name(t), route: routeRef, backends: adjustAll(t.l4 ?? [], adjust) },
        });
        return;
    }
  }

  /** Writes the ordered route tables into each listener's IR. */
  write(): void {
    for (const [listener, items] of this.#http) {
      const hosts = new Map<string, HTTPItem[]>();
      for (const item of items) push(hosts, item.ir.hostname, item);
      const virtualHosts: VirtualHostIR[] = [...hosts.keys()].sort(compareHostnames).map((hostname) => ({
        hostname,
        routes: hosts
          .get(hostname)!
          .sort((a, b) => compareMatchPrecedence(a.precedence, b.precedence))
          .map((i) => i.ir),
      }));
      listener.ir!.virtualHosts = virtualHosts;
    }
    for (const [listener, items] of this.#tls) listener.ir!.tlsRoutes = byAge(items);
    for (const [listener, items] of this.#tcp) listener.ir!.tcpRoutes = byAge(items);
    for (const [listener, items] of this.#udp) listener.ir!.udpRoutes = byAge(items);
  }
}

function l4Name(t: TranslatedRoute): string {
  return `${t.kind.toLowerCase()}/${t.identity.namespace}/${t.identity.name}`;
}

function isPassthrough(listener: ListenerContext): boolean {
  return (listener.ir?.tls?.mode ?? listener.tlsMode) === 'Passthrough';
}

function byAge<T>(items: Array<L4Item<T>>): T[] {
  return items.sort((a, b) => compareRouteAge(a.identity, b.identity)).map((i) => i.ir);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

type Adjust = (backend: BackendIR) => void;

/**
 * Per-Gateway changes to a backend: the Gateway's client certificate for
 * backend TLS (spec.tls.backend; a Backend's own clientCertificateRef is
 * more specific and stays), and no TLS origination when a TLS passthrough
 * listener forwards the client's own TLS bytes.
 */
function backendAdjuster(gateway: GatewayContext, passthrough: boolean): Adjust {
  const cert = gateway.backendClientCertificate;
  return (backend) => {
    if (passthrough) delete backend.tls;
    else if (backend.tls && cert && !backend.tls.clientCertificate) backend.tls.clientCertificate = cert;
  };
}

function adjustAll(backends: WeightedBackendIR[], adjust: Adjust): WeightedBackendIR[] {
  return backends.map((b) => {
    const copy = structuredClone(b);
    adjust(copy);
    adjustFilters(copy.filters, adjust);
    return copy;
  });
}

function adjustHTTPRoute(ir: HTTPRouteIR, adjust: Adjust): void {
  adjustFilters(ir.filters, adjust);
  for (const b of ir.backends) {
    adjust(b);
    adjustFilters(b.filters, adjust);
  }
}

function adjustFilters(filters: FilterIR[], adjust: Adjust): void {
  for (const f of filters) if (f.type === 'RequestMirror') adjust(f.mirror.backend);
}
