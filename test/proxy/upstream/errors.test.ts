import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  closeServer,
  deadPort,
  endpointsOf,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

/** A raw TCP origin scripted per connection. */
async function rawOrigin(onConnection: (socket: net.Socket) => void): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  return { port: (server.address() as net.AddressInfo).port, server };
}

describe('upstream failures map to 503 / 504 / 502, and 500 for unusable backends', () => {
  let plane: RunningPlane;
  let hanging: Origin;
  let malformed: { port: number; server: net.Server };
  let resetting: { port: number; server: net.Server };
  let truncating: { port: number; server: net.Server };

  before(async () => {
    hanging = await startOrigin('hang', () => {
      /* never answers */
    });
    malformed = await rawOrigin((s) =>
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc')),
    );
    resetting = await rawOrigin((s) => s.once('data', () => s.resetAndDestroy()));
    truncating = await rawOrigin((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
        setImmediate(() => s.destroy());
      }),
    );
    const dead = await deadPort();
    plane = await startPlane(
      simpleIR([
        route({ path: { type: 'Exact', value: '/refused' }, backends: [backend('dead', endpointsOf(dead))] }),
        route({
          path: { type: 'Exact', value: '/timeout' },
          timeouts: { backendRequestMs: 150 },
          backends: [backend('hang', endpointsOf(hanging.port))],
        }),
        route({
          path: { type: 'Exact', value: '/malformed' },
          backends: [backend('bad', endpointsOf(malformed.port))],
        }),
        route({ path: { type: 'Exact', value: '/reset' }, backends: [backend('reset', endpointsOf(resetting.port))] }),
        route({
          path: { type: 'Exact', value: '/truncated' },
          backends: [backend('trunc', endpointsOf(truncating.port))],
        }),
        route({ path: { type: 'Exact', value: '/no-endpoints' }, backends: [backend('none', [])] }),
        route({
          path: { type: 'Exact', value: '/invalid' },
          backends: [backend('invalid', endpointsOf(hanging.port), { invalid: true })],
        }),
        route({
          path: { type: 'Exact', value: '/zero-weights' },
          backends: [backend('z', endpointsOf(hanging.port), { weight: 0 })],
        }),
        route({ path: { type: 'Exact', value: '/no-backends' } }),
        route({
          path: { type: 'Exact', value: '/direct' },
          directResponse: { statusCode: 500 },
          backends: [backend('x', endpointsOf(hanging.port))],
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await hanging.close();
    for (const o of [malformed, resetting, truncating]) await closeServer(o.server);
  });

  test('connection refused → 503', async () => {
    const r = await request(plane.port, { path: '/refused' });
    assert.equal(r.status, 503);
    assert.match(r.body, /connection failure/);
  });

  test('per-attempt timeout → 504', async () => {
    const r = await request(plane.port, { path: '/timeout' });
    assert.equal(r.status, 504);
  });

  test('malformed response → 502', async () => {
    assert.equal((await request(plane.port, { path: '/malformed' })).status, 502);
  });

  test('reset before the response → 503 (Envoy: upstream reset before headers)', async () => {
    assert.equal((await request(plane.port, { path: '/reset' })).status, 503);
  });

  test('a response cut after its headers is cut downstream too, never completed short', async () => {
    await assert.rejects(request(plane.port, { path: '/truncated' }));
  });

  test('backend without endpoints → 503', async () => {
    assert.equal((await request(plane.port, { path: '/no-endpoints' })).status, 503);
  });

  test('invalid backendRef, zero weights, no backendRefs, directResponse → 500', async () => {
    for (const path of ['/invalid', '/zero-weights', '/no-backends', '/direct']) {
      assert.equal((await request(plane.port, { path })).status, 500, path);
    }
  });
});
