import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerResponse } from 'node:http';
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

describe('route timeouts', () => {
  let slow: Origin;
  let plane: RunningPlane;
  const parked: ServerResponse[] = [];

  before(async () => {
    // `/wait` is answered only when the test releases it; everything else at once.
    slow = await startOrigin('slow', (req, res) => {
      if (req.url?.includes('wait')) parked.push(res);
      else res.end('fast');
    });
    const b = [backend('slow', endpointsOf(slow.port))];
    plane = await startPlane(
      simpleIR([
        route({ path: { type: 'PathPrefix', value: '/request' }, timeouts: { requestMs: 150 }, backends: b }),
        route({ path: { type: 'PathPrefix', value: '/backend' }, timeouts: { backendRequestMs: 150 }, backends: b }),
        route({
          path: { type: 'PathPrefix', value: '/retried' },
          timeouts: { backendRequestMs: 100 },
          retry: { codes: [504], attempts: 2, backoffMs: 1 },
          backends: b,
        }),
        route({ path: { type: 'PathPrefix', value: '/none' }, backends: b }),
      ]),
    );
  });
  after(async () => {
    for (const r of parked) r.end();
    await plane.close();
    await slow.close();
  });

  test('request timeout → 504 while the backend is still silent', async () => {
    const r = await request(plane.port, { path: '/request/wait' });
    assert.equal(r.status, 504);
    assert.equal((await request(plane.port, { path: '/request/fast' })).body, 'fast');
  });

  test('backendRequest timeout → 504', async () => {
    assert.equal((await request(plane.port, { path: '/backend/wait' })).status, 504);
  });

  test('a per-attempt timeout is retried when 504 is a retry code', async () => {
    const before = slow.seen.length;
    assert.equal((await request(plane.port, { path: '/retried/wait' })).status, 504);
    assert.equal(slow.seen.length - before, 3);
  });

  test('no timeout: the answer comes whenever the backend sends it', async () => {
    const seen = slow.seen.length;
    const pending = request(plane.port, { path: '/none/wait' });
    await slow.waitFor(seen + 1); // the origin's handler has parked the response by then
    parked.at(-1)!.end('late');
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'late');
  });
});
