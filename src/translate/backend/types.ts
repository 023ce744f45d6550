/**
 * What backendRef resolution takes and gives back. A failed resolution names
 * the ResolvedRefs reason the route must report; the caller decides how the
 * invalid ref is served (a 500 share, a dropped mirror, a refused connection).
 */
import type { BackendIR } from '../../ir/types.ts';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** BackendObjectReference as every route kind and filter spells it. */
export interface BackendRefSpec {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

/** The referring route, as a ReferenceGrant `from` and for messages. */
export interface BackendReferrer {
  kind: RouteKind;
  namespace: string;
  name: string;
}

export interface BackendRefError {
  /** ResolvedRefs reason: InvalidKind, RefNotPermitted, BackendNotFound, UnsupportedProtocol, PortNotSpecified, PortNotFound, UnsupportedValue, InvalidBackendTLS, InvalidBackendRef. */
  reason: string;
  message: string;
}

export type BackendResolution = { ok: true; backend: BackendIR } | { ok: false; error: BackendRefError };
