/**
 * Joins a client connection and its upstream connection: bytes both ways
 * with backpressure (`pipe` pauses the reader while the writer is full),
 * half-close carried across (a FIN from one side ends the other side's
 * writable half, so a client may stop sending and still read the answer;
 * both sockets need `allowHalfOpen`), an abort on either side aborts the
 * other (a reset stays a reset), and an idle timeout over both directions.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export function splice(client: Socket, upstream: Socket, idleTimeoutMs: number, onClose?: () => void): void {
  let finished = false;
  const abortBoth = (reset: boolean): void => {
    if (finished) return;
    finished = true;
    cut(client, reset);
    cut(upstream, reset);
  };
  const onError = (err: NodeJS.ErrnoException): void => abortBoth(err.code === 'ECONNRESET');
  client.on('error', onError);
  upstream.on('error', onError);
  // A side that closes before both halves ended was aborted: so is the other. After a
  // graceful close the other side is left to flush what it still holds and close itself.
  const onSideClose = (other: Socket) => (): void => {
    if (!other.destroyed && !(other.readableEnded && other.writableEnded)) abortBoth(false);
  };
  client.once('close', onSideClose(upstream));
  upstream.once('close', onSideClose(client));
  let pending = 2;
  const closed = (): void => {
    if (--pending === 0) onClose?.();
  };
  client.once('close', closed);
  upstream.once('close', closed);

  // Every byte either way passes through the client socket, so its timer is the idle timer of the pair.
  if (idleTimeoutMs > 0) {
    client.setTimeout(idleTimeoutMs);
    client.on('timeout', () => abortBoth(false));
  }
  client.pipe(upstream);
  upstream.pipe(client);
}

/** Destroys `s`, with a TCP reset when asked and possible (not through a TLS layer). */
export function cut(s: Socket, reset = false): void {
  if (s.destroyed) return;
  if (reset && !(s instanceof TLSSocket) && typeof s.resetAndDestroy === 'function') {
    try {
      s.resetAndDestroy();
      return;
    } catch {
      // fall through: a socket not yet connected cannot be reset
    }
  }
  s.destroy();
}
