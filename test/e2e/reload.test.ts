/**
 * End to end: `sluice serve` on a copy of the quickstart with real backends,
 * driven through its config directory and observed through traffic and the
 * admin API. Every wait has a deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { httpGet, until, type Serve, serveQuickstart } from '../support/serve.ts';

interface Setup {
  dir: string;
  serve: Serve;
  /** Base URL of the Gateway's listener. */
  gateway: string;
  route: (text: string) => void;
  routeText: string;
}

/** Serves a quickstart copy with two workers on an address of its own; cleaned up after the test. */
async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<Setup> {
  const { dir, serve } = await serveQuickstart(t, 2);
  await serve.waitReady();
  const { sockets } = await serve.status();
  const routeFile = join(dir, 'route.yaml');
  return {
    dir,
    serve,
    gateway: `http://${sockets[0].address}:${sockets[0].boundPort}`,
    routeText: readFileSync(routeFile, 'utf8'),
    route: (text) => writeFileSync(routeFile, text),
  };
}

async function versionOf(url: string, host: string): Promise<string> {
  const r = await httpGet(url, { host });
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { version: string }).version;
}

test(
  'an edit is live within a second; a broken edit is reported while the last good config serves',
  { timeout: 90_000 },
  async (t) => {
    const s = await setup(t);
    assert.match(await versionOf(s.gateway + '/', 'app.example.com'), /^v[12]$/);
    assert.equal((await httpGet(s.gateway + '/', { host: 'new.example.com' })).status, 404);

    // A new hostname: measured from the write to the first request it answers.
    const started = Date.now();
    s.route(s.routeText.replace('- app.example.com', '- app.example.com\n    - new.example.com'));
    await until(
      'new.example.com to be routed',
      async () => (await httpGet(s.gateway + '/', { host: 'new.example.com' })).status === 200,
      5000,
    );
    const ms = Date.now() - started;
    assert.ok(ms < 1000, `the change took ${ms} ms to go live`);
    const status = await s.serve.status();
    assert.equal(status.version, 2);
    assert.equal(status.reloads.last?.result, 'ok');

    // A broken save (bad YAML) of the same file: reported, and the last good route keeps serving.
    s.route(s.routeText.replace('hostnames:', 'hostnames: [unclosed'));
    const broken = await until('the problem to be reported', async () => {
      const st = await s.serve.status();
      return st.problems.length > 0 && st;
    });
    assert.match(broken.problems[0], /^route\.yaml#0: /);
    assert.equal(broken.reloads.last?.result, 'partial');
    assert.deepEqual(broken.reloads.last?.kept, ['route.yaml']);
    assert.equal(broken.version, 2, 'nothing new went to the data plane');
    assert.equal((await httpGet(s.gateway + '/', { host: 'new.example.com' })).status, 200);
    assert.match(await versionOf(s.gateway + '/', 'app.example.com'), /^v[12]$/);
    assert.equal((await httpGet(s.serve.admin + '/ready')).status, 200);

    // Fixed: only v2, and the problem is gone.
    s.route(s.routeText.replace('weight: 90', 'weight: 0'));
    await until('the fixed file to go live', async () => (await s.serve.status()).version === 3);
    for (let i = 0; i < 20; i++) assert.equal(await versionOf(s.gateway + '/', 'app.example.com'), 'v2');
    assert.deepEqual((await s.serve.status()).problems, []);
  },
);

test('a killed worker is restarted, gets the current config, and traffic continues', { timeout: 90_000 }, async (t) => {
  const s = await setup(t);
  const before = (await s.serve.status()).workers;
  process.kill(before[0].pid, 'SIGKILL');
  const after = await until(
    'the worker to be back',
    async () => {
      const st = await s.serve.status();
      const w = st.workers[0];
      return st.ready && w.pid !== before[0].pid && w.state === 'running' && w.version === st.version && st;
    },
    20_000,
  );
  assert.equal(after.workers[0].restarts, 1);
  assert.equal(after.workers[1].pid, before[1].pid, 'the other worker was left alone');
  for (let i = 0; i < 10; i++) assert.match(await versionOf(s.gateway + '/', 'app.example.com'), /^v[12]$/);
});

test('20 config rewrites during 10 s of keep-alive traffic lose no request', { timeout: 120_000 }, async (t) => {
  const s = await setup(t);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  const startVersion = (await s.serve.status()).version;

  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  // Four keep-alive connections, each sending requests back to back (bounded by `stop` and the test timeout).
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop && failures.length < 20) {
      try {
        const r = await httpGet(s.gateway + '/', { host: 'app.example.com', agent });
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${r.body.slice(0, 100)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  // Every 500 ms a rewrite that changes the IR (the split moves by one point each time).
  for (let i = 1; i <= 20; i++) {
    await new Promise((r) => setTimeout(r, 500));
    s.route(s.routeText.replace('weight: 90', `weight: ${90 - i}`).replace('weight: 10', `weight: ${10 + i}`));
  }
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await Promise.all(clients);

  assert.deepEqual(failures, []);
  assert.ok(ok > 100, `only ${ok} requests went through`);
  const weights = async (): Promise<number[]> =>
    (await s.serve.config()).gateways[0].listeners[0].virtualHosts![0].routes[0].backends.map((b) => b.weight);
  await until('the last rewrite to be live', async () => (await weights()).join() === '70,30');
  const status = await s.serve.status();
  assert.equal(status.ready, true);
  assert.equal(status.reloads.errors, 0);
  assert.ok(status.version >= startVersion + 15, `${status.version - startVersion} of 20 rewrites became versions`);
});
