/**
 * Check kinds (or variants) this runner has no client for yet: HTTPS and
 * HTTP/2 over TLS, gRPC, TCP, TLS and UDP. A case containing one is
 * reported as `SKIP <case>: needs: <feature>`, decided from its checks
 * alone (never from its name); every other check of such a case is left
 * alone too, since a case passes only when all of its checks ran.
 */
import type { Check } from '../case-types.ts';

const TRANSPORT: Record<string, string> = {
  grpc: 'gRPC',
  tcp: 'TCPRoute traffic',
  tls: 'TLSRoute traffic',
  udp: 'UDPRoute traffic',
};

const HTTP_KINDS = new Set(['http', 'timing', 'mirror', 'weights', 'backendHeaderConsistency', 'websocket']);

/** The first feature the checks need that the runner cannot exercise, or undefined. */
export function missingFeature(checks: Check[]): string | undefined {
  for (const check of checks) {
    const c = check as Record<string, unknown>;
    const transport = TRANSPORT[check.kind];
    if (transport) return transport;
    if (check.kind === 'weights' && typeof c.protocol === 'string' && TRANSPORT[c.protocol])
      return TRANSPORT[c.protocol];
    if (HTTP_KINDS.has(check.kind)) {
      const scheme = typeof c.scheme === 'string' ? c.scheme : 'http';
      const req = (c.request ?? {}) as Record<string, unknown>;
      if (scheme === 'https' || scheme === 'wss' || req.protocol === 'H2') return 'HTTPS listeners';
    }
  }
  return undefined;
}
