/**
 * The hand-off between providers and the translator: every resource Sluice
 * reads, already validated and defaulted, grouped by kind. The file provider
 * and the Kubernetes provider both produce this; the translator consumes
 * nothing else.
 */
import type { ConfigMap, EndpointSlice, Namespace, Secret, Service } from '../api/core.ts';
import type {
  Backend,
  BackendTLSPolicy,
  BackendTrafficPolicy,
  ClientTrafficPolicy,
  EnvoyProxy,
  GRPCRoute,
  Gateway,
  GatewayClass,
  HTTPRoute,
  HTTPRouteFilter,
  ListenerSet,
  ReferenceGrant,
  SecurityPolicy,
  TCPRoute,
  TLSRoute,
  UDPRoute,
} from '../api/generated/index.ts';

export interface ResourceSnapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  listenerSets: ListenerSet[];
  httpRoutes: HTTPRoute[];
  grpcRoutes: GRPCRoute[];
  tlsRoutes: TLSRoute[];
  tcpRoutes: TCPRoute[];
  udpRoutes: UDPRoute[];
  referenceGrants: ReferenceGrant[];
  backendTLSPolicies: BackendTLSPolicy[];
  namespaces: Namespace[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  configMaps: ConfigMap[];
  backends: Backend[];
  backendTrafficPolicies: BackendTrafficPolicy[];
  clientTrafficPolicies: ClientTrafficPolicy[];
  securityPolicies: SecurityPolicy[];
  httpRouteFilters: HTTPRouteFilter[];
  envoyProxies: EnvoyProxy[];
}

/** A resource that could not be loaded: bad YAML, schema or CEL violation. */
export interface LoadProblem {
  /** File the document came from (relative to the config dir), if any. */
  file?: string;
  /** Zero-based document index inside the file. */
  doc?: number;
  kind?: string;
  /** `namespace/name` or `name`. */
  name?: string;
  /** Field path such as `spec.listeners[0].port`, when the problem is about one field. */
  path?: string;
  message: string;
}

/** `gateways.yaml#2 Gateway infra/web: spec.listeners[0].port: must be <= 65535` */
export function formatProblem(p: LoadProblem): string {
  let where = '';
  if (p.file !== undefined) where += p.doc !== undefined ? `${p.file}#${p.doc}` : p.file;
  if (p.kind) where += `${where ? ' ' : ''}${p.kind}${p.name ? ` ${p.name}` : ''}`;
  const field = p.path ? `${p.path}: ` : '';
  return `${where ? `${where}: ` : ''}${field}${p.message}`;
}

export function emptySnapshot(): ResourceSnapshot {
  return {
    gatewayClasses: [],
    gateways: [],
    listenerSets: [],
    httpRoutes: [],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    referenceGrants: [],
    backendTLSPolicies: [],
    namespaces: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    configMaps: [],
    backends: [],
    backendTrafficPolicies: [],
    clientTrafficPolicies: [],
    securityPolicies: [],
    httpRouteFilters: [],
    envoyProxies: [],
  };
}
