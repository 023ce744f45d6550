/** grpc-web (binary and text) from an HTTP/1.1 client, translated to gRPC towards an h2c backend and back. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { encodeFrame } from '../../../src/proxy/grpc/frames.ts';
import { deadPort, LOOPBACK, route, simpleIR, startPlane, type RunningPlane } from '../helpers.ts';
import {
  decodeBase64Segments,
  grpcBackend,
  grpcRoute,
  grpcWebCall,
  readMessages,
  reply,
  startGrpcOrigin,
  type GrpcOrigin,
} from './helpers.ts';

const SVC = 'demo.Echo';

describe('grpc-web', () => {
  let origin: GrpcOrigin;
  let plane: RunningPlane;
  let dead: number;

  before(async () => {
    origin = await startGrpcOrigin({
      [`/${SVC}/Unary`]: (stream) =>
        readMessages(stream, (msgs) =>
          reply(stream, [Buffer.from(`echo:${msgs.map(String).join('|')}`)], { 'x-trailer': 'yes' }),
        ),
      [`/${SVC}/Stream`]: (stream) =>
        readMessages(stream, () =>
          reply(
            stream,
            [1, 2, 3, 4, 5].map((i) => Buffer.from(`msg-${i}-${'x'.repeat(i)}`)),
          ),
        ),
      [`/${SVC}/NotFound`]: (stream) => {
        stream.resume();
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '5',
            'grpc-message': 'no%20such%20ride',
          },
          { endStream: true },
        );
      },
    });
    dead = await deadPort();
    plane = await startPlane(
      simpleIR([
        grpcRoute('demo.Dead', null, { backends: [grpcBackend('dead', dead)] }),
        grpcRoute(SVC, null, {
          backends: [grpcBackend('echo', origin.port)],
          filters: [
            {
              type: 'CORS',
              cors: {
                allowOrigins: ['https://app.example'],
                allowMethods: ['POST'],
                allowHeaders: ['content-type', 'x-grpc-web', 'x-user-agent', 'grpc-timeout'],
                exposeHeaders: ['x-trailer'],
                allowCredentials: false,
              },
            },
          ],
        }),
        route({ path: { type: 'PathPrefix', value: '/plain' }, backends: [grpcBackend('echo', origin.port)] }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  test('binary: the backend gets gRPC, the client gets its message and a trailer frame', async () => {
    const r = await grpcWebCall(plane.port, `/${SVC}/Unary`, [Buffer.from('hello')]);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
    assert.equal(r.headers['content-length'], undefined);
    assert.deepEqual(r.messages.map(String), ['echo:hello']);
    assert.deepEqual(r.trailers, [
      ['grpc-status', '0'],
      ['x-trailer', 'yes'],
    ]);
    assert.equal(r.code, 0);
    const seen = origin.calls.at(-1)!;
    assert.equal(seen['content-type'], 'application/grpc+proto');
    assert.equal(seen.te, 'trailers');
    assert.equal(seen['x-grpc-web'], '1');
  });

  test('text: base64 both ways, the trailer frame included', async () => {
    const r = await grpcWebCall(plane.port, `/${SVC}/Unary`, [Buffer.from('ünïcode')], { text: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc-web-text+proto');
    assert.match(r.raw.toString('latin1'), /^[A-Za-z0-9+/=]+$/);
    assert.deepEqual(r.messages.map(String), ['echo:ünïcode']);
    assert.equal(r.code, 0);
    assert.equal(origin.calls.at(-1)!['content-type'], 'application/grpc');
    assert.equal(origin.calls.at(-1)!['content-length'], undefined);
  });

  test('text: messages base64-encoded one by one (padding mid-body), sent in odd-sized pieces', async () => {
    const body =
      encodeFrame(Buffer.from('a')).toString('base64') + encodeFrame(Buffer.from('bcdefgh')).toString('base64');
    assert.ok(body.indexOf('=') < body.length - 2, 'padding inside the body');
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: LOOPBACK,
          port: plane.port,
          method: 'POST',
          path: `/${SVC}/Unary`,
          agent: false,
          headers: { host: 'example.com', 'content-type': 'application/grpc-web-text', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < body.length; i += 3) req.write(body.slice(i, i + 3));
      req.end();
    });
    assert.equal(reply.status, 200);
    assert.ok(decodeBase64Segments(reply.text).includes(Buffer.from('echo:a|bcdefgh')));
  });

  test('server streaming, binary and text: every message in order, then the trailers', async () => {
    for (const text of [false, true]) {
      const r = await grpcWebCall(plane.port, `/${SVC}/Stream`, [Buffer.from('go')], { text });
      assert.deepEqual(
        r.messages.map(String),
        [1, 2, 3, 4, 5].map((i) => `msg-${i}-${'x'.repeat(i)}`),
      );
      assert.equal(r.code, 0);
    }
  });

  test("a backend's trailers-only error stays in the headers (no body)", async () => {
    const r = await grpcWebCall(plane.port, `/${SVC}/NotFound`, [Buffer.from('x')]);
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '5');
    assert.equal(r.headers['grpc-message'], 'no%20such%20ride');
    assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
    assert.equal(r.raw.length, 0);
  });

  test('no route: UNIMPLEMENTED, trailers-only, as grpc-web', async () => {
    for (const text of [false, true]) {
      const r = await grpcWebCall(plane.port, '/other.Service/Method', [Buffer.from('x')], { text });
      assert.equal(r.status, 200);
      assert.equal(r.headers['grpc-status'], '12');
      assert.equal(r.headers['content-type'], text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto');
      assert.equal(r.raw.length, 0);
    }
  });

  test('a dead backend: UNAVAILABLE with the reason in grpc-message', async () => {
    const r = await grpcWebCall(plane.port, '/demo.Dead/Call', [Buffer.from('x')]);
    assert.equal(r.status, 200);
    assert.equal(r.code, 14);
    assert.match(decodeURIComponent(String(r.headers['grpc-message'])), /connection failure/);
  });

  test('CORS: the preflight stays plain HTTP; the answer exposes grpc-status and grpc-message', async () => {
    const pre = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({
        host: LOOPBACK,
        port: plane.port,
        method: 'OPTIONS',
        path: `/${SVC}/Unary`,
        agent: false,
        headers: {
          host: 'example.com',
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-grpc-web',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(pre.statusCode, 200);
    assert.equal(pre.headers['grpc-status'], undefined);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');

    const ok = await grpcWebCall(plane.port, `/${SVC}/Unary`, [Buffer.from('x')], {
      headers: { origin: 'https://app.example' },
    });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(ok.headers['access-control-expose-headers'], 'x-trailer,grpc-status,grpc-message');

    const err = await grpcWebCall(plane.port, `/${SVC}/NotFound`, [Buffer.from('x')], {
      headers: { origin: 'https://app.example' },
    });
    assert.equal(err.headers['access-control-expose-headers'], 'x-trailer,grpc-status,grpc-message');
    assert.equal(err.code, 5);
  });

  test('an HTTPRoute to a gRPC backend translates grpc-web too', async () => {
    const r = await grpcWebCall(plane.port, `/plain/x`, [Buffer.from('x')]);
    // The origin knows no /plain/x: its UNIMPLEMENTED comes back as grpc-web.
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc-web+proto');
    assert.equal(r.code, 12);
  });
});
