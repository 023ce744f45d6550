import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  backend,
  deadPort,
  endpointsOf,
  json,
  plainBackend,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('RequestMirror', () => {
  let main: Origin;
  let m1: Origin;
  let m2: Origin;
  let plane: RunningPlane;

  before(async () => {
    [main, m1, m2] = await Promise.all([
      startOrigin('main'),
      startOrigin('m1'),
      startOrigin('m2', () => {
        /* a mirror that never answers must not hold the client */
      }),
    ]);
    const dead = await deadPort();
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/mirror' },
          filters: [
            { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-modified', value: 'yes' }] } },
            { type: 'RequestMirror', mirror: { backend: plainBackend('m1', endpointsOf(m1.port)), percent: 100 } },
            { type: 'RequestMirror', mirror: { backend: plainBackend('m2', endpointsOf(m2.port)), percent: 100 } },
            { type: 'RequestMirror', mirror: { backend: plainBackend('dead', endpointsOf(dead)), percent: 100 } },
          ],
          backends: [backend('main', endpointsOf(main.port))],
        }),
        route({
          path: { type: 'PathPrefix', value: '/never' },
          filters: [
            { type: 'RequestMirror', mirror: { backend: plainBackend('m1', endpointsOf(m1.port)), percent: 0 } },
          ],
          backends: [backend('main', endpointsOf(main.port))],
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await Promise.all([main.close(), m1.close(), m2.close()]);
  });

  test('every mirror gets a copy (path, query, final headers); the client only sees the main backend', async () => {
    const r = await request(plane.port, { path: '/mirror/x?id=1' });
    assert.equal(r.status, 200);
    assert.equal(json(r).origin, 'main');
    await m1.waitFor(1);
    await m2.waitFor(1);
    assert.equal(m1.seen[0].url, '/mirror/x?id=1');
    assert.equal(m1.seen[0].headers['x-modified'], 'yes');
    assert.equal(m2.seen[0].url, '/mirror/x?id=1');
  });

  test('the body is copied to the mirror', async () => {
    const before = m1.seen.length;
    const r = await request(plane.port, { method: 'POST', path: '/mirror/post', body: 'mirrored body' });
    assert.equal(json(r).body, 'mirrored body');
    await m1.waitFor(before + 1);
    assert.equal(m1.seen.at(-1)!.body, 'mirrored body');
  });

  test('percent 0 never mirrors', async () => {
    const before = m1.seen.length;
    for (let i = 0; i < 5; i++) assert.equal((await request(plane.port, { path: '/never' })).status, 200);
    // A copy would have been sent before the main request; the mirror route proves delivery is prompt.
    await request(plane.port, { path: '/mirror/sentinel' });
    await m1.waitFor(before + 1);
    assert.equal(m1.seen.at(-1)!.url, '/mirror/sentinel');
    assert.equal(m1.seen.length, before + 1);
  });
});
