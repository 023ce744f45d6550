/**
 * 421 Misdirected Request (RFC 9110 §15.5.20). On an HTTPS socket the
 * listener is chosen twice: by SNI during the handshake (certificate,
 * client validation) and by Host (`:authority`) per request. A client that
 * reuses a connection for another name (HTTP/2 coalescing does, when the
 * certificate covers both) must not reach a listener the handshake was not
 * made for: when the two lookups give different listeners the answer is 421
 * and the client retries on a new connection. The same lookup (exact, then
 * wildcard, then catch-all) serves both, so a host with no route on the
 * SNI-selected listener still gets 404 (GatewayHTTPSListenerDetectMisdirectedRequests).
 */
import type { TLSSocket } from 'node:tls';
import type { SocketTable } from '../compile/compiled-route.ts';
import type { RequestContext } from '../http/request-context.ts';
import { normalizeServername } from './sni-contexts.ts';

export function misdirected(ctx: RequestContext, table: SocketTable): boolean {
  const sni = (ctx.socket as TLSSocket).servername;
  const byHost = table.listeners.lookup(ctx.host);
  if (typeof sni !== 'string' || sni === '') {
    // No SNI: only checked where leaving it out would pick a laxer client validation.
    const fallback = ctx.listener.noSniListener;
    return fallback !== null && byHost?.name !== fallback;
  }
  return table.listeners.lookup(normalizeServername(sni)) !== byHost;
}
