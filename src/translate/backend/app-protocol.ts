/**
 * The protocol the data plane speaks to a backend. The route kind sets the
 * default (GRPCRoute always speaks gRPC, L4 routes move bytes); for
 * HTTPRoute the Service port's appProtocol (KEP-3726 standard values) or the
 * Envoy Gateway Backend's appProtocols may upgrade it to h2c or WebSocket.
 */
import type { AppProtocol } from '../../ir/types.ts';
import type { RouteKind } from './types.ts';

export function defaultProtocol(kind: RouteKind): AppProtocol {
  switch (kind) {
    case 'HTTPRoute':
      return 'http';
    case 'GRPCRoute':
      return 'grpc';
    case 'UDPRoute':
      return 'udp';
    case 'TLSRoute':
    case 'TCPRoute':
      return 'tcp';
  }
}

/**
 * The backend protocol for a Service port's appProtocol, or undefined when
 * the route kind cannot use it (ResolvedRefs=False UnsupportedProtocol).
 */
export function serviceAppProtocol(appProtocol: string | undefined, kind: RouteKind): AppProtocol | undefined {
  const ap = appProtocol?.toLowerCase();
  switch (kind) {
    case 'HTTPRoute':
      if (ap === 'kubernetes.io/h2c') return 'h2c';
      if (ap === 'kubernetes.io/ws' || ap === 'kubernetes.io/wss') return 'ws';
      // Envoy Gateway treats a bare `grpc` as HTTP/2 for HTTPRoutes too.
      if (ap === 'grpc') return 'grpc';
      return 'http';
    case 'GRPCRoute':
      // gRPC needs HTTP/2; a WebSocket port cannot carry it.
      if (ap === 'kubernetes.io/ws' || ap === 'kubernetes.io/wss') return undefined;
      return 'grpc';
    default:
      return defaultProtocol(kind);
  }
}

/** The backend protocol for an Envoy Gateway Backend's `appProtocols`. */
export function envoyBackendAppProtocol(appProtocols: string[] | undefined, kind: RouteKind): AppProtocol {
  if (kind !== 'HTTPRoute') return defaultProtocol(kind);
  let protocol: AppProtocol = 'http';
  for (const ap of appProtocols ?? []) {
    if (ap === 'gateway.envoyproxy.io/h2c') protocol = 'h2c';
    else if (ap === 'gateway.envoyproxy.io/ws' || ap === 'gateway.envoyproxy.io/wss') protocol = 'ws';
  }
  return protocol;
}

/** Service port transport protocol a route kind needs (a Service port without `protocol` is TCP). */
export function transportFor(kind: RouteKind): 'TCP' | 'UDP' {
  return kind === 'UDPRoute' ? 'UDP' : 'TCP';
}
