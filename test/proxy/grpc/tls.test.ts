/** gRPC and grpc-web over HTTP/2 on a TLS listener (ALPN h2), as browsers and mobile apps reach a gateway. */
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { encodeFrame, FrameDecoder, parseTrailerFrame, TRAILER_FLAG } from '../../../src/proxy/grpc/frames.ts';
import { grpcUnary } from '../../support/grpc-client.ts';
import { gateway, listener, startPlane, withTimeout, type RunningPlane } from '../helpers.ts';
import { CertKit, certificateIR, h2Connect } from '../tls-kit.ts';
import { grpcBackend, grpcRoute, readMessages, reply, startGrpcOrigin, type GrpcOrigin } from './helpers.ts';

describe('gRPC over TLS (h2)', () => {
  const kit = new CertKit();
  let origin: GrpcOrigin;
  let plane: RunningPlane;
  let session: http2.ClientHttp2Session;

  before(async () => {
    origin = await startGrpcOrigin({
      '/rides.Booking/Request': (stream) =>
        readMessages(stream, (m) => reply(stream, [Buffer.from(`ok ${m.map(String).join()}`)], { 'x-t': 'v' })),
    });
    const pem = kit.leaf(null, { cn: 'api.rideshare.com', dns: ['api.rideshare.com'] });
    const routes = [
      grpcRoute('rides.Booking', null, { hostname: 'api.rideshare.com', backends: [grpcBackend('b', origin.port)] }),
    ];
    plane = await startPlane({
      gateways: [
        gateway([
          listener('https', routes, {
            protocol: 'HTTPS',
            hostname: 'api.rideshare.com',
            tls: { mode: 'Terminate', certificates: [certificateIR(pem)] },
          }),
        ]),
      ],
    });
    session = await h2Connect(`https://127.0.0.1:${plane.port}`, { servername: 'api.rideshare.com' });
  });
  after(async () => {
    session.close();
    await plane.close();
    await origin.close();
    kit.cleanup();
  });

  test('unary: message and trailers through', async () => {
    const r = await grpcUnary(session, '/rides.Booking/Request', Buffer.from('ana'), {
      authority: 'api.rideshare.com',
    });
    assert.equal(r.code, 0);
    assert.deepEqual(r.messages.map(String), ['ok ana']);
    assert.equal(r.trailers['x-t'], 'v');
  });

  test('no route: UNIMPLEMENTED, trailers-only', async () => {
    const r = await grpcUnary(session, '/rides.Other/Call', Buffer.alloc(0), { authority: 'api.rideshare.com' });
    assert.equal(r.code, 12);
    assert.equal(r.trailersOnly, true);
  });

  test('grpc-web over HTTP/2: trailer frame in the body, no HTTP/2 trailers', async () => {
    // Raw bytes (h2Request decodes the body as text, which mangles the 0x80 flag).
    const r = await withTimeout(
      new Promise<{ status: number; headers: http2.IncomingHttpHeaders; trailers: object; body: Buffer }>((resolve) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/rides.Booking/Request',
          ':authority': 'api.rideshare.com',
          'content-type': 'application/grpc-web+proto',
        });
        const chunks: Buffer[] = [];
        let headers: http2.IncomingHttpHeaders = {};
        let trailers = {};
        stream.on('response', (h: http2.IncomingHttpHeaders) => (headers = h));
        stream.on('trailers', (t: http2.IncomingHttpHeaders) => (trailers = t));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () =>
          resolve({ status: Number(headers[':status']), headers, trailers, body: Buffer.concat(chunks) }),
        );
        stream.end(encodeFrame(Buffer.from('web')));
      }),
      5000,
      'grpc-web over h2',
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
    assert.deepEqual(
      Object.keys(r.trailers).filter((k) => !k.startsWith(':')),
      [],
    );
    const frames = new FrameDecoder().push(r.body);
    assert.equal(String(frames[0].payload), 'ok web');
    assert.equal(frames[1].flags, TRAILER_FLAG);
    assert.deepEqual(parseTrailerFrame(frames[1].payload), [
      ['grpc-status', '0'],
      ['x-t', 'v'],
    ]);
  });
});
