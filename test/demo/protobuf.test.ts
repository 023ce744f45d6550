/** The hand-written proto3 codec of the demo and test gRPC servers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtoReader, ProtoWriter, readFields } from '../../src/demo/protobuf.ts';
import { decodeEchoResponse, encodeEchoResponse, type EchoResponse } from '../support/grpc-echo/messages.ts';

test('bytes on the wire match protoc for strings, varints, doubles and nested messages', () => {
  // message { string a = 1; int32 b = 2; double c = 3; Inner d = 4 { string x = 1 } }
  const buf = new ProtoWriter()
    .string(1, 'hi')
    .int(2, 300)
    .double(3, 1.5)
    .message(4, new ProtoWriter().string(1, 'x'))
    .finish();
  // 0a 02 "hi" | 10 ac02 (300) | 19 <1.5 little-endian> | 22 03 (0a 01 "x")
  assert.equal(buf.toString('hex'), '0a026869' + '10ac02' + '19000000000000f83f' + '22030a0178');
});

test('proto3 defaults are left off the wire; negative int32 takes ten bytes', () => {
  assert.equal(new ProtoWriter().string(1, '').int(2, 0).double(3, 0).finish().length, 0);
  const neg = new ProtoWriter().int(1, -1).finish();
  assert.equal(neg.length, 11);
  assert.equal(ProtoReader.of(neg).int(1), -1);
});

test('reading: last value wins for singular fields, repeated ones in order, unknown fields skipped', () => {
  const buf = Buffer.concat([
    new ProtoWriter().string(1, 'first').int(9, 7).finish(),
    Buffer.from([0x2d, 1, 2, 3, 4]), // field 5, fixed32: unknown, skipped
    new ProtoWriter().string(1, 'second').string(2, 'a').string(2, 'b').finish(),
  ]);
  const r = ProtoReader.of(buf);
  assert.equal(r.string(1), 'second');
  assert.deepEqual(r.strings(2), ['a', 'b']);
  assert.equal(r.int(9), 7);
  assert.equal(r.string(3), '');
});

test('truncated and malformed input throws', () => {
  assert.throws(() => readFields(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);
  assert.throws(() => readFields(Buffer.from([0x08])), /truncated varint/);
  assert.throws(() => readFields(Buffer.from([0x0b])), /wire type 3/);
});

test('EchoResponse (grpc-echo.proto) round-trips, tag bytes as GRPC-ECHO.md lists them', () => {
  const r: EchoResponse = {
    assertions: {
      fullyQualifiedMethod: '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo',
      headers: [
        { key: ':authority', value: 'foo.bar.com' },
        { key: 'x-a', value: '1' },
        { key: 'x-a', value: '2' },
      ],
      authority: 'foo.bar.com',
      context: {
        namespace: 'gateway-conformance-infra',
        ingress: '',
        serviceName: '',
        pod: 'grpc-infra-backend-v1-a-b',
      },
      tlsAssertions: {
        version: 'TLSv1.3',
        negotiatedProtocol: 'h2',
        serverName: 'abc.example.com',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        peerCertificates: [],
      },
    },
  };
  const buf = encodeEchoResponse(r);
  assert.equal(buf[0], 0x0a); // assertions
  const assertions = ProtoReader.of(buf).message(1)!;
  assert.deepEqual(
    [...new Set(assertions.fields.map((f) => (f.field << 3) | f.wire))].map((t) => t.toString(16)),
    ['a', '12', '1a', '22', '2a'],
  );
  assert.deepEqual(decodeEchoResponse(buf), r);
  assert.deepEqual(decodeEchoResponse(Buffer.alloc(0)), {});
});
