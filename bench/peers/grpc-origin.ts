/**
 * The gRPC section's call and origin. The call is unary
 * `/bench.Echo/Ping` with a small length-prefixed message (a protobuf
 * `string` field), as h2load sends it (`-d FILE`, POST) and as the probe
 * checks it; the origin is nginx answering every call with a fixed message
 * and `grpc-status: 0` in the trailers (origin-grpc.nginx.conf). nginx
 * rather than a Node gRPC server for the same reason as the HTTP origin:
 * the origin must be much faster than the proxies, on 2 shared cores.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const GRPC_SERVICE = 'bench.Echo';
export const GRPC_METHOD = 'Ping';
export const GRPC_PATH = `/${GRPC_SERVICE}/${GRPC_METHOD}`;

/** gRPC framing: 1 byte "compressed" flag, 4 bytes big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Protobuf field 1 (string): tag 0x0a, length, bytes. */
const pbString = (s: string): Buffer => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(s)]), Buffer.from(s)]);

export const GRPC_REQUEST = grpcFrame(pbString('ping from the sluice bench'));
export const GRPC_RESPONSE = grpcFrame(pbString('pong'));

/** Writes the request body file (for h2load) and the origin's answer; returns the request file. */
export function writeGrpcFiles(dir: string): { requestFile: string; root: string } {
  const root = join(dir, 'www');
  mkdirSync(join(root, GRPC_SERVICE), { recursive: true });
  writeFileSync(join(root, GRPC_SERVICE, GRPC_METHOD), GRPC_RESPONSE);
  const requestFile = join(dir, 'request.bin');
  writeFileSync(requestFile, GRPC_REQUEST);
  return { requestFile, root };
}
