/**
 * Shared state of one translation run: the snapshot indexed for lookups,
 * the options, the status store, and the contexts that gateway translation
 * hands to route translation.
 */
import type { ConfigMap, Namespace, Secret, Service, EndpointSlice } from '../api/core.ts';
import { SERVICE_NAME_LABEL } from '../api/core.ts';
import type { Backend, Gateway, GatewayClass, ListenerSet, ReferenceGrant } from '../api/generated/index.ts';
import type { CertificateIR, ListenerIR, ListenerProtocol, GatewayIR } from '../ir/types.ts';
import type { ResourceSnapshot } from '../providers/snapshot.ts';
import { StatusStore } from './status.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const ENVOY_GATEWAY_GROUP = 'gateway.envoyproxy.io';
export const DEFAULT_CONTROLLER_NAME = 'sluice.dev/gateway-controller';

export interface TranslateOptions {
  /** GatewayClasses whose `spec.controllerName` equals this are ours. */
  controllerName: string;
  /** CIDR from which Gateways without `spec.addresses` get an address (e.g. `127.0.1.0/24`). */
  addressPool?: string;
  /** Address for Gateways when there is no pool (default `0.0.0.0`). */
  defaultAddress: string;
  /** RFC 3339 time used for `lastTransitionTime` (injected: translation is pure). */
  now: string;
}

export function defaultOptions(partial: Partial<TranslateOptions> = {}): TranslateOptions {
  return {
    controllerName: partial.controllerName ?? DEFAULT_CONTROLLER_NAME,
    defaultAddress: partial.defaultAddress ?? '0.0.0.0',
    now: partial.now ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(partial.addressPool !== undefined ? { addressPool: partial.addressPool } : {}),
  };
}

export interface RouteGroupKind {
  group: string;
  kind: string;
}

/**
 * One listener of an accepted Gateway (from the Gateway itself or from an
 * attached ListenerSet), as route translation sees it.
 */
export interface ListenerContext {
  gateway: Gateway;
  /** Set when the listener was contributed by a ListenerSet. */
  listenerSet?: ListenerSet;
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  tlsMode?: 'Terminate' | 'Passthrough';
  /** Route kinds this listener accepts (its `status.supportedKinds`). */
  supportedKinds: RouteGroupKind[];
  /** allowedRoutes.namespaces evaluated for a route namespace. */
  allowsNamespace(namespace: string): boolean;
  /**
   * Routes may attach only to listeners that are Accepted (valid protocol,
   * no conflict). A listener with unresolved refs still accepts routes.
   */
  acceptsRoutes: boolean;
  /** Incremented by route translation for every route attached. */
  attachedRoutes: number;
  /** The IR for this listener; route translation fills its route tables. Undefined when not programmed. */
  ir?: ListenerIR;
}

export interface GatewayContext {
  gateway: Gateway;
  gatewayClass: GatewayClass;
  /** The Gateway is Accepted (its class is ours and accepted, and it is valid). */
  accepted: boolean;
  listeners: ListenerContext[];
  /** Accepted ListenerSets attached to this Gateway. */
  listenerSets: ListenerSet[];
  ir?: GatewayIR;
  /** Resolved `spec.tls.backend.clientCertificateRef`: the client certificate for TLS towards backends. */
  backendClientCertificate?: CertificateIR;
}

export function listenerProtocolIR(protocol: string): ListenerProtocol | undefined {
  switch (protocol) {
    case 'HTTP':
    case 'HTTPS':
    case 'TLS':
    case 'TCP':
    case 'UDP':
      return protocol;
    default:
      return undefined;
  }
}

function byNsName<T extends { metadata: { name: string; namespace?: string } }>(items: T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) m.set(`${it.metadata.namespace ?? ''}/${it.metadata.name}`, it);
  return m;
}

export class TranslationContext {
  readonly status = new StatusStore();
  readonly #services: Map<string, Service>;
  readonly #secrets: Map<string, Secret>;
  readonly #configMaps: Map<string, ConfigMap>;
  readonly #backends: Map<string, Backend>;
  readonly #namespaces: Map<string, Namespace>;
  readonly #slicesByService = new Map<string, EndpointSlice[]>();

  constructor(
    readonly snapshot: ResourceSnapshot,
    readonly options: TranslateOptions,
  ) {
    this.#services = byNsName(snapshot.services);
    this.#secrets = byNsName(snapshot.secrets);
    this.#configMaps = byNsName(snapshot.configMaps);
    this.#backends = byNsName(snapshot.backends);
    this.#namespaces = new Map(snapshot.namespaces.map((n) => [n.metadata.name, n]));
    for (const s of snapshot.endpointSlices) {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (!svc) continue;
      const key = `${s.metadata.namespace ?? ''}/${svc}`;
      const list = this.#slicesByService.get(key);
      if (list) list.push(s);
      else this.#slicesByService.set(key, [s]);
    }
  }

  get now(): string {
    return this.options.now;
  }

  service(namespace: string, name: string): Service | undefined {
    return this.#services.get(`${namespace}/${name}`);
  }
  secret(namespace: string, name: string): Secret | undefined {
    return this.#secrets.get(`${namespace}/${name}`);
  }
  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.#configMaps.get(`${namespace}/${name}`);
  }
  backend(namespace: string, name: string): Backend | undefined {
    return this.#backends.get(`${namespace}/${name}`);
  }
  endpointSlices(namespace: string, serviceName: string): EndpointSlice[] {
    return this.#slicesByService.get(`${namespace}/${serviceName}`) ?? [];
  }
  /** Labels of a namespace; a namespace with no object has only the name label Kubernetes adds. */
  namespaceLabels(name: string): Record<string, string> {
    const ns = this.#namespaces.get(name);
    return { 'kubernetes.io/metadata.name': name, ...(ns?.metadata.labels ?? {}) };
  }

  /**
   * ReferenceGrant check: may an object of `from` (group/kind in namespace)
   * reference `to` (group/kind/name in another namespace)? Same-namespace
   * references never need a grant.
   */
  referenceAllowed(
    from: { group: string; kind: string; namespace: string },
    to: { group: string; kind: string; namespace: string; name: string },
  ): boolean {
    if (from.namespace === to.namespace) return true;
    return this.snapshot.referenceGrants.some((g: ReferenceGrant) => {
      if (g.metadata.namespace !== to.namespace) return false;
      const fromOk = g.spec?.from?.some(
        (f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace,
      );
      if (!fromOk) return false;
      return g.spec?.to?.some(
        (t) =>
          t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name),
      );
    });
  }
}
