/**
 * The checks' HTTP client (EXTRA-KINDS.md 1.1): the request target is sent
 * verbatim, header names as written, no redirects followed, one connection
 * per request (keep-alive off), a hard timeout. HTTP/1.1 or HTTP/2 with
 * prior knowledge, in cleartext or over TLS (./tls-client.ts: `https`
 * offers no ALPN for HTTP/1.1, as upstream's Go transport with its own TLS
 * config; `H2` offers `h2` only).
 */
import type { Socket } from 'node:net';
import { request as http1Request } from 'node:http';
import { connect as http2Connect, constants as h2 } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { connectTls, type TlsClientOptions } from './tls-client.ts';

export interface Endpoint {
  address: string;
  port: number;
}

export interface OutgoingRequest {
  method: string;
  /** Request target (path and query), sent as is. */
  path: string;
  /** Host header (`:authority`); default: the dialled `address:port`. */
  host?: string;
  headers: [string, string][];
  body?: string;
  /** `HTTP` (HTTP/1.1), `H2C_PRIOR_KNOWLEDGE` (HTTP/2 without ALPN) or `H2` (HTTP/2, ALPN h2; TLS only). */
  protocol: string;
  timeoutMs: number;
  /** Present for `https`: the handshake's settings. */
  tls?: TlsClientOptions;
}

export interface HttpResult {
  status: number;
  /** Every response field line, names as received. */
  headers: [string, string][];
  body: string;
  /** `HTTP/1.1`, `HTTP/2.0`, ... */
  protocol: string;
}

const BODY_LIMIT = 4 << 20;

export function hostPort(ep: Endpoint): string {
  return ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

function sendHttp1(ep: Endpoint, r: OutgoingRequest, socket?: TLSSocket): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (r.host !== undefined) headers.Host = r.host;
    for (const [n, v] of r.headers) headers[n] = v;
    let req;
    try {
      req = http1Request({
        host: ep.address,
        port: ep.port,
        method: r.method,
        path: r.path,
        headers,
        setHost: r.host === undefined,
        // No agent at all with createConnection (an agent would dial on its own); both mean no keep-alive.
        ...(socket ? { createConnection: (): Socket => socket } : { agent: false }),
      });
    } catch (err) {
      return reject(err instanceof Error ? err : new Error(String(err)));
    }
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${r.timeoutMs} ms`)), r.timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= BODY_LIMIT) chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: pairs(res.rawHeaders),
          body: Buffer.concat(chunks).toString('utf8'),
          protocol: `HTTP/${res.httpVersion}`,
        });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(r.body);
  });
}

function sendH2(ep: Endpoint, r: OutgoingRequest, socket?: TLSSocket): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const scheme = socket ? 'https' : 'http';
    const session = http2Connect(`${scheme}://${hostPort(ep)}`, socket ? { createConnection: () => socket } : {});
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no response within ${r.timeoutMs} ms`)), r.timeoutMs);
    session.on('error', fail);
    const headers: Record<string, string> = {
      [h2.HTTP2_HEADER_METHOD]: r.method,
      [h2.HTTP2_HEADER_PATH]: r.path,
      [h2.HTTP2_HEADER_SCHEME]: scheme,
      [h2.HTTP2_HEADER_AUTHORITY]: r.host ?? hostPort(ep),
    };
    for (const [n, v] of r.headers) headers[n.toLowerCase()] = v;
    const stream = session.request(headers, { endStream: r.body === undefined });
    let status = 0;
    const got: [string, string][] = [];
    stream.on('response', (h) => {
      status = Number(h[h2.HTTP2_HEADER_STATUS]);
      for (const [n, v] of Object.entries(h)) {
        if (n.startsWith(':') || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) got.push([n, String(one)]);
      }
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, headers: got, body: Buffer.concat(chunks).toString('utf8'), protocol: 'HTTP/2.0' });
    });
    stream.on('error', fail);
    if (r.body !== undefined) stream.end(r.body);
  });
}

export async function sendHttp(ep: Endpoint, r: OutgoingRequest): Promise<HttpResult> {
  if (!['HTTP', 'H2C_PRIOR_KNOWLEDGE', 'H2'].includes(r.protocol))
    throw new Error(`request.protocol ${r.protocol} is not supported`);
  if (!r.tls) {
    if (r.protocol === 'H2') throw new Error('request.protocol H2 needs scheme https');
    return r.protocol === 'HTTP' ? sendHttp1(ep, r) : sendH2(ep, r);
  }
  const started = Date.now();
  const alpn = r.protocol === 'H2' ? ['h2'] : undefined;
  const socket = await connectTls(ep.address, ep.port, { ...r.tls, ...(alpn ? { alpn } : {}) }, r.timeoutMs);
  if (r.protocol === 'H2' && socket.alpnProtocol !== 'h2') {
    socket.destroy();
    throw new Error(`the server did not negotiate ALPN h2 (got ${socket.alpnProtocol || 'none'})`);
  }
  const left = { ...r, timeoutMs: Math.max(1, r.timeoutMs - (Date.now() - started)) };
  return r.protocol === 'HTTP' ? sendHttp1(ep, left, socket) : sendH2(ep, left, socket);
}
