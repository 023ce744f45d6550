import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { echoBody, errorBody } from './echo-body.ts';
import { parseGoDuration } from './go-duration.ts';
import { canonicalHeaderKey, echoHeaderMap, echoSetHeaders } from './headers.ts';
import { cleanPath, routeRequest } from './routing.ts';
import { encodeFrame, FrameParser, OP } from './ws-frames.ts';

describe('parseGoDuration', () => {
  test('units, fractions, sums and signs as Go reads them', () => {
    assert.equal(parseGoDuration('1s'), 1000);
    assert.equal(parseGoDuration('300ms'), 300);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('.5s'), 500);
    assert.equal(parseGoDuration('2us'), 0.002);
    assert.equal(parseGoDuration('2µs'), 0.002);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('-1s'), -1000);
  });
  test("errors carry Go's messages", () => {
    assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
    assert.throws(() => parseGoDuration('abc'), { message: 'time: invalid duration "abc"' });
    assert.throws(() => parseGoDuration('1'), { message: 'time: missing unit in duration "1"' });
    assert.throws(() => parseGoDuration('1x'), { message: 'time: unknown unit "x" in duration "1x"' });
    assert.throws(() => parseGoDuration('.s'), { message: 'time: invalid duration ".s"' });
  });
});

describe('headers', () => {
  test('canonical keys as textproto does it', () => {
    assert.equal(canonicalHeaderKey('x-header-add'), 'X-Header-Add');
    assert.equal(canonicalHeaderKey('ACCESS-control-REQUEST-method'), 'Access-Control-Request-Method');
    assert.equal(canonicalHeaderKey('x_under'), 'X_under');
    assert.equal(canonicalHeaderKey('bad name'), 'bad name');
  });
  test('echoed map: one element per line, no Host/Transfer-Encoding/pseudo-headers, values unsplit', () => {
    const map = echoHeaderMap([
      'Host',
      'a',
      'x-multi',
      'one, two',
      'X-MULTI',
      'three',
      ':authority',
      'a',
      'transfer-encoding',
      'chunked',
    ]);
    assert.deepEqual(map, { 'X-Multi': ['one, two', 'three'] });
  });
  test('Pragma: no-cache alone implies Cache-Control: no-cache (Go server behaviour)', () => {
    assert.deepEqual(echoHeaderMap(['Pragma', 'no-cache'])['Cache-Control'], ['no-cache']);
  });
  test('X-Echo-Set-Header: exact names, appends, empty names dropped, values trimmed', () => {
    assert.deepEqual(echoSetHeaders(['x-header-set: a , X-Foo:b', 'x-header-set:c', ':nope, ,']), [
      ['x-header-set', 'a,c'],
      ['X-Foo', 'b'],
    ]);
    assert.deepEqual(echoSetHeaders(['']), []);
    assert.deepEqual(echoSetHeaders(['X-Url: http://x:1/y']), [['X-Url', 'http://x:1/y']]);
  });
});

describe('echo body', () => {
  test('fields in Go struct order, one-space indentation, sorted header keys, HTML escaping', () => {
    const body = echoBody(
      { path: '/a?b=1&c=<x>', host: 'h', method: 'GET', proto: 'HTTP/1.1', headers: { B: ['2'], A: ['1'] } },
      { pod: 'p-1-2', namespace: 'ns', httpPort: '3000' },
    );
    assert.equal(
      body,
      [
        '{',
        ' "path": "/a?b=1\\u0026c=\\u003cx\\u003e",',
        ' "host": "h",',
        ' "method": "GET",',
        ' "proto": "HTTP/1.1",',
        ' "headers": {',
        '  "A": [',
        '   "1"',
        '  ],',
        '  "B": [',
        '   "2"',
        '  ]',
        ' },',
        ' "httpPort": "3000",',
        ' "namespace": "ns",',
        ' "ingress": "",',
        ' "service": "",',
        ' "pod": "p-1-2"',
        '}',
      ].join('\n'),
    );
    assert.equal(errorBody('time: invalid duration "x"'), '{"message":"time: invalid duration \\"x\\""}');
  });
  test('tls object only over TLS, optional fields left out when empty', () => {
    const j = JSON.parse(
      echoBody(
        {
          path: '/',
          host: 'h',
          method: 'GET',
          proto: 'HTTP/1.1',
          headers: {},
          tls: { version: 'TLSv1.3', serverName: '', cipherSuite: 'TLS_AES_128_GCM_SHA256' },
        },
        { pod: 'p', namespace: 'n', httpPort: '1' },
      ),
    ) as Record<string, unknown>;
    assert.deepEqual(j.tls, { version: 'TLSv1.3', serverName: '', cipherSuite: 'TLS_AES_128_GCM_SHA256' });
  });
});

describe('router', () => {
  test('ServeMux routes after the // rewrite', () => {
    assert.equal(routeRequest('GET', '/health').kind, 'health');
    assert.equal(routeRequest('GET', '/health?x').kind, 'health');
    assert.equal(routeRequest('GET', '/healthz').kind, 'echo');
    assert.equal(routeRequest('GET', '/status/404').kind, 'status');
    assert.equal(routeRequest('GET', '/retry/x?uuid=1').kind, 'retry');
    assert.equal(routeRequest('GET', '/ws').kind, 'ws');
    assert.equal(routeRequest('GET', '//ws').kind, 'ws');
    assert.equal(routeRequest('GET', '/a//b').kind, 'echo');
    assert.equal(routeRequest('GET', 'http://host/health').kind, 'health');
  });
  test('redirects: unclean paths and /status, /retry without the slash', () => {
    assert.deepEqual(routeRequest('GET', '/a/../b?q=1'), { kind: 'redirect', location: '/b?q=1' });
    assert.deepEqual(routeRequest('GET', '/status'), { kind: 'redirect', location: '/status/' });
    assert.deepEqual(routeRequest('GET', '/x/./'), { kind: 'redirect', location: '/x/' });
    assert.equal(routeRequest('GET', '/%zz').kind, 'bad-request');
  });
  test('cleanPath', () => {
    assert.equal(cleanPath('/a/b/../c/.'), '/a/c');
    assert.equal(cleanPath('/../a'), '/a');
    assert.equal(cleanPath('/'), '/');
  });
});

describe('websocket frames', () => {
  test('round trip, masked and unmasked, all three length encodings, split across chunks', () => {
    const sizes = [0, 5, 125, 126, 300, 70_000];
    const wire = Buffer.concat(sizes.map((n, i) => encodeFrame(OP.binary, Buffer.alloc(n, i), { mask: i % 2 === 0 })));
    const p = new FrameParser();
    const frames = [];
    for (let i = 0; i < wire.length; i += 1000) frames.push(...p.push(wire.subarray(i, i + 1000)));
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.length, f.payload[0]]),
      sizes.map((n, i) => [OP.binary, true, n, n ? i : undefined]),
    );
  });
});
