/**
 * The gRPC echo server of GRPC-ECHO.md (the `echo-basic` image's gRPC
 * mode): `Echo` and `EchoTwo` answer who received the call and what
 * metadata it carried; `EchoThree` and every other path answer
 * UNIMPLEMENTED. Cleartext HTTP/2 with prior knowledge ("h2c") on one port
 * and, with a certificate, gRPC over TLS (ALPN h2) on another.
 *
 * Written on node:http2 with the hand-written codec of ./messages.ts rather
 * than @grpc/grpc-js: no dependency (and no install script) for five small
 * messages, and the server sees the request's header fields exactly as they
 * arrived on the wire (duplicates, order, `:authority`), which is what it
 * must report, where grpc-js hands over its own reworked metadata.
 */
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { encodeFrame, FrameDecoder } from '../../../src/proxy/grpc/frames.ts';
import { encodeGrpcMessage } from '../../../src/proxy/grpc/status.ts';
import { tlsInfo } from '../echo/tls-info.ts';
import { ECHO_SERVICE, encodeEchoResponse, type EchoContext, type TlsAssertions } from './messages.ts';

export interface GrpcEchoIdentity {
  /** POD_NAME, e.g. `grpc-infra-backend-v1-5b9c8d-x2x4z`. */
  pod: string;
  /** NAMESPACE. */
  namespace: string;
  /** SERVICE_NAME (empty in the base manifests). */
  serviceName?: string;
  /** INGRESS_NAME (empty in the base manifests). */
  ingress?: string;
}

export interface GrpcEchoOptions {
  identity: GrpcEchoIdentity;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** h2c port (HTTP_PORT); default 0 = ephemeral. */
  port?: number;
  /** TLS_SERVER_CERT / TLS_SERVER_PRIV_KEY as PEM text; `port` default 0. */
  tls?: { cert: string; key: string; port?: number };
  /** Called for every gRPC call received (answered or UNIMPLEMENTED), with the method path and its metadata. */
  onCall?: (method: string, metadata: Array<{ key: string; value: string }>) => void;
}

export interface GrpcEchoServer {
  host: string;
  port: number;
  httpsPort?: number;
  close(): Promise<void>;
}

/** Request fields grpc-go keeps out of the metadata a handler sees (besides pseudo-headers, `:authority` excepted). */
const RESERVED = new Set([
  'content-type',
  'te',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-message-type',
  'grpc-message',
  'grpc-status',
  'grpc-status-details-bin',
]);

/** An unary request is one small message; anything bigger is refused rather than buffered. */
const MAX_REQUEST_BYTES = 1 << 20;

const ECHO_METHODS = new Set([`/${ECHO_SERVICE}/Echo`, `/${ECHO_SERVICE}/EchoTwo`]);

export async function startGrpcEchoServer(opts: GrpcEchoOptions): Promise<GrpcEchoServer> {
  const host = opts.host ?? '127.0.0.1';
  const context: EchoContext = {
    namespace: opts.identity.namespace,
    ingress: opts.identity.ingress ?? '',
    serviceName: opts.identity.serviceName ?? '',
    pod: opts.identity.pod,
  };
  const sessions = new Set<ServerHttp2Session>();
  const track = (s: ServerHttp2Session): void => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  };
  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _f: number, raw: string[]): void => {
    stream.on('error', () => undefined);
    handleCall(stream, headers, raw, context, opts.onCall);
  };

  const h2c = http2.createServer();
  h2c.on('session', track);
  h2c.on('stream', onStream);
  const servers: Array<Http2Server | Http2SecureServer> = [h2c];
  const port = await listen(h2c, host, opts.port ?? 0);

  let httpsPort: number | undefined;
  if (opts.tls) {
    const tls = http2.createSecureServer({ cert: opts.tls.cert, key: opts.tls.key, ALPNProtocols: ['h2'] });
    tls.on('session', track);
    tls.on('stream', onStream);
    servers.push(tls);
    try {
      httpsPort = await listen(tls, host, opts.tls.port ?? 0);
    } catch (err) {
      await closeAll(servers, sessions);
      throw err;
    }
  }
  return { host, port, ...(httpsPort !== undefined ? { httpsPort } : {}), close: () => closeAll(servers, sessions) };
}

function handleCall(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  raw: readonly string[],
  context: EchoContext,
  onCall: GrpcEchoOptions['onCall'],
): void {
  const method = String(headers[':path'] ?? '');
  const contentType = String(headers['content-type'] ?? '');
  if (headers[':method'] !== 'POST' || !/^application\/grpc($|[+;])/.test(contentType)) {
    // What grpc-go answers a request that is not gRPC.
    stream.respond({ ':status': 415, 'content-type': 'text/plain' });
    stream.end('invalid gRPC request content-type\n');
    return;
  }
  const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
  let failed = false;
  stream.on('data', (chunk: Buffer) => {
    if (failed) return;
    try {
      decoder.push(chunk);
    } catch {
      failed = true;
      trailersOnly(stream, 8 /* RESOURCE_EXHAUSTED */, 'request message too large');
    }
  });
  stream.on('end', () => {
    if (failed || stream.destroyed) return;
    const metadata = metadataOf(raw);
    onCall?.(method, metadata);
    if (!ECHO_METHODS.has(method)) {
      // EchoThree is declared but not implemented; other paths are unknown: both UNIMPLEMENTED.
      trailersOnly(stream, 12, '');
      return;
    }
    const socket = stream.session?.socket as (TLSSocket & { encrypted?: boolean }) | undefined;
    let tlsAssertions: TlsAssertions | undefined;
    if (socket?.encrypted) {
      const info = tlsInfo(socket);
      tlsAssertions = {
        version: info.version,
        negotiatedProtocol: info.negotiatedProtocol ?? '',
        serverName: info.serverName,
        cipherSuite: info.cipherSuite,
        peerCertificates: info.peerCertificates ?? [],
      };
    }
    const body = encodeEchoResponse({
      assertions: {
        fullyQualifiedMethod: method,
        headers: metadata,
        authority: String(headers[':authority'] ?? ''),
        context,
        ...(tlsAssertions ? { tlsAssertions } : {}),
      },
    });
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(encodeFrame(body));
  });
}

/** The metadata grpc-go hands a handler: `:authority`, then every non-reserved field, one entry per value. */
function metadataOf(raw: readonly string[]): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    if (key.startsWith(':') ? key !== ':authority' : RESERVED.has(key)) continue;
    out.push({ key, value: raw[i + 1] });
  }
  return out;
}

/** A status with no message: one HEADERS frame ending the stream, as gRPC servers send it. */
function trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      ...(message ? { 'grpc-message': encodeGrpcMessage(message) } : {}),
    },
    { endStream: true },
  );
}

function listen(server: Http2Server | Http2SecureServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function closeAll(
  servers: Array<Http2Server | Http2SecureServer>,
  sessions: Set<ServerHttp2Session>,
): Promise<void> {
  for (const s of sessions) s.destroy();
  await Promise.all(
    servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
  );
}
