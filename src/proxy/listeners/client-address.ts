/**
 * PROXY protocol on HTTP and HTTPS listeners (ClientTrafficPolicy
 * `enableProxyProtocol` / `proxyProtocol`): the header is read before the
 * HTTP parser or the TLS handshake sees a byte, and the client address it
 * carries becomes the connection's own. Whatever reads `remoteAddress` /
 * `localAddress` of the connection (X-Forwarded-For, access logs) then sees
 * the original client, as Envoy's proxy_protocol listener filter makes it
 * the downstream address. LOCAL headers (health checks) keep the socket's.
 */
import type { Socket } from 'node:net';
import type { ProxyHeader } from '../l4/proxy-protocol.ts';

/** `required`: no header, no service; `optional`: a connection may start with one. */
export type ProxyProtocolMode = 'required' | 'optional';

export function adoptClientAddress(socket: Socket, header: ProxyHeader | undefined): void {
  const a = header?.command === 'PROXY' ? header.addresses : undefined;
  if (a === undefined) return;
  Object.defineProperties(socket, {
    remoteAddress: { value: a.source.address, configurable: true },
    remotePort: { value: a.source.port, configurable: true },
    remoteFamily: { value: a.family, configurable: true },
    localAddress: { value: a.destination.address, configurable: true },
    localPort: { value: a.destination.port, configurable: true },
  });
}

/** The mode of a socket whose listeners ask for the header: required as soon as one requires it. */
export function mergeProxyProtocol(current: ProxyProtocolMode | undefined, optional: boolean): ProxyProtocolMode {
  return optional && current !== 'required' ? 'optional' : 'required';
}
