import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
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
  withTimeout,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('wire behaviour', () => {
  let origin: Origin;
  let special: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin('echo');
    special = await startOrigin('special', (req, res) => {
      if (req.url === '/special/hop') {
        res.writeHead(200, [
          'Connection',
          'X-Internal',
          'X-Internal',
          'secret',
          'Keep-Alive',
          'timeout=5',
          'X-Public',
          'yes',
        ]);
        res.end('ok');
      } else if (req.url === '/special/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        res.write('part1-');
        res.addTrailers({ 'x-checksum': 'abc123' });
        res.end('part2');
      } else if (req.url === '/special/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        for (let i = 0; i < 32; i++) res.write(chunk);
        res.end();
      } else {
        res.writeHead(200, { 'content-length': '5' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
      }
    });
    plane = await startPlane(
      simpleIR([
        route({
          hostname: 'example.com',
          path: { type: 'PathPrefix', value: '/special' },
          backends: [backend('special', endpointsOf(special.port))],
        }),
        route({ hostname: 'example.com', backends: [backend('echo', endpointsOf(origin.port))] }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await origin.close();
    await special.close();
  });

  test('forwards path, query and Host; sets X-Forwarded-For/-Proto and X-Request-Id', async () => {
    const r = await request(plane.port, { path: '/a/b?c=d', host: 'example.com:8080' });
    assert.equal(r.status, 200);
    const seen = json(r);
    assert.equal(seen.url, '/a/b?c=d');
    assert.equal(seen.headers.host, 'example.com:8080');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('appends the peer to an existing X-Forwarded-For and keeps a client X-Request-Id', async () => {
    const r = await request(plane.port, { headers: { 'x-forwarded-for': '10.0.0.1', 'x-request-id': 'abc' } });
    const seen = json(r);
    assert.equal(seen.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(seen.headers['x-request-id'], 'abc');
  });

  test('removes hop-by-hop request headers and the ones Connection names', async () => {
    const r = await request(plane.port, {
      headers: {
        connection: 'keep-alive, X-Secret',
        'x-secret': '1',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        te: 'gzip',
        'x-kept': 'yes',
      },
    });
    const h = json(r).headers;
    for (const name of ['x-secret', 'keep-alive', 'proxy-connection', 'te']) assert.equal(h[name], undefined, name);
    assert.equal(h['x-kept'], 'yes');
    assert.equal(json(await request(plane.port, { headers: { te: 'trailers' } })).headers.te, 'trailers');
  });

  test('removes hop-by-hop response headers', async () => {
    const r = await request(plane.port, { path: '/special/hop' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
    assert.equal(r.headers['x-internal'], undefined);
    assert.equal(r.headers['x-public'], 'yes');
    assert.notEqual(r.headers['keep-alive'], 'timeout=5');
  });

  test('dot segments are removed before routing and forwarding', async () => {
    const r = await request(plane.port, { path: '/special/../a/./b' });
    assert.equal(json(r).url, '/a/b');
  });

  test('a GET with a body is forwarded with its body (RFC 9110 gives it no meaning, but does not forbid it)', async () => {
    const r = await request(plane.port, { method: 'GET', path: '/get-body', body: 'query-in-body' });
    assert.equal(r.status, 200);
    assert.equal(json(r).method, 'GET');
    assert.equal(json(r).body, 'query-in-body');
  });

  test('bodies stream both ways: content-length and chunked', async () => {
    const fixed = await request(plane.port, {
      method: 'POST',
      body: 'hello body',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(json(fixed).body, 'hello body');
    assert.equal(json(fixed).headers['content-length'], '10');

    const chunked = await withTimeout(
      new Promise<string>((resolve, reject) => {
        const req = http.request(
          {
            host: LOOPBACK,
            port: plane.port,
            method: 'PUT',
            path: '/',
            headers: { host: 'example.com' },
            agent: false,
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve(Buffer.concat(parts).toString()));
          },
        );
        req.on('error', reject);
        req.write('one,');
        req.write('two,');
        req.end('three');
      }),
      5000,
      'chunked upload',
    );
    const seen = JSON.parse(chunked) as { body: string; headers: Record<string, string> };
    assert.equal(seen.body, 'one,two,three');
    // Re-framed upstream: chunked, or a length when the whole body had already arrived.
    assert.ok(seen.headers['transfer-encoding'] === 'chunked' || seen.headers['content-length'] === '13');

    const big = await request(plane.port, { path: '/special/big' });
    assert.equal(big.body.length, 32 * 64 * 1024);
  });

  test('a chunked upload streams: the origin answers the first chunk before the client sends the rest', async () => {
    const streaming = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      req.on('data', (c: Buffer) => res.write(`got:${c.toString()};`));
      req.on('end', () => res.end('end'));
    });
    await new Promise<void>((r) => streaming.listen(0, LOOPBACK, r));
    const port = (streaming.address() as net.AddressInfo).port;
    const p2 = await startPlane(simpleIR([route({ backends: [backend('s', endpointsOf(port))] })]));
    try {
      const text = await withTimeout(
        new Promise<string>((resolve, reject) => {
          const req = http.request(
            { host: LOOPBACK, port: p2.port, method: 'POST', path: '/', headers: { host: 'x' }, agent: false },
            (res) => {
              let body = '';
              res.on('data', (c: Buffer) => {
                body += c.toString();
                if (body === 'got:first;') req.end('second');
              });
              res.on('end', () => resolve(body));
            },
          );
          req.on('error', reject);
          req.flushHeaders();
          req.write('first');
        }),
        5000,
        'streaming round trip',
      );
      assert.equal(text, 'got:first;got:second;end');
    } finally {
      await p2.close();
      await new Promise<void>((r) => streaming.close(() => r()));
    }
  });

  test('HEAD gets headers without a body', async () => {
    const r = await request(plane.port, { method: 'HEAD', path: '/special/head' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '5');
    assert.equal(r.body, '');
  });

  test('response trailers are passed through', async () => {
    const r = await request(plane.port, { path: '/special/trailers', headers: { te: 'trailers' } });
    assert.equal(r.body, 'part1-part2');
    assert.equal(r.trailers['x-checksum'], 'abc123');
  });

  test('Expect: 100-continue is answered by the gateway once the request is routed', async () => {
    const socket = net.connect(plane.port, LOOPBACK);
    await once(socket, 'connect');
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    socket.write(
      'POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    await withTimeout(
      (async () => {
        while (!Buffer.concat(got).toString().includes('100 Continue')) await once(socket, 'data');
      })(),
      3000,
      '100 Continue',
    );
    socket.write('ping');
    await withTimeout(once(socket, 'end'), 3000, 'response');
    const text = Buffer.concat(got).toString();
    assert.match(text, /HTTP\/1.1 200 OK/);
    assert.match(text, /"body":"ping"/);
    socket.destroy();
  });

  test('no listener or route for the Host → 404', async () => {
    const r = await request(plane.port, { host: 'other.org', path: '/x' });
    assert.equal(r.status, 404);
    const raw = await rawExchange(plane.port, 'GET /x HTTP/1.0\r\n\r\n');
    assert.match(raw.text, /^HTTP\/1.1 404/);
  });
});
