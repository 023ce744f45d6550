/**
 * `sluice serve` as a user runs it: a real process, real sockets, the admin
 * API on port 0 (its URL read from stdout), signals for shutdown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import {
  freePort,
  httpGet,
  quickstartCopy,
  root,
  startBackend,
  startServe,
  until,
  serveQuickstart,
} from '../support/serve.ts';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import type { Condition } from '../../src/translate/conditions.ts';
import { VERSION } from '../../src/version.ts';

interface GatewayStatus {
  addresses: Array<{ type: string; value: string }>;
  listeners: Array<{ name: string; conditions: Condition[] }>;
}

function gatewayStatus(doc: StatusDocument): { status: GatewayStatus } {
  return doc.resources.find((r) => r.kind === 'Gateway') as unknown as { status: GatewayStatus };
}

function sluice(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad serve flags are one line and exit 2, before anything starts', () => {
  for (const [args, message] of [
    [['--config', 'examples/quickstart', '--workers', '0'], /--workers must be an integer from 1 to 1024 \(got "0"\)/],
    [['--config', 'examples/quickstart', '--workers', 'two'], /--workers must be an integer/],
    [['--config', 'examples/quickstart', '--admin', 'localhost'], /--admin localhost: expected HOST:PORT/],
    [['--config', 'examples/quickstart', '--port-offset', '1.5'], /--port-offset must be an integer/],
    [['--config', 'examples/quickstart', '--address-pool', 'nope'], /--address-pool nope: not a CIDR/],
    [['--workers', '1'], /--config DIR is required/],
    [['--config', '/nonexistent/sluice'], /--config \/nonexistent\/sluice: not a directory/],
  ] as const) {
    const r = sluice('serve', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('help lists serve', () => {
  const r = sluice('help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ {2}serve {7}run the gateway/m);
  assert.match(r.stdout, /Usage: sluice serve --config DIR/);
});

test(
  'serve --workers 1: admin API on port 0, status as bound, config, version; SIGTERM exits 0',
  { timeout: 60_000 },
  async (t) => {
    const [v1, v2] = [await startBackend('v1'), await startBackend('v2')];
    const dir = quickstartCopy({ v1: v1.port, v2: v2.port });
    const port = await freePort();
    const offset = port - 8080;
    const serve = await startServe([
      '--config',
      dir,
      '--workers',
      '1',
      '--bind',
      '127.0.0.1',
      '--port-offset',
      String(offset),
    ]);
    t.after(async () => {
      await serve.stop('SIGKILL');
      await v1.close();
      await v2.close();
      rmSync(dir, { recursive: true, force: true });
    });
    assert.match(serve.admin, /^http:\/\/127\.0\.0\.1:\d+$/);
    await serve.waitReady();
    assert.match(
      serve.stdout(),
      new RegExp(`^listening on http://127\\.0\\.0\\.1:${port} \\(default/web/http\\)$`, 'm'),
    );

    assert.deepEqual(JSON.parse((await httpGet(serve.admin + '/api/version')).body), { version: VERSION });
    const status = await serve.status();
    assert.equal(status.ready, true);
    assert.equal(status.version, 1);
    const gw = gatewayStatus(status);
    assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: '127.0.0.1' }]);
    const programmed = gw.status.listeners[0].conditions.find((c) => c.type === 'Programmed')!;
    assert.equal(programmed.status, 'True');
    assert.equal(programmed.message, `Listening on 127.0.0.1:${port}`);
    assert.deepEqual(status.sockets, [
      { address: '127.0.0.1', port: 8080, boundPort: port, protocol: 'tcp', listeners: ['default/web/http'] },
    ]);
    assert.equal(status.workers.length, 1);
    const ir = await serve.config();
    assert.equal(ir.gateways[0].listeners[0].port, 8080);
    assert.equal((await httpGet(serve.admin + '/nope')).status, 404);

    const r = await httpGet(`http://127.0.0.1:${port}/`, { host: 'app.example.com' });
    assert.equal(r.status, 200);
    assert.match(JSON.parse(r.body).version, /^v[12]$/);

    assert.equal(await serve.stop('SIGTERM'), 0, serve.stderr());
  },
);

test(
  'serve with cluster workers on an address from a loopback pool; SIGINT stops every process',
  { timeout: 60_000 },
  async (t) => {
    const { serve } = await serveQuickstart(t, 2);
    await serve.waitReady();
    const status = await serve.status();
    assert.equal(status.workers.length, 2);
    const [socket] = status.sockets;
    assert.match(socket.address, /^127\.\d+\.\d+\.\d+$/);
    assert.notEqual(socket.address, '127.0.0.1');
    assert.equal(socket.boundPort, 18080);
    const gw = gatewayStatus(status);
    assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: socket.address }]);

    // Fresh connections, spread by the primary over the workers.
    for (let i = 0; i < 10; i++) {
      const r = await httpGet(`http://${socket.address}:18080/`, { host: 'app.example.com' });
      assert.equal(r.status, 200);
    }

    const pids = status.workers.map((w) => w.pid);
    assert.equal(await serve.stop('SIGINT'), 0, serve.stderr());
    for (const pid of pids) {
      await until(`worker ${pid} to exit`, () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
    }
  },
);

test(
  'serve --demo-backends answers for every loopback Service and prints what to curl',
  { timeout: 60_000 },
  async (t) => {
    const dir = quickstartCopy({ v1: await freePort(), v2: await freePort() });
    const port = await freePort();
    const serve = await startServe([
      '--config',
      dir,
      '--workers',
      '1',
      '--bind',
      '127.0.0.1',
      '--port-offset',
      String(port - 8080),
      '--demo-backends',
    ]);
    t.after(async () => {
      await serve.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    await serve.waitReady();
    await until('the curl hint', () =>
      serve.stdout().includes(`try: curl -H 'Host: app.example.com' http://127.0.0.1:${port}/`),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const r = await httpGet(`http://127.0.0.1:${port}/x`, { host: 'app.example.com' });
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body);
      assert.equal(body.path, '/x');
      seen.add(body.version);
    }
    assert.deepEqual([...seen].sort(), ['v1', 'v2'], 'the 90/10 split reaches both demo backends');
    assert.equal(await serve.stop('SIGINT'), 0, serve.stderr());
  },
);
