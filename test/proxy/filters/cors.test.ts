import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CORSIR } from '../../../src/ir/types.ts';
import { OriginMatcher } from '../../../src/proxy/filters/cors.ts';
import {
  backend,
  endpointsOf,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('OriginMatcher', () => {
  test('exact, * and scheme://*.suffix (any number of labels, no port)', () => {
    const m = new OriginMatcher(['https://www.foo.com', 'https://*.bar.com']);
    assert.ok(m.matches('https://www.foo.com'));
    assert.ok(m.matches('HTTPS://WWW.FOO.COM'));
    assert.ok(m.matches('https://www.bar.com'));
    assert.ok(m.matches('https://xpto.www.bar.com'));
    assert.ok(!m.matches('https://bar.com'));
    assert.ok(!m.matches('http://www.bar.com'));
    assert.ok(!m.matches('https://www.bar.com:8443'));
    assert.ok(!m.matches('https://foobar.com'));
    assert.ok(new OriginMatcher(['*']).matches('https://foobar.com:12345'));
  });
});

describe('CORS', () => {
  let origin: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin();
    const cors = (path: string, c: Partial<CORSIR>) =>
      route({
        path: { type: 'PathPrefix', value: path },
        filters: [
          {
            type: 'CORS',
            cors: {
              allowOrigins: [],
              allowMethods: [],
              allowHeaders: [],
              exposeHeaders: [],
              allowCredentials: false,
              ...c,
            },
          },
        ],
        backends: [backend('echo', endpointsOf(origin.port))],
      });
    plane = await startPlane(
      simpleIR([
        cors('/cors-1', {
          allowOrigins: ['https://www.foo.com', 'https://*.bar.com'],
          allowMethods: ['GET', 'OPTIONS'],
          allowHeaders: ['x-header-1', 'x-header-2'],
          exposeHeaders: ['x-header-3', 'x-header-4'],
          allowCredentials: true,
          maxAge: 3600,
        }),
        cors('/cors-wildcard-methods-headers-unauth', {
          allowOrigins: ['*'],
          allowMethods: ['*'],
          allowHeaders: ['*'],
        }),
        cors('/cors-wildcard-methods-headers', {
          allowOrigins: ['*'],
          allowMethods: ['*'],
          allowHeaders: ['*'],
          allowCredentials: true,
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  const preflight = (path: string, headers: Record<string, string>) =>
    request(plane.port, { method: 'OPTIONS', path, headers });

  test('a preflight from an allowed origin is answered by the gateway with every CORS header', async () => {
    for (const o of ['https://www.foo.com', 'https://xpto.www.bar.com']) {
      const before = origin.seen.length;
      const r = await preflight('/cors-1', {
        origin: o,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-header-1, x-header-2',
      });
      assert.ok(r.status === 200 || r.status === 204);
      assert.equal(origin.seen.length, before, 'not forwarded');
      assert.equal(r.headers['access-control-allow-origin'], o);
      assert.equal(r.headers['access-control-allow-methods'], 'GET, OPTIONS');
      assert.equal(r.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
      assert.equal(r.headers['access-control-expose-headers'], 'x-header-3, x-header-4');
      assert.equal(r.headers['access-control-max-age'], '3600');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
    }
  });

  test('a preflight from another origin gets no CORS header and is not forwarded', async () => {
    const before = origin.seen.length;
    const r = await preflight('/cors-1', { origin: 'https://foobar.com', 'access-control-request-method': 'GET' });
    assert.ok([200, 204, 403].includes(r.status));
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(origin.seen.length, before);
  });

  test('simple requests reach the backend; allowed origins get allow-origin back', async () => {
    const ok = await request(plane.port, { path: '/cors-1', headers: { origin: 'https://www.bar.com' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://www.bar.com');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    const no = await request(plane.port, { path: '/cors-1', headers: { origin: 'https://foobar.com' } });
    assert.equal(no.status, 200);
    assert.equal(no.headers['access-control-allow-origin'], undefined);
  });

  test('wildcards: with credentials the request is echoed; without, * is fine and credentials are absent', async () => {
    const asked = {
      origin: 'https://other.foo.com',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'x-header-1, x-header-2',
    };
    const creds = await preflight('/cors-wildcard-methods-headers', asked);
    assert.equal(creds.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.equal(creds.headers['access-control-allow-methods'], 'PUT');
    assert.equal(creds.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
    assert.equal(creds.headers['access-control-allow-credentials'], 'true');
    const unauth = await preflight('/cors-wildcard-methods-headers-unauth', asked);
    assert.ok(['https://other.foo.com', '*'].includes(String(unauth.headers['access-control-allow-origin'])));
    assert.ok(['PUT', '*'].includes(String(unauth.headers['access-control-allow-methods'])));
    assert.equal(unauth.headers['access-control-allow-credentials'], undefined);
  });
});
