/**
 * node's HTTP servers handle a new connection with one listener, registered
 * by their constructor ('connection' for http.Server, 'secureConnection'
 * for https.Server). Taking it over lets the listener route a connection to
 * HTTP/2 first while the server keeps what only it does for HTTP/1
 * (connection tracking, header and request timeouts, idle closing) and
 * stays the one that listens, so `close()` still waits for every socket.
 * tls.Server's own 'connection' listener (which starts TLS) is taken over
 * the same way, to read the ClientHello first.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

export type Http1Handler = (socket: Socket) => void;

export function takeOverConnections(
  server: EventEmitter,
  event: 'connection' | 'secureConnection',
  dispatch: (socket: Socket, http1: Http1Handler) => void,
): void {
  const own = server.listeners(event);
  if (own.length !== 1) throw new Error(`expected node's single '${event}' handler, found ${own.length}`);
  const handler = own[0] as (this: EventEmitter, socket: Socket) => void;
  const http1: Http1Handler = (socket) => handler.call(server, socket);
  server.removeAllListeners(event);
  server.on(event, (socket: Socket) => dispatch(socket, http1));
}
