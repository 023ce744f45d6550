import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  json,
  rawExchange,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';
import { h2Connect, h2Request } from '../tls-kit.ts';

describe('HTTP/2 with prior knowledge (h2c) and HTTP/1.1 on one cleartext port', () => {
  let origin: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin('o', (req, res, body) => {
      if (req.url === '/trailers') {
        res.writeHead(200, { trailer: 'x-checksum' });
        res.write('part');
        res.addTrailers({ 'x-checksum': 'abc' });
        res.end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['a=1', 'b=2'],
        connection: 'keep-alive',
      });
      res.end(
        JSON.stringify({ url: req.url, method: req.method, headers: req.headers, body, version: req.httpVersion }),
      );
    });
    plane = await startPlane(
      simpleIR([
        route({ path: { type: 'PathPrefix', value: '/missing' }, directResponse: { statusCode: 404 } }),
        route({ backends: [backend('o', endpointsOf(origin.port))] }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  test('an h2c request goes through the same routing and forwarding as HTTP/1.1', async () => {
    const s = await h2Connect(`http://${LOOPBACK}:${plane.port}`);
    try {
      assert.equal(s.remoteSettings.maxConcurrentStreams, 100);
      const r = await h2Request(
        s,
        {
          ':method': 'POST',
          ':path': '/echo?x=1',
          ':authority': 'h2.example',
          cookie: ['a=1', 'b=2'],
          'x-custom': 'v',
        },
        'payload',
      );
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body) as {
        url: string;
        headers: Record<string, string>;
        body: string;
        version: string;
      };
      assert.equal(seen.url, '/echo?x=1');
      assert.equal(seen.version, '1.1', 'HTTP/1.1 upstream');
      assert.equal(seen.headers.host, 'h2.example');
      assert.equal(seen.headers.cookie, 'a=1; b=2', 'cookie fields joined for HTTP/1.1');
      assert.equal(seen.headers['x-custom'], 'v');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.body, 'payload');
      assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(r.headers.connection, undefined, 'connection-specific headers dropped');
    } finally {
      s.close();
    }
  });

  test('many concurrent streams on one session; trailers; a local 404', async () => {
    const s = await h2Connect(`http://${LOOPBACK}:${plane.port}`);
    try {
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => h2Request(s, { ':path': `/n/${i}`, ':authority': 'a.example' })),
      );
      replies.forEach((r, i) => assert.equal((JSON.parse(r.body) as { url: string }).url, `/n/${i}`));
      const t = await h2Request(s, { ':path': '/trailers', ':authority': 'a.example' });
      assert.equal(t.body, 'part');
      assert.equal(t.trailers['x-checksum'], 'abc');
      const missing = await h2Request(s, { ':path': '/missing', ':authority': 'a.example' });
      assert.equal(missing.status, 404);
      // Answered before its body was read: the large body does not stall the stream or the session.
      const early = await h2Request(
        s,
        { ':method': 'POST', ':path': '/missing', ':authority': 'a.example' },
        Buffer.alloc(512 * 1024),
      );
      assert.equal(early.status, 404);
      const after = await h2Request(s, { ':path': '/n/after', ':authority': 'a.example' });
      assert.equal(after.status, 200);
    } finally {
      s.close();
    }
  });

  test('HTTP/1.1 still works on the port, POST included (first byte P); a split preface is still HTTP/2', async () => {
    const r = await request(plane.port, { method: 'POST', path: '/p', body: 'b' });
    assert.equal(r.status, 200);
    assert.equal(json(r).body, 'b');
    const pri = await rawExchange(plane.port, 'PRI / HTTP/1.1\r\nhost: x\r\n\r\n', 1000);
    assert.match(pri.text, /^HTTP\/1\.1 [45]\d\d/, 'a PRI method that is not the preface is HTTP/1');
    // The preface in two writes: still recognised (the server answers with its SETTINGS frame).
    const frames = await rawExchange(
      plane.port,
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]),
      300,
    );
    assert.equal(frames.text.charCodeAt(3), 4, 'SETTINGS frame');
  });

  test('HTTP/2 end to end: an h2c client to an h2c backend (HTTPRouteBackendProtocolH2C)', async () => {
    const h2Origin = http2.createServer();
    h2Origin.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200, 'x-proto': 'h2c', 'x-path': String(headers[':path']) });
      stream.end(String(headers[':authority']));
    });
    await new Promise<void>((r) => h2Origin.listen(0, LOOPBACK, r));
    const port = (h2Origin.address() as AddressInfo).port;
    const p = await startPlane(
      simpleIR([route({ backends: [backend('h2', endpointsOf(port), { protocol: 'h2c' })] })]),
    );
    const s = await h2Connect(`http://${LOOPBACK}:${p.port}`);
    try {
      const r = await h2Request(s, { ':path': '/', ':authority': 'h2c.example' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-proto'], 'h2c');
      assert.equal(r.body, 'h2c.example');
    } finally {
      s.close();
      await p.close();
      await new Promise<void>((r) => h2Origin.close(() => r()));
    }
  });

  test('a connection that sends nothing is closed after the headers timeout', async () => {
    const quick = await startPlane(simpleIR([route()]), { headersTimeoutMs: 200 });
    try {
      const started = Date.now();
      const r = await rawExchange(quick.port, Buffer.alloc(0), 3000);
      assert.ok(r.closed);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await quick.close();
    }
  });
});
