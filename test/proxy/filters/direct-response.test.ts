import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, route, simpleIR, startPlane, type RunningPlane } from '../helpers.ts';

describe('DirectResponse', () => {
  let plane: RunningPlane;
  before(async () => {
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'Exact', value: '/teapot' },
          filters: [
            {
              type: 'DirectResponse',
              response: { statusCode: 418, body: 'short and stout', contentType: 'text/plain' },
            },
            { type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'x-by', value: 'gateway' }] } },
          ],
        }),
        route({
          path: { type: 'Exact', value: '/route-level' },
          directResponse: { statusCode: 503, body: '{"down":true}', contentType: 'application/json' },
        }),
      ]),
    );
  });
  after(() => plane.close());

  test('the filter answers with its status, body and content type; response filters still apply', async () => {
    const r = await request(plane.port, { path: '/teapot' });
    assert.equal(r.status, 418);
    assert.equal(r.body, 'short and stout');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['content-length'], '15');
    assert.equal(r.headers['x-by'], 'gateway');
  });

  test("a route's directResponse", async () => {
    const r = await request(plane.port, { path: '/route-level' });
    assert.equal(r.status, 503);
    assert.equal(r.body, '{"down":true}');
  });
});
