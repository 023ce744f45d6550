/**
 * A tiny gRPC client for this example (grpcurl is not needed): one call to
 * a method of rides.proto, printing each response message as JSON and then
 * the call's status, like a mobile app would see them.
 *
 *   node --import tsx examples/grpc-routing/client.ts [--authority HOST] [-d JSON] [--web] ADDRESS SERVICE/METHOD
 *
 * It speaks gRPC over cleartext HTTP/2 (prior knowledge), or with `--web`
 * gRPC-Web over HTTP/1.1, as a browser would. Exit status 0 for OK, 1 for
 * any other gRPC status, 2 for a usage error.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { parseArgs } from 'node:util';
import { decodeMessage, encodeMessage, RIDES_METHODS } from '../../src/demo/rides.ts';
import { encodeFrame, FrameDecoder, parseTrailerFrame, TRAILER_FLAG } from '../../src/proxy/grpc/frames.ts';
import { decodeGrpcMessage } from '../../src/proxy/grpc/status.ts';

/** grpc-go's names for the status codes, as grpcurl prints them. */
const CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** What a client concludes without a grpc-status (the standard HTTP-to-gRPC mapping). */
function codeForHttp(status: number): number {
  if (status === 400) return 13;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 12;
  if ([429, 502, 503, 504].includes(status)) return 14;
  return 2;
}

interface Outcome {
  messages: Buffer[];
  code: number;
  message: string;
}

function statusFrom(get: (name: string) => string | undefined, httpStatus: number): { code: number; message: string } {
  const code = get('grpc-status');
  if (code === undefined)
    return { code: httpStatus === 200 ? 13 : codeForHttp(httpStatus), message: `HTTP ${httpStatus}` };
  return { code: Number(code), message: decodeGrpcMessage(get('grpc-message') ?? '') };
}

/** gRPC over h2c: status from the trailers, or from headers that end the stream (trailers-only). */
function callH2(address: string, authority: string | undefined, path: string, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    const out: Outcome = { messages: [], code: 14, message: 'no response' };
    session.on('error', (err: Error) => {
      out.message = err.message;
      resolve(out);
    });
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      ...(authority ? { ':authority': authority } : {}),
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const decoder = new FrameDecoder();
    let httpStatus = 0;
    let grpcBody = false;
    stream.on('response', (h, flags) => {
      httpStatus = Number(h[':status']);
      grpcBody = String(h['content-type']).startsWith('application/grpc');
      const endsStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (endsStream)
        Object.assign(
          out,
          statusFrom((n) => h[n] as string | undefined, httpStatus),
        );
    });
    stream.on('data', (c: Buffer) => {
      if (!grpcBody) return; // an HTTP error page: the status says what happened
      try {
        for (const f of decoder.push(c)) out.messages.push(f.payload);
      } catch {
        grpcBody = false;
        out.message = 'malformed gRPC message';
      }
    });
    stream.on('trailers', (t: http2.IncomingHttpHeaders) => {
      Object.assign(
        out,
        statusFrom((n) => t[n] as string | undefined, httpStatus),
      );
    });
    stream.on('error', (err: Error) => (out.message = err.message));
    stream.on('close', () => {
      session.close();
      resolve(out);
    });
    stream.end(encodeFrame(body));
  });
}

/** gRPC-Web over HTTP/1.1: the status from the trailer frame at the end of the body, or from the headers. */
function callWeb(address: string, authority: string | undefined, path: string, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.request(
      `http://${address}${path}`,
      {
        method: 'POST',
        headers: {
          ...(authority ? { host: authority } : {}),
          'content-type': 'application/grpc-web+proto',
          'x-grpc-web': '1',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out: Outcome = { messages: [], ...statusFrom((n) => res.headers[n] as string, res.statusCode ?? 0) };
          if (!String(res.headers['content-type']).startsWith('application/grpc-web')) {
            resolve(out);
            return;
          }
          let frames: ReturnType<FrameDecoder['push']> = [];
          try {
            frames = new FrameDecoder().push(Buffer.concat(chunks));
          } catch {
            resolve({ ...out, code: 13, message: 'malformed gRPC-Web body' });
            return;
          }
          for (const f of frames) {
            if ((f.flags & TRAILER_FLAG) === 0) {
              out.messages.push(f.payload);
              continue;
            }
            const trailers = new Map(parseTrailerFrame(f.payload));
            Object.assign(
              out,
              statusFrom((n) => trailers.get(n), res.statusCode ?? 0),
            );
          }
          resolve(out);
        });
      },
    );
    req.on('error', (err) => resolve({ messages: [], code: 14, message: err.message }));
    req.end(encodeFrame(body));
  });
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { authority: { type: 'string' }, d: { type: 'string', short: 'd' }, web: { type: 'boolean' } },
  });
  const [address, name] = positionals;
  const path = `/${name ?? ''}`;
  const method = RIDES_METHODS[path];
  if (address === undefined || method === undefined) {
    process.stderr.write(
      `usage: client.ts [--authority HOST] [-d JSON] [--web] ADDRESS SERVICE/METHOD\n` +
        `methods: ${Object.keys(RIDES_METHODS)
          .map((m) => m.slice(1))
          .join(', ')}\n`,
    );
    return 2;
  }
  const request = encodeMessage(method.request, JSON.parse(values.d ?? '{}') as Record<string, unknown>);
  const call = values.web ? callWeb : callH2;
  const out = await call(address, values.authority, path, request);
  for (const m of out.messages) process.stdout.write(`${JSON.stringify(decodeMessage(method.response, m))}\n`);
  const code = CODES[out.code] ?? `Code(${out.code})`;
  process.stdout.write(
    out.code === 0 || out.message === '' ? `status: ${code}\n` : `status: ${code}: ${out.message}\n`,
  );
  return out.code === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
