/**
 * HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one cleartext port: the
 * first bytes of a connection decide. An HTTP/2 client starts with the
 * 24-byte preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`; any byte that departs
 * from it means HTTP/1 (usually the very first one, at most the second for
 * POST/PUT/PATCH). The bytes read are put back and the socket goes to the
 * chosen server. This costs one read per connection, nothing per request.
 */
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type Protocol = 'http/1.1' | 'h2';

/**
 * Reads until the protocol is known, then calls `decided` with the bytes
 * pushed back (paused for h2, whose session reads them itself; flowing
 * again for HTTP/1). A connection that sends nothing useful within
 * `timeoutMs`, ends or fails is destroyed.
 */
export function sniffPreface(socket: Socket, timeoutMs: number, decided: (protocol: Protocol) => void): void {
  let seen: Buffer | null = null;
  const finish = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onFail);
    socket.off('end', onFail);
  };
  const onFail = (): void => {
    finish();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const h2 = seen.compare(PREFACE, 0, n, 0, n) === 0;
    if (h2 && n < PREFACE.length) return;
    finish();
    socket.pause();
    socket.unshift(seen);
    if (h2) {
      decided('h2');
    } else {
      decided('http/1.1');
      socket.resume();
    }
  };
  const timer = setTimeout(onFail, timeoutMs);
  socket.on('data', onData);
  socket.on('error', onFail);
  socket.on('end', onFail);
}
