import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
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

describe('bad requests get a 4xx and the gateway keeps serving', () => {
  let origin: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin();
    plane = await startPlane(simpleIR([route({ backends: [backend('echo', endpointsOf(origin.port))] })]));
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  const cases: Array<[string, string, RegExp]> = [
    ['malformed request line', 'GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['space in the target', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['oversized headers', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    [
      'too many headers',
      `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 120 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`,
      /^HTTP\/1\.1 431 /,
    ],
    [
      'duplicate Content-Length',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      /^HTTP\/1\.1 400 /,
    ],
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /^HTTP\/1\.1 400 /,
    ],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 /],
    [
      'chunked on HTTP/1.0',
      'POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /^HTTP\/1\.1 400 /,
    ],
    ['HTTP/2.0 on an HTTP/1 socket', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 (400|505) /],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', /^HTTP\/1\.1 (400|405) /],
    ['fragment in the target', 'GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
  ];

  for (const [name, bytes, expected] of cases) {
    test(name, async () => {
      const before = origin.seen.length;
      const r = await rawExchange(plane.port, bytes);
      assert.match(r.text, expected);
      assert.ok(r.closed, 'connection closed');
      assert.equal(origin.seen.length, before, 'nothing forwarded');
    });
  }

  test('absolute-form targets are routed by their authority', async () => {
    const r = await rawExchange(
      plane.port,
      'GET http://abs.example/p?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n',
    );
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    const seen = origin.seen.at(-1)!;
    assert.equal(seen.url, '/p?q=1');
    assert.equal(seen.headers.host, 'abs.example');
  });

  test('still serving', async () => {
    const r = await request(plane.port, { path: '/ok' });
    assert.equal(r.status, 200);
    assert.equal(json(r).url, '/ok');
  });
});
