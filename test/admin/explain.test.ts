/** `GET /api/explain` on a running `sluice serve` (one worker, the geo-routing example). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Explanation } from '../../src/explain/index.ts';
import { httpGet, randomLoopbackPool, startServe } from '../support/serve.ts';

test('/api/explain explains against the configuration being served', { timeout: 60_000 }, async (t) => {
  const serve = await startServe([
    '--config',
    'examples/geo-routing',
    '--workers',
    '1',
    '--address-pool',
    randomLoopbackPool(),
    '--port-offset',
    '10000',
  ]);
  t.after(async () => void (await serve.stop('SIGKILL')));
  await serve.waitReady();
  const [socket] = (await serve.status()).sockets;

  // The port clients use is the bound one (8087 + the offset); the Gateway's own address narrows it to its socket.
  const request = encodeURIComponent(`GET http://${socket.address}:${socket.boundPort}/`);
  const header = encodeURIComponent('x-geo-region: europe');
  const host = encodeURIComponent('Host: store.example.com');
  let r = await httpGet(`${serve.admin}/api/explain?request=${request}&header=${header}&header=${host}`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/json');
  const x = JSON.parse(r.body) as Explanation;
  assert.equal(x.paths.length, 1);
  const p = x.paths[0];
  assert.deepEqual([p.address, p.port, p.listener], [socket.address, 18087, 'default/web/http']);
  assert.equal(p.route?.ruleIndex, 1);
  assert.equal(p.entries.find((e) => e.ruleIndex === 3)?.verdict, 'lower-precedence');
  const listener = x.listeners.find((l) => l.name === 'default/web/http');
  assert.equal(listener?.verdict, 'accepts');

  r = await httpGet(`${serve.admin}/api/explain?request=${request}&header=${host}&output=text`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.match(r.body, /^ {2}route {6}HTTPRoute default\/store rule 3 match 0$/m);

  r = await httpGet(`${serve.admin}/api/explain?request=${encodeURIComponent('GET store.example.com/')}`);
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.body), {
    error: 'cannot parse URL "store.example.com/": expected http(s)://host[:port]/path',
  });
  r = await httpGet(`${serve.admin}/api/explain?request=${request}&header=nocolon`);
  assert.equal(r.status, 400);
  r = await httpGet(`${serve.admin}/api/explain`);
  assert.equal(r.status, 400);
});
