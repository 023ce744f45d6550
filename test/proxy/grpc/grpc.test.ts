/**
 * Native gRPC through the gateway: h2c clients (test/support/grpc-client.ts)
 * and h2c backends on loopback. Status and trailers pass through; the
 * gateway's own answers are trailers-only gRPC statuses.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { encodeFrame } from '../../../src/proxy/grpc/frames.ts';
import { grpcUnary } from '../../support/grpc-client.ts';
import { deadPort, request, simpleIR, startPlane, type RunningPlane } from '../helpers.ts';
import { grpcBackend, grpcRoute, readMessages, reply, startGrpcOrigin, type GrpcOrigin } from './helpers.ts';

const SVC = 'rides.Booking';

describe('gRPC through the gateway', () => {
  let origin: GrpcOrigin;
  let plane: RunningPlane;
  let url: string;

  before(async () => {
    origin = await startGrpcOrigin({
      [`/${SVC}/Request`]: (stream) =>
        readMessages(stream, (msgs) => {
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc+proto', 'x-served-by': 'origin' },
            { waitForTrailers: true },
          );
          stream.once('wantTrailers', () =>
            stream.sendTrailers({
              'grpc-status': '0',
              'grpc-message': '',
              'x-cost-bin': Buffer.from([1, 2]).toString('base64'),
            }),
          );
          stream.end(encodeFrame(Buffer.from(`ride for ${msgs.map(String).join(',')}`)));
        }),
      [`/${SVC}/Invalid`]: (stream) =>
        readMessages(stream, () =>
          reply(stream, [Buffer.from('partial')], { 'grpc-status': '3', 'grpc-message': 'bad%20pickup' }),
        ),
      [`/${SVC}/Slow`]: (stream) => stream.resume(),
      [`/${SVC}/SlowAttempt`]: (stream) => stream.resume(),
      [`/${SVC}/ResetEarly`]: (stream) => {
        stream.resume();
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      },
      [`/${SVC}/ResetLate`]: (stream) => {
        stream.resume();
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        stream.write(encodeFrame(Buffer.from('first')), () =>
          // destroy(err) sends RST_STREAM at once; close(code) would end the response cleanly first.
          setTimeout(() => stream.destroy(new Error('backend crashed')), 20),
        );
      },
    });
    const dead = await deadPort();
    const live = [grpcBackend('booking', origin.port)];
    plane = await startPlane(
      simpleIR([
        grpcRoute(SVC, 'Slow', { backends: live, timeouts: { requestMs: 150 } }),
        grpcRoute(SVC, 'SlowAttempt', { backends: live, timeouts: { backendRequestMs: 150 } }),
        grpcRoute('rides.Dead', null, { backends: [grpcBackend('dead', dead)] }),
        grpcRoute('rides.Empty', null, { backends: [grpcBackend('empty')] }),
        grpcRoute('rides.Invalid', null, { backends: [{ ...grpcBackend('invalid'), invalid: true }] }),
        grpcRoute(SVC, null, { backends: live }),
      ]),
    );
    url = `http://127.0.0.1:${plane.port}`;
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  test('unary: message, response headers and trailers pass through; te, grpc-timeout and content-type reach the backend', async () => {
    const r = await grpcUnary(url, `/${SVC}/Request`, Buffer.from('ana'), {
      authority: 'api.example.com',
      grpcTimeout: '5S',
      contentType: 'application/grpc+proto',
      metadata: { 'x-rider': 'ana' },
    });
    assert.equal(r.code, 0);
    assert.equal(r.trailersOnly, false);
    assert.deepEqual(r.messages.map(String), ['ride for ana']);
    assert.equal(r.headers['x-served-by'], 'origin');
    assert.equal(r.headers['content-type'], 'application/grpc+proto');
    assert.equal(r.trailers['x-cost-bin'], 'AQI=');
    const seen = origin.calls.at(-1)!;
    assert.equal(seen[':authority'], 'api.example.com');
    assert.equal(seen.te, 'trailers');
    assert.equal(seen['grpc-timeout'], '5S');
    assert.equal(seen['content-type'], 'application/grpc+proto');
    assert.equal(seen['x-rider'], 'ana');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  });

  test("a backend's error status after a message passes through untouched", async () => {
    const r = await grpcUnary(url, `/${SVC}/Invalid`, Buffer.from('x'));
    assert.equal(r.code, 3);
    assert.equal(r.message, 'bad pickup');
    assert.deepEqual(r.messages.map(String), ['partial']);
  });

  test("a backend's trailers-only answer stays trailers-only (status in headers that end the stream)", async () => {
    const r = await grpcUnary(url, `/${SVC}/Unknown`, Buffer.from('x'));
    assert.equal(r.code, 12);
    assert.equal(r.trailersOnly, true);
  });

  test('no route (path or host): UNIMPLEMENTED, HTTP 200, trailers-only', async () => {
    for (const [path, authority] of [
      ['/other.Service/Call', undefined],
      [`/${SVC}`, undefined],
    ] as const) {
      const r = await grpcUnary(url, path, Buffer.from('x'), authority ? { authority } : {});
      assert.equal(r.httpStatus, 200, path);
      assert.equal(r.trailersOnly, true, path);
      assert.equal(r.code, 12, path);
      assert.equal(r.headers['content-type'], 'application/grpc');
    }
  });

  test("a backend that refuses connections: UNAVAILABLE, with Envoy's reason as grpc-message", async () => {
    const r = await grpcUnary(url, '/rides.Dead/Call', Buffer.from('x'));
    assert.equal(r.httpStatus, 200);
    assert.equal(r.trailersOnly, true);
    assert.equal(r.code, 14);
    assert.match(r.message, /reset reason: connection failure/);
  });

  test('a backend without endpoints: UNAVAILABLE (no healthy upstream)', async () => {
    const r = await grpcUnary(url, '/rides.Empty/Call', Buffer.from('x'));
    assert.equal(r.code, 14);
    assert.equal(r.message, 'no healthy upstream');
  });

  test('route timeouts (request and per attempt): DEADLINE_EXCEEDED', async () => {
    for (const method of ['Slow', 'SlowAttempt']) {
      const started = Date.now();
      const r = await grpcUnary(url, `/${SVC}/${method}`, Buffer.from('x'));
      assert.equal(r.code, 4, method);
      assert.equal(r.trailersOnly, true);
      assert.equal(r.message, 'upstream request timeout');
      assert.ok(Date.now() - started < 2000);
    }
  });

  test('an invalid backendRef (HTTP 500): UNKNOWN, as Envoy maps 500', async () => {
    const r = await grpcUnary(url, '/rides.Invalid/Call', Buffer.from('x'));
    assert.equal(r.httpStatus, 200);
    assert.equal(r.code, 2);
  });

  test('a reset before the response: UNAVAILABLE; after it started: the client sees the stream cut', async () => {
    const early = await grpcUnary(url, `/${SVC}/ResetEarly`, Buffer.from('x'));
    assert.equal(early.code, 14);
    assert.match(early.message, /disconnect\/reset before headers/);
    const late = await grpcUnary(url, `/${SVC}/ResetLate`, Buffer.from('x'));
    assert.deepEqual(late.messages.map(String), ['first']);
    assert.equal(late.code, 13, late.message);
    assert.ok(late.rstCode !== undefined && late.rstCode !== 0);
  });

  test('a GRPCRoute answers gRPC-style even to a request that is not gRPC; CORS preflights excepted', async () => {
    const plain = await request(plane.port, { method: 'POST', path: '/rides.Dead/Call', body: 'x' });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['grpc-status'], '14');
    assert.equal(plain.headers['content-length'], '0');
    const preflight = await request(plane.port, {
      method: 'OPTIONS',
      path: '/rides.Dead/Call',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers['grpc-status'], undefined);
  });

  test('over HTTP/1.1, a gRPC request with no route is UNIMPLEMENTED too (content-type decides)', async () => {
    const r = await request(plane.port, {
      method: 'POST',
      path: '/nope.Service/Call',
      headers: { 'content-type': 'application/grpc' },
      body: encodeFrame(Buffer.alloc(0)),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '12');
    const html = await request(plane.port, { path: '/nope.Service/Call' });
    assert.equal(html.status, 404);
  });
});
