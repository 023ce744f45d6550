import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addHeader, removeHeader, setHeader } from '../../../src/proxy/http/headers.ts';
import {
  backend,
  endpointsOf,
  json,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('flat header edits', () => {
  test('set replaces every value, add appends with a comma, remove drops all, names ignore case', () => {
    const h = ['Host', 'x', 'X-A', '1', 'x-a', '2', 'Set-Cookie', 'a=1'];
    setHeader(h, 'x-a', 'x-a', 'v');
    assert.deepEqual(h, ['Host', 'x', 'X-A', 'v', 'Set-Cookie', 'a=1']);
    addHeader(h, 'X-a', 'x-a', 'w');
    addHeader(h, 'X-New', 'x-new', 'n');
    addHeader(h, 'set-cookie', 'set-cookie', 'b=2');
    assert.deepEqual(h, ['Host', 'x', 'X-A', 'v,w', 'Set-Cookie', 'a=1', 'X-New', 'n', 'set-cookie', 'b=2']);
    removeHeader(h, 'set-cookie');
    assert.deepEqual(h, ['Host', 'x', 'X-A', 'v,w', 'X-New', 'n']);
  });
});

describe('RequestHeaderModifier / ResponseHeaderModifier', () => {
  let origin: Origin;
  let a: Origin;
  let b: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin('echo', (req, res) => {
      res.writeHead(200, [
        'content-type',
        'application/json',
        'X-Header-Set',
        'from-origin',
        'x-header-add',
        'orig',
        'X-Header-Remove',
        'gone',
      ]);
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    [a, b] = await Promise.all([startOrigin('a'), startOrigin('b')]);
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/req' },
          filters: [
            {
              type: 'RequestHeaderModifier',
              modifier: {
                set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }],
                add: [
                  { name: 'X-Header-Add', value: 'header-val-1' },
                  { name: 'x-header-add-append', value: 'header-val-2' },
                ],
                remove: ['X-Header-Remove'],
              },
            },
          ],
          backends: [backend('echo', endpointsOf(origin.port))],
        }),
        route({
          path: { type: 'PathPrefix', value: '/resp' },
          filters: [
            {
              type: 'ResponseHeaderModifier',
              modifier: {
                set: [{ name: 'x-header-set', value: 'header-set' }],
                add: [
                  { name: 'X-Header-Add', value: 'header-add' },
                  { name: 'X-Lowercase-Add', value: 'lowercase-add' },
                ],
                remove: ['x-header-remove'],
              },
            },
          ],
          backends: [backend('echo', endpointsOf(origin.port))],
        }),
        route({
          path: { type: 'PathPrefix', value: '/per-backend' },
          backends: [
            backend('a', endpointsOf(a.port), {
              filters: [{ type: 'RequestHeaderModifier', modifier: { set: [{ name: 'Backend', value: 'a' }] } }],
            }),
            backend('b', endpointsOf(b.port), {
              filters: [
                { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'Backend', value: 'b' }] } },
                { type: 'ResponseHeaderModifier', modifier: { add: [{ name: 'X-Picked', value: 'b' }] } },
              ],
            }),
          ],
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await Promise.all([origin.close(), a.close(), b.close()]);
  });

  test('request headers: set overwrites, add appends old,new, remove drops', async () => {
    const r = await request(plane.port, {
      path: '/req',
      headers: { 'x-header-set': 'set-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Remove': 'remove-val' },
    });
    const h = json(r).headers;
    assert.equal(h['x-header-set'], 'set-overwrites-values');
    assert.equal(h['x-header-add'], 'header-val-1');
    assert.equal(h['x-header-add-append'], 'append-val-1,header-val-2');
    assert.equal(h['x-header-remove'], undefined);
  });

  test('response headers: the same, on the way back', async () => {
    const r = await request(plane.port, { path: '/resp' });
    assert.equal(r.headers['x-header-set'], 'header-set');
    assert.equal(r.headers['x-header-add'], 'orig,header-add');
    assert.equal(r.headers['x-lowercase-add'], 'lowercase-add');
    assert.equal(r.headers['x-header-remove'], undefined);
  });

  test('backendRef filters apply only for the backend picked', async () => {
    for (let i = 0; i < 30; i++) {
      const r = await request(plane.port, { path: '/per-backend' });
      const seen = json(r);
      assert.equal(seen.headers.backend, seen.origin);
      assert.equal(r.headers['x-picked'], seen.origin === 'b' ? 'b' : undefined);
    }
  });
});
