/** The Deployment process the conformance runner forks: replicas, shared ports, count queries, exit with the parent. */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { SPEC_ENV, type BoundReplica, type ChildMessage, type DeploymentSpec } from './fleet-protocol.ts';

function getJson(host: string, port: number, path: string): Promise<{ pod: string; path: string }> {
  return new Promise((resolve, reject) => {
    request({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { pod: string; path: string }));
    })
      .on('error', reject)
      .end();
  });
}

test(
  'one process serves every replica on its own address and the same ports, and counts echoed targets',
  { timeout: 60_000 },
  async () => {
    const net = `127.${randomInt(2, 250)}.${randomInt(0, 250)}`;
    const spec: DeploymentSpec = {
      namespace: 'ns',
      deployment: 'infra-backend-v1',
      replicas: [
        { pod: 'infra-backend-v1-aaaa-bbbb', address: `${net}.1` },
        { pod: 'infra-backend-v1-cccc-dddd', address: `${net}.2` },
      ],
    };
    const child = fork(fileURLToPath(new URL('./main.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const messages: ChildMessage[] = [];
      const next = (): Promise<ChildMessage> =>
        new Promise((resolve) => {
          if (messages.length) return resolve(messages.shift()!);
          child.once('message', (m: ChildMessage) => resolve(m));
        });
      const ready = await next();
      assert.equal(ready.type, 'ready');
      const replicas = (ready as { replicas: BoundReplica[] }).replicas;
      assert.deepEqual(
        replicas.map((r) => r.address),
        spec.replicas.map((r) => r.address),
      );
      assert.equal(replicas[0].httpPort, replicas[1].httpPort);
      assert.equal(replicas[0].h2cPort, replicas[1].h2cPort);

      for (const r of replicas) assert.equal((await getJson(r.address, r.httpPort, '/m?id=1')).pod, r.pod);
      await getJson(replicas[0].address, replicas[0].httpPort, '/m?id=1');

      child.send({ type: 'count', id: 7, target: '/m?id=1' });
      assert.deepEqual(await next(), {
        type: 'count',
        id: 7,
        counts: { 'infra-backend-v1-aaaa-bbbb': 2, 'infra-backend-v1-cccc-dddd': 1 },
      });
      child.send({ type: 'count', id: 8, target: '/never' });
      assert.deepEqual(await next(), { type: 'count', id: 8, counts: {} });
    } finally {
      // Closing the IPC channel is how a vanished runner looks: the process must go too.
      child.disconnect();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((r) => (timer = setTimeout(() => r('still running'), 10_000)));
      assert.equal(await Promise.race([exited, late]), 0);
      clearTimeout(timer);
    }
  },
);
