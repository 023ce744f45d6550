/**
 * What a listener reads before it can pick a route or start TLS: the
 * client's PROXY protocol header (consumed; required or optional) and/or
 * the TLS ClientHello (only inspected: its bytes are kept for the backend
 * or the local TLS server). Bounded in bytes and time; the socket is left
 * paused with no data listener, so that whoever takes it over (pipe,
 * TLSSocket, HTTP parser) reads from where this stopped.
 */
import type { Socket } from 'node:net';
import { parseClientHello } from './client-hello.ts';
import { decodeProxyHeader, mayBeProxyHeader, type ProxyHeader } from './proxy-protocol.ts';

export interface PreambleOptions {
  proxyProtocol: boolean;
  /** With `proxyProtocol`: a connection that does not start with a PROXY header is served without one. */
  proxyProtocolOptional?: boolean;
  clientHello: boolean;
  maxBytes: number;
  timeoutMs: number;
}

export interface Preamble {
  proxy?: ProxyHeader;
  /** Set when `clientHello` was asked for. */
  hello?: { sni: string | undefined; alpn: string[]; ticketName?: Buffer };
  /** Bytes read after the PROXY header (the ClientHello among them), still to be forwarded. */
  rest: Buffer;
}

/** Why a preamble could not be read: the client left, it took too long, or the bytes are not what was expected. */
export type PreambleFailure = 'closed' | 'timeout' | 'invalid';

export type PreambleResult = { ok: true; preamble: Preamble } | { ok: false; reason: string; kind: PreambleFailure };

export function readPreamble(socket: Socket, opts: PreambleOptions, done: (r: PreambleResult) => void): void {
  if (!opts.proxyProtocol && !opts.clientHello) {
    done({ ok: true, preamble: { rest: Buffer.alloc(0) } });
    return;
  }
  let data: Buffer = Buffer.alloc(0);
  let proxy: ProxyHeader | undefined;
  let needProxy = opts.proxyProtocol;
  let settled = false;

  const finish = (r: PreambleResult): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.pause();
    done(r);
  };
  const onEnd = (): void => finish({ ok: false, reason: 'client closed before sending its preamble', kind: 'closed' });
  const onData = (chunk: Buffer): void => {
    data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
    if (needProxy && opts.proxyProtocolOptional === true && !mayBeProxyHeader(data)) needProxy = false;
    if (needProxy) {
      const p = decodeProxyHeader(data);
      if (p.status === 'invalid') return finish({ ok: false, reason: `PROXY header: ${p.reason}`, kind: 'invalid' });
      if (p.status === 'incomplete') return;
      proxy = p.header;
      needProxy = false;
      data = data.subarray(p.length);
    }
    if (!opts.clientHello) return finish({ ok: true, preamble: { proxy, rest: data } });
    if (data.length === 0) return;
    const h = parseClientHello(data);
    if (h.status === 'invalid') return finish({ ok: false, reason: `ClientHello: ${h.reason}`, kind: 'invalid' });
    if (h.status === 'ok') {
      const hello = { sni: h.sni, alpn: h.alpn, ticketName: h.ticketName };
      return finish({ ok: true, preamble: { proxy, hello, rest: data } });
    }
    if (data.length >= opts.maxBytes)
      finish({ ok: false, reason: `ClientHello larger than ${opts.maxBytes} bytes`, kind: 'invalid' });
  };
  const timer = setTimeout(
    () => finish({ ok: false, reason: `no complete preamble within ${opts.timeoutMs} ms`, kind: 'timeout' }),
    opts.timeoutMs,
  );
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
}
