/**
 * gRPC test kit: a programmable gRPC origin on node:http2 (h2c, port 0),
 * IR builders for gRPC routes, and a grpc-web client over HTTP/1.1.
 */
import http from 'node:http';
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { HTTPRouteIR, WeightedBackendIR } from '../../../src/ir/types.ts';
import { encodeFrame, FrameDecoder, parseTrailerFrame, TRAILER_FLAG } from '../../../src/proxy/grpc/frames.ts';
import { backend, endpointsOf, LOOPBACK, route, withTimeout } from '../helpers.ts';

export type GrpcHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

export interface GrpcOrigin {
  port: number;
  /** Headers of every call received, in order. */
  calls: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A gRPC server answering `handlers[path]`, and trailers-only UNIMPLEMENTED for any other path. */
export async function startGrpcOrigin(handlers: Record<string, GrpcHandler>): Promise<GrpcOrigin> {
  const calls: IncomingHttpHeaders[] = [];
  const sessions = new Set<ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    calls.push(headers);
    const h = handlers[String(headers[':path'])];
    if (h) h(stream, headers);
    else {
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
    }
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Reads every request message, then calls `done` with them. */
export function readMessages(stream: ServerHttp2Stream, done: (messages: Buffer[]) => void): void {
  const decoder = new FrameDecoder();
  const messages: Buffer[] = [];
  stream.on('data', (c: Buffer) => {
    for (const f of decoder.push(c)) messages.push(f.payload);
  });
  stream.on('end', () => done(messages));
}

/** Answers with these messages and trailers (status 0 unless the trailers say otherwise). */
export function reply(stream: ServerHttp2Stream, messages: Buffer[], trailers: Record<string, string> = {}): void {
  if (stream.destroyed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', ...trailers }));
  stream.end(Buffer.concat(messages.map((m) => encodeFrame(m))));
}

/** A gRPC backendRef (appProtocol grpc → h2c) to these ports. */
export function grpcBackend(name: string, ...ports: number[]): WeightedBackendIR {
  return backend(name, endpointsOf(...ports), { protocol: 'grpc' });
}

/** A GRPCRoute entry as the translator writes it: `/<service>/<method>` exact, or `/<service>` prefix. */
export function grpcRoute(service: string, method: string | null, partial: Partial<HTTPRouteIR> = {}): HTTPRouteIR {
  return route({
    path:
      method === null
        ? { type: 'PathPrefix', value: `/${service}` }
        : { type: 'Exact', value: `/${service}/${method}` },
    grpc: true,
    ...partial,
  });
}

export interface WebReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The response body as received (base64 text for -text). */
  raw: Buffer;
  messages: Buffer[];
  /** From the trailer frame; empty when there was none. */
  trailers: Array<[string, string]>;
  /** grpc-status from the trailer frame, else from the headers; undefined when neither has one. */
  code: number | undefined;
}

/** One grpc-web call over HTTP/1.1 (binary, or base64 with `text`). */
export function grpcWebCall(
  port: number,
  path: string,
  messages: Buffer[],
  opts: { text?: boolean; host?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<WebReply> {
  const body = Buffer.concat(messages.map((m) => encodeFrame(m)));
  const payload = opts.text ? Buffer.from(body.toString('base64')) : body;
  return withTimeout(
    new Promise<WebReply>((resolve, reject) => {
      const req = http.request(
        {
          host: LOOPBACK,
          port,
          method: 'POST',
          path,
          agent: false,
          headers: {
            host: opts.host ?? 'example.com',
            'content-type': opts.text ? 'application/grpc-web-text' : 'application/grpc-web+proto',
            'x-grpc-web': '1',
            'content-length': String(payload.length),
            ...opts.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            const bytes = opts.text ? decodeBase64Segments(raw.toString('latin1')) : raw;
            const frames = new FrameDecoder().push(bytes);
            const out: WebReply = {
              status: res.statusCode ?? 0,
              headers: res.headers,
              raw,
              messages: [],
              trailers: [],
              code: undefined,
            };
            for (const f of frames) {
              if ((f.flags & TRAILER_FLAG) !== 0) out.trailers.push(...parseTrailerFrame(f.payload));
              else out.messages.push(f.payload);
            }
            const fromFrame = out.trailers.find(([n]) => n === 'grpc-status')?.[1];
            const fromHeaders = res.headers['grpc-status'];
            const code = fromFrame ?? (typeof fromHeaders === 'string' ? fromHeaders : undefined);
            out.code = code === undefined ? undefined : Number(code);
            resolve(out);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    }),
    opts.timeoutMs ?? 5000,
    `grpc-web ${path}`,
  );
}

/** base64 that may hold several padded segments (how grpc-web-text bodies arrive). */
export function decodeBase64Segments(text: string): Buffer {
  const parts: Buffer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const pad = rest.indexOf('=');
    if (pad === -1) {
      parts.push(Buffer.from(rest, 'base64'));
      break;
    }
    let end = pad;
    while (rest[end] === '=') end++;
    parts.push(Buffer.from(rest.slice(0, end), 'base64'));
    rest = rest.slice(end);
  }
  return Buffer.concat(parts);
}
