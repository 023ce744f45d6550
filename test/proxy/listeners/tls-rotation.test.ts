import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { IR } from '../../../src/ir/types.ts';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  gateway,
  listener,
  route,
  startOrigin,
  startPlane,
  withTimeout,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';
import { CertKit, certificateIR, tlsRequest, type Pem } from '../tls-kit.ts';

describe('certificate rotation without restart', () => {
  const kit = new CertKit();
  let origin: Origin;
  let plane: RunningPlane;
  let generations: Pem[];

  function ir(cert: Pem): IR {
    const routes = [route({ backends: [backend('o', endpointsOf(origin.port))] })];
    const tls = (secret: string) => ({ mode: 'Terminate' as const, certificates: [certificateIR(cert, secret)] });
    return {
      gateways: [
        gateway([
          listener('default', routes, { protocol: 'HTTPS', tls: tls('default/default') }),
          listener('named', routes, { protocol: 'HTTPS', hostname: 'rot.example', tls: tls('default/named') }),
        ]),
      ],
    };
  }

  before(async () => {
    generations = [kit.leaf(null, { cn: 'gen-a' }), kit.leaf(null, { cn: 'gen-b' })];
    origin = await startOrigin('o');
    plane = await startPlane(ir(generations[0]));
  });
  after(async () => {
    await plane.close();
    await origin.close();
    kit.cleanup();
  });

  test('5 applies with alternating certificates under keep-alive load: new handshakes see the new one, no request fails', async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const clients = Array.from({ length: 4 }, async (_, i) => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (!stop && ok < 50_000) {
          try {
            const status = await get(agent, plane.port, i % 2 === 0 ? 'rot.example' : 'other.example');
            if (status === 200) ok++;
            else failures.push(`status ${status}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      } finally {
        agent.destroy();
      }
    });
    for (let n = 1; n <= 5; n++) {
      const cert = generations[n % 2];
      await plane.dp.apply(ir(cert));
      const cn = n % 2 === 0 ? 'gen-a' : 'gen-b';
      for (const servername of ['rot.example', 'other.example', '']) {
        const r = await tlsRequest(plane.port, { servername, host: servername || 'rot.example' });
        assert.equal(r.peerCN, cn, `apply ${n}, SNI '${servername}'`);
        assert.equal(r.status, 200);
      }
      // Pacing, not synchronisation: the load runs across about 1.5 s of rotations.
      await new Promise((r) => setTimeout(r, 300));
    }
    stop = true;
    await withTimeout(Promise.all(clients), 5000, 'load clients');
    assert.deepEqual(failures, []);
    assert.ok(ok > 50, `requests served during rotation: ${ok}`);
  });
});

function get(agent: https.Agent, port: number, servername: string): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          host: LOOPBACK,
          port,
          path: '/',
          agent,
          servername,
          rejectUnauthorized: false,
          headers: { host: servername },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    }),
    5000,
    'keep-alive request',
  );
}
