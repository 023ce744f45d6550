import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  withTimeout,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

/** Sends `n` requests over a keep-alive agent, `concurrency` at a time; returns the x-origin of each. */
async function spray(port: number, path: string, n: number, concurrency = 8): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const out: string[] = [];
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: LOOPBACK, port, path, agent, headers: { host: 'example.com' } }, (res) => {
          out.push(String(res.headers['x-origin']));
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await one();
    }
  };
  try {
    await withTimeout(Promise.all(Array.from({ length: concurrency }, worker)), 15_000, 'spray');
  } finally {
    agent.destroy();
  }
  return out;
}

describe('load balancing', () => {
  let a: Origin;
  let b: Origin;
  let c: Origin;
  let a2: Origin;
  let plane: RunningPlane;

  before(async () => {
    [a, b, c, a2] = await Promise.all([startOrigin('a'), startOrigin('b'), startOrigin('c'), startOrigin('a2')]);
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/weighted' },
          backends: [
            backend('a', endpointsOf(a.port), { weight: 70 }),
            backend('b', endpointsOf(b.port), { weight: 30 }),
            backend('c', endpointsOf(c.port), { weight: 0 }),
          ],
        }),
        route({ path: { type: 'PathPrefix', value: '/rr' }, backends: [backend('two', endpointsOf(a.port, a2.port))] }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await Promise.all([a, b, c, a2].map((o) => o.close()));
  });

  test('weighted split across backendRefs (70/30/0, within tolerance)', async () => {
    const n = 600;
    const got = await spray(plane.port, '/weighted', n);
    const share = (name: string): number => got.filter((x) => x === name).length / n;
    assert.ok(Math.abs(share('a') - 0.7) < 0.08, `a: ${share('a')}`);
    assert.ok(Math.abs(share('b') - 0.3) < 0.08, `b: ${share('b')}`);
    assert.equal(share('c'), 0);
  });

  test('round-robin across the endpoints of a backend', async () => {
    const got = await spray(plane.port, '/rr', 40, 1);
    assert.equal(got.filter((x) => x === 'a').length, 20);
    assert.equal(got.filter((x) => x === 'a2').length, 20);
  });
});
