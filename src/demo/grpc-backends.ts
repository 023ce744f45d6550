/**
 * gRPC for the demo backends: each demo backend port also speaks HTTP/2
 * with prior knowledge (h2c, what the gateway uses for Services whose port
 * says `appProtocol: kubernetes.io/h2c` or `grpc`, and for every GRPCRoute
 * backend), sniffed from a connection's first bytes, so one port serves
 * whatever route kind points at it. Over HTTP/2, gRPC calls get the rides
 * services of examples/grpc-routing/rides.proto; any other request gets the
 * same JSON answer as over HTTP/1.1.
 *
 *   rides.BookingService/RequestRide      → {rideId, status: DRIVER_ASSIGNED, servedBy: <Service>}
 *   rides.BookingService/CancelRide       → {rideId, status: CANCELLED, servedBy: <Service>}
 *   rides.TrackingService/StreamLocation  → `updates` (default 3, at most 20) Locations, 100 ms apart
 *   anything else                          → UNIMPLEMENTED
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Socket } from 'node:net';
import { sniffPreface } from '../proxy/http2/preface-sniffer.ts';
import { encodeFrame, FrameDecoder } from '../proxy/grpc/frames.ts';
import { encodeGrpcMessage, GrpcStatus } from '../proxy/grpc/status.ts';
import { decodeMessage, encodeMessage, RIDES_METHODS, type Field, type Json } from './rides.ts';

/** Who a demo backend is (its Service). */
export interface DemoIdentity {
  service: string;
  namespace: string;
  version: string;
}

export interface DemoServer {
  close(): Promise<void>;
}

/** The JSON a demo backend answers a plain HTTP request with. */
export type DescribeRequest = (method: string, path: string, host: string | undefined) => string;

const LOCATION_INTERVAL_MS = 100;
const MAX_UPDATES = 20;
const SNIFF_TIMEOUT_MS = 10_000;

/** One port, HTTP/1.1 and h2c: `describe` answers plain requests, the rides services answer gRPC calls. */
export function listenDemo(
  address: string,
  port: number,
  who: DemoIdentity,
  describe: DescribeRequest,
): Promise<DemoServer> {
  const plain = (method: string, path: string, host: string | undefined): { type: string; text: string } => ({
    type: 'application/json',
    text: describe(method, path, host),
  });
  const h1 = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const { type, text } = plain(req.method ?? 'GET', req.url ?? '/', req.headers.host);
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  const h2 = http2.createServer();
  h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    if (/^application\/grpc($|[+;])/.test(String(headers['content-type'] ?? ''))) {
      serveRides(stream, String(headers[':path']), who);
      return;
    }
    stream.resume();
    const { type, text } = plain(String(headers[':method']), String(headers[':path']), headers[':authority']);
    stream.respond({ ':status': 200, 'content-type': type, 'content-length': Buffer.byteLength(text) });
    stream.end(text);
  });
  const sockets = new Set<Socket>();
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    sniffPreface(socket, SNIFF_TIMEOUT_MS, (protocol) => (protocol === 'h2' ? h2 : h1).emit('connection', socket));
  });
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, address, () => {
      front.off('error', reject);
      resolve({
        close: () =>
          new Promise<void>((done) => {
            front.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

function serveRides(stream: ServerHttp2Stream, path: string, who: DemoIdentity): void {
  const method = RIDES_METHODS[path];
  const decoder = new FrameDecoder(64 * 1024);
  let request: Buffer | null = null;
  stream.on('data', (chunk: Buffer) => {
    try {
      for (const f of decoder.push(chunk)) request ??= f.payload;
    } catch {
      finish(stream, GrpcStatus.RESOURCE_EXHAUSTED, 'request message too large');
    }
  });
  stream.on('end', () => {
    if (stream.headersSent || stream.destroyed) return;
    if (method === undefined) {
      finish(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`);
      return;
    }
    let req: Json;
    try {
      req = decodeMessage(method.request, request ?? Buffer.alloc(0));
    } catch {
      finish(stream, GrpcStatus.INTERNAL, 'cannot parse the request message');
      return;
    }
    if (path === '/rides.BookingService/RequestRide') {
      const id = createHash('sha1').update(`${req.rider}|${req.pickup}|${req.dropoff}`).digest('hex').slice(0, 6);
      send(stream, [
        encodeMessage(method.response, { rideId: `ride-${id}`, status: 'DRIVER_ASSIGNED', servedBy: who.service }),
      ]);
    } else if (path === '/rides.BookingService/CancelRide') {
      send(stream, [
        encodeMessage(method.response, { rideId: req.rideId ?? '', status: 'CANCELLED', servedBy: who.service }),
      ]);
    } else if (path === '/rides.TrackingService/StreamLocation') {
      streamLocations(stream, req, method.response, who);
    } else {
      finish(stream, GrpcStatus.UNIMPLEMENTED, `method ${path} not implemented`);
    }
  });
}

/** A driver heading north-east from Alexanderplatz, one update per interval. */
function streamLocations(stream: ServerHttp2Stream, req: Json, fields: Field[], who: DemoIdentity): void {
  const asked = typeof req.updates === 'number' ? req.updates : 3;
  const updates = Math.min(Math.max(asked, 1), MAX_UPDATES);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  let seq = 0;
  const next = (): void => {
    if (stream.destroyed) return;
    seq++;
    const msg = {
      rideId: String(req.rideId ?? ''),
      seq,
      lat: Math.round((52.5219 + seq * 0.0005) * 1e4) / 1e4,
      lng: Math.round((13.4132 + seq * 0.0005) * 1e4) / 1e4,
      servedBy: who.service,
    };
    const frame = encodeFrame(encodeMessage(fields, msg));
    if (seq >= updates) stream.end(frame);
    else {
      stream.write(frame);
      timer = setTimeout(next, LOCATION_INTERVAL_MS);
    }
  };
  let timer = setTimeout(next, 0);
  stream.on('close', () => clearTimeout(timer));
}

function send(stream: ServerHttp2Stream, messages: Buffer[]): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.concat(messages.map((m) => encodeFrame(m))));
}

/** A status without messages: trailers-only. */
function finish(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(message),
    },
    { endStream: true },
  );
}
