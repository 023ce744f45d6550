/**
 * Upgraded connections (WebSocket and any other `Upgrade`): once the backend
 * has answered 101, the 101 goes to the client and both sockets are piped
 * into each other. Bytes the client sent early (after its request headers)
 * are only forwarded after the switch.
 */
import type { Socket } from 'node:net';
import { responseHeadersFromUpstream } from './headers.ts';
import type { RequestContext } from './request-context.ts';

export function openTunnel(
  ctx: RequestContext,
  statusCode: number,
  rawHeaders: readonly (Buffer | string)[],
  upstream: Socket,
): void {
  const downstream = ctx.socket;
  if (ctx.done || downstream.destroyed) {
    upstream.destroy();
    return;
  }
  ctx.finishTimers();
  ctx.done = true;
  ctx.responseStarted = true;
  ctx.status = statusCode;
  ctx.complete(); // the request ends at the switch; the tunnel's bytes are not counted
  const headers = responseHeadersFromUpstream(rawHeaders, true);
  ctx.applyResponseFilters(headers);
  let head = `HTTP/1.1 ${statusCode} Switching Protocols\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  downstream.write(`${head}\r\n`, 'latin1');
  if (ctx.head !== null && ctx.head.length > 0) upstream.write(ctx.head);

  const destroyBoth = (): void => {
    downstream.destroy();
    upstream.destroy();
  };
  upstream.on('error', destroyBoth);
  downstream.on('error', destroyBoth);
  upstream.on('close', destroyBoth);
  downstream.on('close', destroyBoth);
  upstream.setNoDelay(true);
  downstream.setNoDelay(true);
  downstream.setTimeout(0);
  upstream.pipe(downstream);
  downstream.pipe(upstream);
  ctx.listener.trackTunnel(downstream, upstream);
}
