/**
 * Requests node's parser refuses (malformed request line, bad framing such
 * as CL+TE or duplicate Content-Length, oversized headers, slow headers)
 * get a short 4xx and a closed connection, and never reach the router.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || (inFlight != null && inFlight.headersSent)) {
    socket.destroy();
    return;
  }
  const status = statusForParseError(err.code);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
}

export function statusForParseError(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_INVALID_VERSION':
      return 505;
    default:
      return 400;
  }
}
