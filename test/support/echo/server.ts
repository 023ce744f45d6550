/**
 * One echo "pod" (ECHO.md, HTTP mode): the routed HTTP/1.x listener with
 * `/ws`, the h2c listener (prior-knowledge HTTP/2, or HTTP/1.1 with
 * `Upgrade: h2c`), and, with a certificate, the TLS listener (ALPN h2 and
 * http/1.1, optional client-certificate check). Ports are ephemeral unless
 * given (the fleet binds every replica of a Deployment on the same ports).
 */
import { createServer as createHttp1, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createSecureServer,
  createServer as createHttp2,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createNet, Socket, type AddressInfo, type Server as NetServer } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { EchoIdentity } from './echo-body.ts';
import { EchoHandler, type EchoReply, type EchoRequest } from './handler.ts';
import { routeRequest } from './routing.ts';
import { tlsInfo } from './tls-info.ts';
import { checkHandshake, serveWebSocket } from './ws-server.ts';

export interface EchoServerOptions {
  /** Who this process is; `httpPort` is filled in with the bound HTTP port when left empty. */
  identity: Omit<EchoIdentity, 'httpPort'> & { httpPort?: string };
  /** Address to bind (each replica has its own loopback address). */
  host: string;
  httpPort?: number;
  h2cPort?: number;
  /** PEM material for the TLS listener (TLS_SERVER_CERT/TLS_SERVER_PRIVKEY, TLS_CLIENT_CACERTS). */
  tls?: { cert: string; key: string; clientCa?: string; port?: number };
  onEcho?: (target: string, remote: string) => void;
}

export interface EchoServer {
  host: string;
  httpPort: number;
  h2cPort: number;
  httpsPort?: number;
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

const BODY_LIMIT = 10 << 20;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function toEchoRequest(req: AnyRequest, head?: Buffer): EchoRequest {
  const socket = req.socket as Socket & Partial<TLSSocket>;
  const h2 = req.httpVersionMajor === 2;
  const authority = h2 ? req.headers[':authority'] : undefined;
  let body: Promise<Buffer> | undefined;
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    host: (typeof authority === 'string' && authority) || req.headers.host || '',
    proto: `HTTP/${req.httpVersionMajor}.${req.httpVersionMinor}`,
    rawHeaders: req.rawHeaders,
    remote: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
    ...(socket.encrypted ? { tls: tlsInfo(socket as TLSSocket) } : {}),
    readBody: () =>
      (body ??= head
        ? Promise.resolve(head)
        : new Promise<Buffer>((resolve) => {
            const chunks: Buffer[] = [];
            let size = 0;
            req.on('data', (c: Buffer) => {
              size += c.length;
              if (size <= BODY_LIMIT) chunks.push(c);
            });
            req.on('end', () => resolve(Buffer.concat(chunks)));
            req.on('error', () => resolve(Buffer.concat(chunks)));
          })),
  };
}

