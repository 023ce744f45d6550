/**
 * The `/ws` endpoint (ECHO.md section 8), like golang.org/x/net/websocket
 * behind echo-basic: the handshake rules (400/403/405), then every data
 * frame's payload comes back in text frames (at most 32 KiB each), pings
 * get pongs, a close frame ends the connection.
 */
import type { Duplex } from 'node:stream';
import { acceptKey, encodeFrame, FrameParser, OP } from './ws-frames.ts';
import { rawValues } from './headers.ts';

export type Handshake = { ok: true; accept: string } | { ok: false; status: number; message: string };

/** A parseable Origin: an absolute URL or an absolute path, not `null`. */
function originOk(origin: string | undefined): boolean {
  if (origin === undefined || origin === '' || origin === 'null') return false;
  if (origin.startsWith('/')) return true;
  try {
    new URL(origin);
    return true;
  } catch {
    return false;
  }
}

export function checkHandshake(method: string, raw: readonly string[]): Handshake {
  const first = (n: string): string | undefined => rawValues(raw, n)[0];
  if (method !== 'GET') return { ok: false, status: 405, message: 'bad method' };
  const upgrade = (first('upgrade') ?? '').toLowerCase();
  const connection = (first('connection') ?? '').toLowerCase();
  if (upgrade !== 'websocket' || !connection.includes('upgrade'))
    return { ok: false, status: 400, message: 'not websocket protocol' };
  const key = first('sec-websocket-key');
  if (!key) return { ok: false, status: 400, message: 'mismatch challenge/response' };
  const version = first('sec-websocket-version');
  if (version !== '13' && version !== '8') return { ok: false, status: 400, message: 'unsupported version' };
  const origin = version === '8' ? first('sec-websocket-origin') : first('origin');
  if (!originOk(origin)) return { ok: false, status: 403, message: 'null origin' };
  return { ok: true, accept: acceptKey(key) };
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 405: 'Method Not Allowed' };

/** Answers the handshake on a taken-over connection and echoes until close. */
export function serveWebSocket(socket: Duplex, method: string, raw: readonly string[], head: Buffer): void {
  const hs = checkHandshake(method, raw);
  if (!hs.ok) {
    socket.end(
      `HTTP/1.1 ${hs.status} ${STATUS_TEXT[hs.status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(hs.message)}\r\nConnection: close\r\n\r\n${hs.message}`,
    );
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${hs.accept}\r\n\r\n`,
  );
  const parser = new FrameParser();
  const onBytes = (chunk: Buffer): void => {
    for (const f of parser.push(chunk)) {
      if (f.opcode === OP.ping) socket.write(encodeFrame(OP.pong, f.payload));
      else if (f.opcode === OP.close) {
        socket.end(encodeFrame(OP.close, f.payload.subarray(0, 2)));
        return;
      } else if (f.opcode === OP.text || f.opcode === OP.binary || f.opcode === OP.continuation) {
        for (let i = 0; i < f.payload.length; i += 32 * 1024)
          socket.write(encodeFrame(OP.text, f.payload.subarray(i, i + 32 * 1024)));
      }
    }
  };
  socket.on('data', onBytes);
  socket.on('error', () => socket.destroy());
  if (head.length) onBytes(head);
}
