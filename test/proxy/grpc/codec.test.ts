/** The pieces under the gRPC hooks: status mapping, content-types, framing, grpc-web encodings. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  encodeFrame,
  FrameDecoder,
  parseTrailerFrame,
  TRAILER_FLAG,
  trailerFrame,
} from '../../../src/proxy/grpc/frames.ts';
import { Base64Decoder, exposeGrpcStatus, GrpcWebResponse } from '../../../src/proxy/grpc/grpc-web.ts';
import { GrpcKind, grpcFormat, grpcKindOf } from '../../../src/proxy/grpc/kind.ts';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  grpcStatusForHttp,
  grpcStatusName,
} from '../../../src/proxy/grpc/status.ts';
import { decodeBase64Segments } from './helpers.ts';

test("HTTP → gRPC status: Envoy's table, 504 → DEADLINE_EXCEEDED", () => {
  const table: Array<[number, number]> = [
    [200, 0],
    [400, 13],
    [401, 16],
    [403, 7],
    [404, 12],
    [429, 14],
    [500, 2],
    [502, 14],
    [503, 14],
    [504, 4],
    [421, 2],
  ];
  for (const [http, grpc] of table) assert.equal(grpcStatusForHttp(http), grpc, String(http));
  assert.equal(grpcStatusName(12), 'UNIMPLEMENTED');
  assert.equal(grpcStatusName(99), 'CODE_99');
});

test('grpc-message percent-encoding round-trips, printable ASCII left alone', () => {
  assert.equal(encodeGrpcMessage('no healthy upstream'), 'no healthy upstream');
  assert.equal(encodeGrpcMessage('100% ünïcode\n'), '100%25 %C3%BCn%C3%AFcode%0A');
  for (const s of ['plain', '100% ünïcode\n', '日本', '%zz']) assert.equal(decodeGrpcMessage(encodeGrpcMessage(s)), s);
  assert.equal(decodeGrpcMessage('bad%2'), 'bad%2');
});

test('content-types: gRPC, grpc-web, grpc-web-text, with formats and parameters; look-alikes are not', () => {
  const kinds: Array<[string, GrpcKind]> = [
    ['application/grpc', GrpcKind.Grpc],
    ['application/grpc+proto', GrpcKind.Grpc],
    ['Application/GRPC; charset=utf-8', GrpcKind.Grpc],
    ['application/grpc-web', GrpcKind.Web],
    ['application/grpc-web+proto', GrpcKind.Web],
    ['application/grpc-web-text', GrpcKind.WebText],
    ['application/grpc-web-text+proto', GrpcKind.WebText],
    ['application/grpcx', GrpcKind.None],
    ['application/grpc-webx', GrpcKind.None],
    ['application/json', GrpcKind.None],
    ['', GrpcKind.None],
  ];
  for (const [ct, kind] of kinds) assert.equal(grpcKindOf(ct), kind, ct);
  assert.equal(grpcFormat('application/grpc-web-text+proto'), '+proto');
  assert.equal(grpcFormat('application/grpc+json; x=y'), '+json');
  assert.equal(grpcFormat('application/grpc'), '');
});

test('frames: decoded across arbitrary chunk boundaries; oversized frames refused', () => {
  const bytes = Buffer.concat([
    encodeFrame(Buffer.from('one')),
    encodeFrame(Buffer.alloc(0)),
    encodeFrame(Buffer.from('three')),
  ]);
  for (const size of [1, 2, 5, 7, bytes.length]) {
    const d = new FrameDecoder();
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i += size)
      for (const f of d.push(bytes.subarray(i, i + size))) got.push(String(f.payload));
    assert.deepEqual(got, ['one', '', 'three'], `chunks of ${size}`);
    assert.equal(d.buffered, 0);
  }
  assert.throws(() => new FrameDecoder(10).push(encodeFrame(Buffer.alloc(11))), /exceeds/);
});

test('grpc-web trailer frame: flag 0x80, lower-case `name:value\\r\\n` lines', () => {
  const f = trailerFrame([
    ['Grpc-Status', '0'],
    ['x-a', 'b c'],
  ]);
  assert.equal(f[0], TRAILER_FLAG);
  assert.equal(f.subarray(5).toString(), 'grpc-status:0\r\nx-a:b c\r\n');
  assert.deepEqual(parseTrailerFrame(f.subarray(5)), [
    ['grpc-status', '0'],
    ['x-a', 'b c'],
  ]);
});

test('grpc-web-text request bodies: padded segments and any chunking decode to the original bytes', async () => {
  const frames = [encodeFrame(Buffer.from('a')), encodeFrame(Buffer.from('bcdefghij')), encodeFrame(Buffer.from('ü'))];
  const text = frames.map((f) => f.toString('base64')).join('');
  for (const size of [1, 3, 4, 5, 13, text.length]) {
    const pieces: Buffer[] = [];
    for (let i = 0; i < text.length; i += size) pieces.push(Buffer.from(text.slice(i, i + size)));
    const out: Buffer[] = [];
    for await (const c of Readable.from(pieces).pipe(new Base64Decoder())) out.push(c as Buffer);
    assert.deepEqual(Buffer.concat(out), Buffer.concat(frames), `chunks of ${size}`);
  }
});

test('grpc-web-text responses: chunks encoded without padding until the end, whatever their sizes', () => {
  const body = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const w = new GrpcWebResponse(true);
  const headers = ['content-type', 'application/grpc', 'content-length', '100'];
  w.responseHeaders(headers);
  assert.deepEqual(headers, ['content-type', 'application/grpc-web-text+proto']);
  let text = '';
  for (let i = 0; i < body.length; i += 7) {
    const piece = w.encode(body.subarray(i, i + 7)).toString();
    assert.ok(!piece.includes('='), 'no padding mid-stream');
    text += piece;
  }
  text += w.finish([['grpc-status', '0']])!.toString();
  const decoded = decodeBase64Segments(text);
  assert.deepEqual(decoded.subarray(0, 100), body);
  assert.equal(decoded[100], TRAILER_FLAG);
});

test('grpc-web responses that are not gRPC pass through untouched', () => {
  const w = new GrpcWebResponse(true);
  const headers = ['content-type', 'text/html', 'content-length', '3'];
  w.responseHeaders(headers);
  assert.deepEqual(headers, ['content-type', 'text/html', 'content-length', '3']);
  assert.deepEqual(w.encode(Buffer.from('abc')), Buffer.from('abc'));
  assert.equal(w.finish(null), null);
});

test('CORS exposure: only with an allowed origin; merged with what is exposed already', () => {
  const none = ['content-type', 'application/grpc-web'];
  exposeGrpcStatus(none);
  assert.equal(none.length, 2);
  const fresh = ['access-control-allow-origin', 'https://a'];
  exposeGrpcStatus(fresh);
  assert.deepEqual(fresh.slice(2), ['access-control-expose-headers', 'grpc-status,grpc-message']);
  const merged = ['access-control-allow-origin', 'https://a', 'access-control-expose-headers', 'x-a, Grpc-Status'];
  exposeGrpcStatus(merged);
  assert.equal(merged[3], 'x-a, Grpc-Status,grpc-message');
  const star = ['access-control-allow-origin', '*', 'access-control-expose-headers', '*'];
  exposeGrpcStatus(star);
  assert.equal(star[3], '*');
});