function reset(socket: Socket | Duplex): void {
  if (socket instanceof Socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function writeResponse(req: AnyRequest, res: AnyResponse, reply: EchoReply): void {
  if (reply.kind === 'reset') {
    if (req.httpVersionMajor === 2) (req as Http2ServerRequest).stream.session?.destroy();
    else reset(req.socket);
    return;
  }
  if (reply.kind === 'websocket') {
    const hs = checkHandshake(req.method ?? 'GET', req.rawHeaders);
    reply = hs.ok
      ? { kind: 'response', status: 400, headers: [], body: 'Bad Request' }
      : { kind: 'response', status: hs.status, headers: [], body: hs.message };
  }
  const length = String(Buffer.byteLength(reply.body));
  if (req.httpVersionMajor === 2) {
    const headers: Record<string, string | string[]> = {};
    for (const [n, v] of reply.headers) {
      const k = n.toLowerCase();
      const prev = headers[k];
      headers[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    headers['content-length'] = length;
    (res as Http2ServerResponse).writeHead(reply.status, headers);
  } else {
    // A flat array keeps each name's exact spelling and every duplicate line (X-Echo-Set-Header).
    const flat = reply.headers.flat();
    flat.push('Content-Length', length);
    (res as ServerResponse).writeHead(reply.status, flat);
  }
  res.end(reply.body);
}

/** A response on a connection taken over by an `upgrade` event (a non-/ws upgrade request); then close. */
function writeRaw(socket: Duplex, reply: EchoReply): void {
  if (reply.kind === 'reset') return reset(socket);
  if (reply.kind !== 'response') return void socket.destroy();
  const lines = [`HTTP/1.1 ${reply.status} ${reply.status === 200 ? 'OK' : 'Status'}`];
  for (const [n, v] of reply.headers) lines.push(`${n}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(reply.body)}`, 'Connection: close', '', '');
  socket.end(lines.join('\r\n') + reply.body);
}

function serve(req: AnyRequest, res: AnyResponse, answer: (r: EchoRequest) => Promise<EchoReply>): void {
  answer(toEchoRequest(req))
    .then((reply) => writeResponse(req, res, reply))
    .catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
}

/** Routed HTTP/1.x (and, from the TLS server, HTTP/2) with the `/ws` endpoint on upgrades. */
function attachRouted(server: Server | Http2SecureServer, handler: EchoHandler): void {
  const answer = (r: EchoRequest): Promise<EchoReply> => handler.routed(r);
  server.on('request', (req: AnyRequest, res: AnyResponse) => serve(req, res, answer));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (routeRequest(req.method ?? 'GET', req.url ?? '/').kind === 'ws') {
      serveWebSocket(socket, req.method ?? 'GET', req.rawHeaders, head);
      return;
    }
    answer(toEchoRequest(req, head))
      .then((reply) => writeRaw(socket, reply))
      .catch(() => socket.destroy());
  });
}

function listen(server: NetServer | Server | Http2SecureServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * The connection as a plain Duplex that first replays the bytes already
 * read: Node's HTTP servers read a net.Socket through its native handle,
 * which would skip bytes put back with unshift().
 */
function replaying(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  socket.on('error', (e) => d.destroy(e));
  for (const k of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const)
    Object.defineProperty(d, k, { get: () => socket[k] });
  return d;
}

/** Sends each connection to the HTTP/2 server when it opens with the h2 preface, else to the HTTP/1 one. */
function sniffer(h1: Server, h2: Http2Server): NetServer {
  return createNet((socket) => {
    let seen = Buffer.alloc(0);
    const hand = (to: Server | Http2Server): void => {
      socket.off('data', onData);
      socket.pause();
      to.emit('connection', replaying(socket, seen));
    };
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      if (!seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) hand(h1);
      else if (seen.length >= H2_PREFACE.length) hand(h2);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
}

export async function startEchoServer(opts: EchoServerOptions): Promise<EchoServer> {
  const sockets = new Set<Duplex>();
  const track = (s: Duplex): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const identity: EchoIdentity = { ...opts.identity, httpPort: opts.identity.httpPort ?? '' };
  const handler = new EchoHandler({ identity, ...(opts.onEcho ? { onEcho: opts.onEcho } : {}) });

  // Go's server has no idle or request timeout: keep-alive connections stay until the peer closes them.
  const http = createHttp1({ requestTimeout: 0 });
  http.keepAliveTimeout = 0;
  attachRouted(http, handler);
  http.on('connection', track);

  const h2cAnswer = (r: EchoRequest): Promise<EchoReply> => handler.h2c(r);
  const h2cHttp1 = createHttp1({ requestTimeout: 0 }, (req, res) => serve(req, res, h2cAnswer));
  h2cHttp1.keepAliveTimeout = 0;
  const h2cHttp2 = createHttp2({}, (req, res) => serve(req, res, h2cAnswer));
  const h2c = sniffer(h2cHttp1, h2cHttp2);
  h2c.on('connection', track);

  let tls: Http2SecureServer | undefined;
  if (opts.tls) {
    const clientCa = opts.tls.clientCa;
    tls = createSecureServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      allowHTTP1: true,
      minVersion: 'TLSv1.2',
      ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}),
    });
    attachRouted(tls, handler);
    tls.on('connection', track);
    // Go's VerifyClientCertIfGiven: no certificate is fine, one that does not verify is not.
    if (clientCa)
      tls.on('secureConnection', (s: TLSSocket) => {
        if (!s.authorized && Object.keys(s.getPeerCertificate()).length > 0) s.destroy();
      });
  }

  const servers: (NetServer | Server | Http2SecureServer)[] = [];
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  try {
    servers.push(http);
    const httpPort = await listen(http, opts.httpPort ?? 0, opts.host);
    if (!identity.httpPort) identity.httpPort = String(httpPort);
    servers.push(h2c);
    const h2cPort = await listen(h2c, opts.h2cPort ?? 0, opts.host);
    let httpsPort: number | undefined;
    if (tls) {
      servers.push(tls);
      httpsPort = await listen(tls, opts.tls?.port ?? 0, opts.host);
    }
    return { host: opts.host, httpPort, h2cPort, ...(httpsPort !== undefined ? { httpsPort } : {}), close };
  } catch (err) {
    await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise<void>((r) => s.close(() => r()))));
    throw err;
  }
}
