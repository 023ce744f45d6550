import assert from 'node:assert/strict';
import net from 'node:net';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { IR } from '../../../src/ir/types.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createDataPlane, type DataPlane } from '../../../src/proxy/index.ts';
import {
  LOOPBACK,
  backend,
  deadPort,
  endpointsOf,
  gateway,
  listener,
  request,
  route,
  startOrigin,
  type Origin,
} from '../helpers.ts';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, LOOPBACK);
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

describe('DataPlane.apply / close', () => {
  let oldOrigin: Origin;
  let newOrigin: Origin;
  let dp: DataPlane;
  const parked: ServerResponse[] = [];
  let fixedPort = 0;

  before(async () => {
    oldOrigin = await startOrigin('old', (req, res) => {
      if (req.url === '/slow') parked.push(res);
      else res.end('old');
    });
    newOrigin = await startOrigin('new', (_req, res) => res.end('new'));
    fixedPort = await deadPort();
    dp = createDataPlane({ portOffset: 0, log: createLogger('silent') });
  });
  after(async () => {
    await dp.close(200);
    await oldOrigin.close();
    await newOrigin.close();
  });

  const irTo = (origin: Origin, extra: IR['gateways'] = []): IR => ({
    gateways: [gateway([listener('http', [route({ backends: [backend('b', endpointsOf(origin.port))] })])]), ...extra],
  });

  test('a new IR is swapped in; a request in flight finishes on the old one', async () => {
    const first = await dp.apply(irTo(oldOrigin));
    assert.deepEqual(first.errors, []);
    assert.equal(first.bound.length, 1);
    const port = first.bound[0].boundPort;
    assert.deepEqual(first.bound[0].listeners, ['default/gw/http']);

    const seen = oldOrigin.seen.length;
    const inFlight = request(port, { path: '/slow' });
    await oldOrigin.waitFor(seen + 1);

    const second = await dp.apply(irTo(newOrigin));
    assert.equal(second.bound[0].boundPort, port, 'same socket kept');
    assert.equal((await request(port, { path: '/x' })).body, 'new');

    parked.shift()!.end('old-finished');
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'old-finished');
  });

  test('sockets no longer in the IR are closed; new ones bound; unsupported listeners reported', async () => {
    const extra = gateway(
      [
        listener('extra', [route({ backends: [backend('b', endpointsOf(newOrigin.port))] })], { port: fixedPort }),
        listener('tls', [], { protocol: 'HTTPS', port: fixedPort + 1 }),
        listener('udp', [], { protocol: 'UDP', port: fixedPort + 1 }),
      ],
      { name: 'gw2' },
    );
    const withExtra = await dp.apply(irTo(newOrigin, [extra]));
    // The UDP listener (no routes) is bound by src/proxy/l4/ on the UDP port space.
    assert.equal(withExtra.bound.length, 3);
    assert.deepEqual(withExtra.errors, [
      'listener default/gw/tls: an HTTPS listener needs tls.mode Terminate; not served',
    ]);
    assert.equal((await request(fixedPort, { path: '/' })).body, 'new');

    const without = await dp.apply(irTo(newOrigin));
    assert.equal(without.bound.length, 1);
    assert.ok(await refused(fixedPort), 'removed socket no longer accepts');
  });

  test('an address already in use is an error line; the rest still serves', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, LOOPBACK, r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await dp.apply(irTo(newOrigin, [gateway([listener('blocked', [], { port: taken })], { name: 'gw3' })]));
      assert.equal(r.bound.length, 1);
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0], /listener default\/gw\/blocked: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
      assert.equal((await request(r.bound[0].boundPort)).body, 'new');
    } finally {
      await new Promise<void>((res) => blocker.close(() => res()));
    }
  });

  test('portOffset is added to every listener port', async () => {
    const base = await deadPort();
    const shifted = createDataPlane({ portOffset: 1, log: createLogger('silent') });
    try {
      const r = await shifted.apply({
        gateways: [
          gateway([
            listener('http', [route({ backends: [backend('b', endpointsOf(newOrigin.port))] })], { port: base - 1 }),
          ]),
        ],
      });
      assert.deepEqual(
        r.bound.map((b) => [b.port, b.boundPort]),
        [[base - 1, base]],
      );
    } finally {
      await shifted.close(100);
    }
  });

  test('close() stops accepting and drains', async () => {
    const other = createDataPlane({ portOffset: 0, log: createLogger('silent') });
    const r = await other.apply(irTo(oldOrigin));
    const port = r.bound[0].boundPort;
    const seen = oldOrigin.seen.length;
    const inFlight = request(port, { path: '/slow' });
    await oldOrigin.waitFor(seen + 1);
    const closing = other.close(2000);
    await new Promise((res) => setImmediate(res));
    assert.ok(await refused(port));
    parked.shift()!.end('drained');
    assert.equal((await inFlight).body, 'drained');
    await closing;
    await assert.rejects(other.apply(irTo(oldOrigin)), /closed/);
  });
});
