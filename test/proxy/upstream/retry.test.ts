import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  closeServer,
  endpointsOf,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('retries', () => {
  let flaky: Origin;
  let plane: RunningPlane;
  let resetter: net.Server;
  let resetterPort = 0;
  const failuresLeft = new Map<string, number>();
  let resets = 0;
  let resetConnections = 0;

  before(async () => {
    // Fails `fail=N` times per `id` with `code`, then echoes.
    flaky = await startOrigin('flaky', (req, res, body) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const id = u.searchParams.get('id') ?? '';
      const left = failuresLeft.get(id) ?? Number(u.searchParams.get('fail') ?? 0);
      if (left > 0) {
        failuresLeft.set(id, left - 1);
        res.writeHead(Number(u.searchParams.get('code') ?? 500), { 'content-length': '4' });
        res.end('fail');
        return;
      }
      failuresLeft.set(id, 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, body }));
    });
    // Resets the first two connections, then behaves like a tiny HTTP server.
    resetter = net.createServer((s) => {
      s.on('error', () => {});
      resetConnections++;
      s.once('data', () => {
        if (resets < 2) {
          resets++;
          s.resetAndDestroy();
        } else {
          s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        }
      });
    });
    await new Promise<void>((r) => resetter.listen(0, LOOPBACK, r));
    resetterPort = (resetter.address() as net.AddressInfo).port;

    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/retry-500' },
          retry: { codes: [500], attempts: 3, backoffMs: 1 },
          backends: [backend('flaky', endpointsOf(flaky.port))],
        }),
        route({
          path: { type: 'PathPrefix', value: '/reset' },
          retry: { codes: [], attempts: 3, backoffMs: 1 },
          backends: [backend('resetter', endpointsOf(resetterPort))],
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await flaky.close();
    await closeServer(resetter);
  });

  test('a listed status is retried until success', async () => {
    const before = flaky.seen.length;
    const r = await request(plane.port, { path: '/retry-500?id=a&fail=2' });
    assert.equal(r.status, 200);
    assert.equal(flaky.seen.length - before, 3);
  });

  test('attempts are retries: 3 retries = 4 tries, then the last status is returned', async () => {
    const before = flaky.seen.length;
    const r = await request(plane.port, { path: '/retry-500?id=b&fail=5' });
    assert.equal(r.status, 500);
    assert.equal(flaky.seen.length - before, 4);
  });

  test('a status not listed is not retried', async () => {
    const before = flaky.seen.length;
    const r = await request(plane.port, { path: '/retry-500?id=c&fail=1&code=503' });
    assert.equal(r.status, 503);
    assert.equal(flaky.seen.length - before, 1);
  });

  test('a request body is replayed on each try', async () => {
    const r = await request(plane.port, { method: 'POST', path: '/retry-500?id=d&fail=1', body: 'payload' });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { body: string }).body, 'payload');
    assert.deepEqual(
      flaky.seen.slice(-2).map((s) => s.body),
      ['payload', 'payload'],
    );
  });

  test('connection resets are retried', async () => {
    const r = await request(plane.port, { path: '/reset' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
    assert.equal(resetConnections, 3);
  });
});
