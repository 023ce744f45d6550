/**
 * Sorts admitted objects into a ResourceSnapshot by kind. Objects of kinds
 * Sluice does not read are returned in `ignored` (a Deployment in the same
 * directory is normal, not an error).
 */
import type { KubeObject } from '../api/object.ts';
import { emptySnapshot, type ResourceSnapshot } from './snapshot.ts';

type ListName = keyof ResourceSnapshot;

/** `group/kind` → snapshot list. The version is not part of the key: every served version lands in one list. */
const LISTS: Record<string, ListName> = {
  'gateway.networking.k8s.io/GatewayClass': 'gatewayClasses',
  'gateway.networking.k8s.io/Gateway': 'gateways',
  'gateway.networking.k8s.io/ListenerSet': 'listenerSets',
  'gateway.networking.k8s.io/HTTPRoute': 'httpRoutes',
  'gateway.networking.k8s.io/GRPCRoute': 'grpcRoutes',
  'gateway.networking.k8s.io/TLSRoute': 'tlsRoutes',
  'gateway.networking.k8s.io/TCPRoute': 'tcpRoutes',
  'gateway.networking.k8s.io/UDPRoute': 'udpRoutes',
  'gateway.networking.k8s.io/ReferenceGrant': 'referenceGrants',
  'gateway.networking.k8s.io/BackendTLSPolicy': 'backendTLSPolicies',
  '/Namespace': 'namespaces',
  '/Service': 'services',
  'discovery.k8s.io/EndpointSlice': 'endpointSlices',
  '/Secret': 'secrets',
  '/ConfigMap': 'configMaps',
  'gateway.envoyproxy.io/Backend': 'backends',
  'gateway.envoyproxy.io/BackendTrafficPolicy': 'backendTrafficPolicies',
  'gateway.envoyproxy.io/ClientTrafficPolicy': 'clientTrafficPolicies',
  'gateway.envoyproxy.io/SecurityPolicy': 'securityPolicies',
  'gateway.envoyproxy.io/HTTPRouteFilter': 'httpRouteFilters',
  'gateway.envoyproxy.io/EnvoyProxy': 'envoyProxies',
};

/** The API group of an apiVersion (`v1` → core group `""`). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** The snapshot list an object belongs to, or undefined for kinds Sluice does not read. */
export function snapshotListFor(apiVersion: string, kind: string): ListName | undefined {
  return LISTS[`${apiGroup(apiVersion)}/${kind}`];
}

export function buildSnapshot(objects: KubeObject[]): { snapshot: ResourceSnapshot; ignored: KubeObject[] } {
  const snapshot = emptySnapshot();
  const ignored: KubeObject[] = [];
  for (const obj of objects) {
    const list = snapshotListFor(obj.apiVersion, obj.kind);
    if (list) (snapshot[list] as KubeObject[]).push(obj);
    else ignored.push(obj);
  }
  return { snapshot, ignored };
}
