/** The admin API over a real socket (port 0), with a stand-in source. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { parseHostPort, startAdminServer, type AdminSource } from '../../src/admin/server.ts';
import { VERSION } from '../../src/version.ts';

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function source(): AdminSource & { isReady: boolean; ir: unknown } {
  const s = {
    isReady: false,
    ir: undefined as unknown,
    readiness: () =>
      s.isReady ? { ready: true } : { ready: false, reason: '0 of 2 workers applied configuration v1' },
    status: () => ({ resources: [{ kind: 'Gateway' }] }),
    config: () => s.ir,
  };
  return s;
}

test('the admin endpoints', async (t) => {
  const src = source();
  const admin = await startAdminServer('127.0.0.1', 0, src);
  t.after(() => admin.close());
  assert.match(admin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(admin.url, 'http://127.0.0.1:0');

  let r = await get(`${admin.url}/ready`);
  assert.equal(r.status, 503);
  assert.equal(r.body, 'not ready: 0 of 2 workers applied configuration v1\n');
  src.isReady = true;
  r = await get(`${admin.url}/ready`);
  assert.deepEqual([r.status, r.body], [200, 'ready\n']);

  r = await get(`${admin.url}/api/config`);
  assert.equal(r.status, 503);
  src.ir = { gateways: [] };
  r = await get(`${admin.url}/api/config`);
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/json');
  assert.deepEqual(JSON.parse(r.body), { gateways: [] });

  r = await get(`${admin.url}/api/status`);
  assert.deepEqual(JSON.parse(r.body), { resources: [{ kind: 'Gateway' }] });
  r = await get(`${admin.url}/api/version`);
  assert.deepEqual(JSON.parse(r.body), { version: VERSION });
  r = await get(`${admin.url}/api/version?pretty=1`);
  assert.equal(r.status, 200, 'a query string does not change the route');

  r = await get(`${admin.url}/nope`);
  assert.equal(r.status, 404);
  r = await get(`${admin.url}/api/status`, 'POST');
  assert.equal(r.status, 405);
});

test('a failing source is a 500, and the server keeps answering', async (t) => {
  const admin = await startAdminServer('127.0.0.1', 0, {
    readiness: () => ({ ready: true }),
    status: () => {
      throw new Error('boom');
    },
    config: () => ({}),
  });
  t.after(() => admin.close());
  const r = await get(`${admin.url}/api/status`);
  assert.equal(r.status, 500);
  assert.deepEqual(JSON.parse(r.body), { error: 'boom' });
  assert.equal((await get(`${admin.url}/ready`)).status, 200);
});

test('HOST:PORT parsing', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:19000'), { host: '127.0.0.1', port: 19000 });
  assert.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseHostPort('localhost:8001'), { host: 'localhost', port: 8001 });
  for (const bad of ['127.0.0.1', ':19000', '127.0.0.1:x', '127.0.0.1:70000', '::1:80']) {
    assert.throws(() => parseHostPort(bad), /expected HOST:PORT/, bad);
  }
});

test('GET /metrics: the Prometheus text from the source, with its content type', async (t) => {
  const src = { ...source(), metrics: () => Promise.resolve('# TYPE sluice_up gauge\nsluice_up 1\n') };
  const admin = await startAdminServer('127.0.0.1', 0, src);
  t.after(() => admin.close());
  let r = await get(`${admin.url}/metrics`);
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(r.body, '# TYPE sluice_up gauge\nsluice_up 1\n');
  r = await get(`${admin.url}/metrics`, 'POST');
  assert.equal(r.status, 405);

  const without = await startAdminServer('127.0.0.1', 0, source());
  t.after(() => without.close());
  assert.equal((await get(`${without.url}/metrics`)).status, 404);
});
