/**
 * The cluster runner with real worker processes around a fake data plane:
 * every worker applies each configuration, a killed worker comes back with
 * the current one, and close() stops them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { ClusterRunner } from '../../src/controlplane/cluster-runner.ts';
import type { IR } from '../../src/ir/types.ts';

const log = pino({ level: 'silent' });
const exec = fileURLToPath(new URL('./fixtures/fake-worker.ts', import.meta.url));

function ir(port: number): IR {
  return {
    gateways: [
      {
        namespace: 'default',
        name: 'web',
        addresses: ['127.0.0.1'],
        listeners: [{ name: 'default/web/http', sectionName: 'http', port, protocol: 'HTTP', virtualHosts: [] }],
      },
    ],
  };
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'workers apply every configuration; a killed worker restarts with the current one',
  { timeout: 60_000 },
  async (t) => {
    const runner = new ClusterRunner({
      workers: 2,
      exec,
      execArgv: ['--import', 'tsx'],
      portOffset: 1000,
      logLevel: 'silent',
      log,
      restartBackoffMs: { initial: 50, max: 200 },
    });
    t.after(() => runner.close(1000));
    runner.start();

    await runner.apply(1, ir(8080));
    let ws = runner.workers();
    assert.equal(ws.length, 2);
    for (const w of ws) {
      assert.equal(w.state, 'running');
      assert.equal(w.version, 1);
      assert.deepEqual(
        w.result?.bound.map((s) => s.boundPort),
        [9080],
      );
    }

    await runner.apply(2, ir(8081));
    assert.deepEqual(
      runner.workers().map((w) => w.version),
      [2, 2],
    );

    const victim = ws[0];
    process.kill(victim.pid, 'SIGKILL');
    const back = await until('the killed worker to be back with v2', () => {
      const w = runner.workers()[0];
      return w.pid !== victim.pid && w.state === 'running' && w.version === 2 && w;
    });
    assert.equal(back.restarts, 1);
    assert.deepEqual(
      back.result?.bound.map((s) => s.boundPort),
      [9081],
    );

    ws = runner.workers();
    await runner.close(1000);
    assert.deepEqual(
      runner.workers().map((w) => w.state),
      ['stopped', 'stopped'],
    );
    for (const w of ws) await until(`worker ${w.pid} to exit`, () => !alive(w.pid));
  },
);

test('a worker that answers with errors still settles apply()', { timeout: 60_000 }, async (t) => {
  process.env.FAKE_FAIL_PORTS = '8080';
  t.after(() => delete process.env.FAKE_FAIL_PORTS);
  const runner = new ClusterRunner({
    workers: 2,
    exec,
    execArgv: ['--import', 'tsx'],
    portOffset: 0,
    logLevel: 'silent',
    log,
  });
  t.after(() => runner.close(1000));
  runner.start();
  await runner.apply(1, ir(8080));
  for (const w of runner.workers())
    assert.deepEqual(w.result?.errors, ['default/web/http: listen EADDRINUSE 127.0.0.1:8080']);
});
