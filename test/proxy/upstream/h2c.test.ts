import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  json,
  request,
  route,
  simpleIR,
  startPlane,
  type RunningPlane,
} from '../helpers.ts';

describe('h2c upstream', () => {
  let server: http2.Http2Server;
  let plane: RunningPlane;
  let sessions = 0;
  const live = new Set<http2.ServerHttp2Session>();

  before(async () => {
    server = http2.createServer();
    server.on('session', (s) => {
      sessions++;
      live.add(s);
      s.on('close', () => live.delete(s));
    });
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const path = String(headers[':path']);
        if (path === '/trailers') {
          stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end('body');
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-origin': 'h2' });
        stream.end(
          JSON.stringify({
            url: path,
            method: headers[':method'],
            headers: {
              host: headers[':authority'],
              ...Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(':'))),
            },
            body: Buffer.concat(chunks).toString(),
          }),
        );
        if (path === '/goaway') stream.session?.goaway();
      });
    });
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    const port = (server.address() as AddressInfo).port;
    plane = await startPlane(simpleIR([route({ backends: [backend('h2', endpointsOf(port), { protocol: 'h2c' })] })]));
  });
  after(async () => {
    await plane.close();
    for (const s of live) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('an HTTP/1.1 request reaches the backend over HTTP/2 with :authority from Host', async () => {
    const r = await request(plane.port, { path: '/x?y=1', host: 'h2.example' });
    assert.equal(r.status, 200);
    const seen = json(r);
    assert.equal(seen.url, '/x?y=1');
    assert.equal(seen.headers.host, 'h2.example');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(r.headers['x-origin'], 'h2');
  });

  test('request bodies and response trailers', async () => {
    const r = await request(plane.port, {
      method: 'POST',
      path: '/post',
      body: 'data',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(json(r).body, 'data');
    const t = await request(plane.port, { path: '/trailers', headers: { te: 'trailers' } });
    assert.equal(t.body, 'body');
    assert.equal(t.trailers['grpc-status'], '0');
  });

  test('the session is reused, and replaced after GOAWAY', async () => {
    const before = sessions;
    await request(plane.port, { path: '/a' });
    await request(plane.port, { path: '/b' });
    assert.equal(sessions, before, 'same session');
    assert.equal((await request(plane.port, { path: '/goaway' })).status, 200);
    assert.equal((await request(plane.port, { path: '/after' })).status, 200);
    assert.equal(sessions, before + 1, 'a new session after GOAWAY');
  });
});
