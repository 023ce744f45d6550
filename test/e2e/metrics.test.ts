/**
 * End to end: `sluice serve --workers 2` with real backends, real traffic,
 * and `GET /metrics` on the admin server. Each case polls /metrics with a
 * deadline until its counter moves, then checks it moved by exactly what
 * was sent (both workers' counters summed by the control process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  httpGet,
  loopbackService,
  randomLoopbackPool,
  startServe,
  until,
  type Serve,
} from '../support/serve.ts';
import { metricValue } from '../support/metrics.ts';

/** A loopback Service followed by a document separator. */
const service = (name: string, port: number): string => `${loopbackService(name, port)}---\n`;

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: sluice }
spec: { controllerName: sluice.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: web, namespace: default }
spec:
  gatewayClassName: sluice
  listeners: [{ name: http, protocol: HTTP, port: 8080 }]
`;

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app, namespace: default }
spec:
  parentRefs: [{ name: web }]
  hostnames: [app.example.com]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /dead } }]
      backendRefs: [{ name: dead, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /retry } }]
      retry: { codes: [503], attempts: 2, backoff: 10ms }
      backendRefs: [{ name: dead-retry, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /slow } }]
      timeouts: { request: 300ms }
      backendRefs: [{ name: slow, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /mirror } }]
      filters:
        - type: RequestMirror
          requestMirror: { backendRef: { name: shadow, port: 80 } }
      backendRefs: [{ name: ok, port: 80 }]
    - backendRefs: [{ name: ok, port: 80 }]
`;

const BODY = 'hello from ok\n';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface Setup {
  serve: Serve;
  gateway: string;
  mirrored: () => number;
  scrape: () => Promise<string>;
}

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<Setup> {
  const backend = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/slow')) {
      const timer = setTimeout(() => res.end('late'), 5000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  let mirrored = 0;
  const shadow = createServer((req, res) => {
    req.resume();
    mirrored++;
    res.end('shadow');
  });
  const okPort = await listen(backend);
  const shadowPort = await listen(shadow);
  const deadPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-metrics-'));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY);
  writeFileSync(join(dir, 'route.yaml'), ROUTE);
  writeFileSync(
    join(dir, 'backends.yaml'),
    service('ok', okPort) +
      service('slow', okPort) +
      service('shadow', shadowPort) +
      service('dead', deadPort) +
      service('dead-retry', deadPort).replace(/---\n$/, ''),
  );
  const serve = await startServe([
    '--config',
    dir,
    '--workers',
    '2',
    '--address-pool',
    randomLoopbackPool(),
    '--port-offset',
    '10000',
  ]);
  t.after(async () => {
    await serve.stop('SIGKILL');
    backend.closeAllConnections();
    shadow.closeAllConnections();
    await new Promise((r) => backend.close(r));
    await new Promise((r) => shadow.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  await serve.waitReady();
  const { sockets } = await serve.status();
  return {
    serve,
    gateway: `http://${sockets[0].address}:${sockets[0].boundPort}`,
    mirrored: () => mirrored,
    scrape: async () => {
      const r = await httpGet(serve.admin + '/metrics');
      assert.equal(r.status, 200, r.body);
      assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return r.body;
    },
  };
}

const ROUTE_LABELS = { gateway: 'default/web', listener: 'http', route: 'default/app' };

/** Polls /metrics until `name{labels}` reaches `want` (bounded), then checks it is exactly `want`. */
async function expectMetric(s: Setup, name: string, labels: Record<string, string>, want: number): Promise<string> {
  let text = '';
  await until(
    `${name}${JSON.stringify(labels)} >= ${want}`,
    async () => {
      text = await s.scrape();
      return (metricValue(text, name, labels) ?? 0) >= want;
    },
    10_000,
  );
  assert.equal(metricValue(text, name, labels), want, `${name} ${JSON.stringify(labels)}\n${text}`);
  return text;
}

test('GET /metrics: every counter moves as traffic goes through two workers', { timeout: 120_000 }, async (t) => {
  const s = await setup(t);
  const host = 'app.example.com';

  await t.test('200: N requests on N connections add up to exactly N across workers', async () => {
    const N = 40;
    const answers = await Promise.all(
      Array.from({ length: N }, () => httpGet(s.gateway + '/zz-path-probe?q=1', { host })),
    );
    for (const a of answers) assert.equal(a.status, 200, a.body);
    const labels = { ...ROUTE_LABELS, rule: '4', backend: 'Service/default/ok:80' };
    const text = await expectMetric(
      s,
      'sluice_http_requests_total',
      { ...labels, method: 'GET', code: '200', class: '2xx' },
      N,
    );
    assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_count', labels), N);
    assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }), N);
    assert.ok(metricValue(text, 'sluice_http_request_duration_seconds_sum', labels)! > 0);
    assert.equal(metricValue(text, 'sluice_http_response_body_bytes_total', labels), N * BODY.length);
    assert.equal(metricValue(text, 'sluice_http_requests_in_flight', { ...ROUTE_LABELS, rule: '4' }), 0);
    // Both workers report their process metrics, and the control process its own.
    for (const worker of ['0', '1', 'control']) {
      assert.ok(metricValue(text, 'sluice_process_resident_memory_bytes', { worker })! > 0, `worker ${worker}`);
      assert.notEqual(metricValue(text, 'sluice_process_event_loop_lag_seconds', { worker }), undefined);
    }
  });

  await t.test('404: requests no route takes count under route="no_route"', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await httpGet(s.gateway + '/x', { host: 'nobody.example.com' })).status, 404);
    await expectMetric(s, 'sluice_http_requests_total', { gateway: 'default/web', route: 'no_route', code: '404' }, 3);
    // The access log (on by default, Envoy's text format) has them on stdout, from the workers.
    await until(
      'access log lines on stdout',
      () => s.serve.stdout().match(/"GET \/x HTTP\/1\.1" 404 NR 0 0 \d+ - /g)?.length === 3,
    );
  });

  await t.test('503: a dead backend counts a connect failure', async () => {
    assert.equal((await httpGet(s.gateway + '/dead', { host })).status, 503);
    await expectMetric(s, 'sluice_upstream_connect_failures_total', { backend: 'Service/default/dead:80' }, 1);
    await expectMetric(
      s,
      'sluice_http_requests_total',
      { ...ROUTE_LABELS, rule: '0', backend: 'Service/default/dead:80', code: '503', class: '5xx' },
      1,
    );
  });

  await t.test('retry: each retry and each failed attempt are counted', async () => {
    assert.equal((await httpGet(s.gateway + '/retry', { host })).status, 503);
    const backend = 'Service/default/dead-retry:80';
    await expectMetric(s, 'sluice_upstream_retries_total', { backend }, 2);
    await expectMetric(s, 'sluice_upstream_connect_failures_total', { backend }, 3);
  });

  await t.test('timeout: 504 and a timeout counted', async () => {
    assert.equal((await httpGet(s.gateway + '/slow', { host })).status, 504);
    await expectMetric(s, 'sluice_upstream_timeouts_total', { backend: 'Service/default/slow:80' }, 1);
    const text = await expectMetric(s, 'sluice_http_requests_total', { ...ROUTE_LABELS, rule: '2', code: '504' }, 1);
    // 300 ms request timeout: the request lands in the 0.5 s bucket, not below 0.25 s.
    const labels = { ...ROUTE_LABELS, rule: '2', backend: 'Service/default/slow:80' };
    assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...labels, le: '0.25' }), 0);
    assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...labels, le: '0.5' }), 1);
  });

  await t.test('mirror: each copy sent is counted', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await httpGet(s.gateway + '/mirror', { host })).status, 200);
    await expectMetric(s, 'sluice_mirror_requests_total', { backend: 'Service/default/shadow:80' }, 2);
    await until('the shadow to get both copies', () => s.mirrored() === 2);
    const text = await s.scrape();
    assert.equal(metricValue(text, 'sluice_mirror_dropped_total', { backend: 'Service/default/shadow:80' }), 0);
  });

  await t.test('connections: each client connection counted once across workers, upstream connections', async () => {
    const labels = { gateway: 'default/web', listener: 'http' };
    const ok = { backend: 'Service/default/ok:80' };
    const before = metricValue(await s.scrape(), 'sluice_downstream_connections_total', labels) ?? 0;
    assert.ok(before >= 40, `the earlier requests' connections are counted (${before})`);
    for (let i = 0; i < 5; i++) assert.equal((await httpGet(s.gateway + '/', { host })).status, 200);
    await expectMetric(s, 'sluice_downstream_connections_total', labels, before + 5);
    let text = '';
    await until('no client connection open', async () => {
      text = await s.scrape();
      return metricValue(text, 'sluice_downstream_connections_active', labels) === 0;
    });
    const created = metricValue(text, 'sluice_upstream_connections_created_total', ok) ?? 0;
    assert.ok(created >= 1 && created <= 45, `upstream connections created: ${created}`);
    assert.ok(metricValue(text, 'sluice_upstream_connections_active', ok)! >= 1, 'kept alive in the pools');
    assert.equal(metricValue(text, 'sluice_upstream_requests_pending', ok), 0);
  });

  await t.test('the control process: reloads and their time', async () => {
    const text = await s.scrape();
    assert.ok(metricValue(text, 'sluice_config_reloads_total')! >= 1);
    assert.equal(metricValue(text, 'sluice_config_reload_errors_total'), 0);
    assert.equal(metricValue(text, 'sluice_config_last_reload_success'), 1);
    const at = metricValue(text, 'sluice_config_last_reload_timestamp_seconds')!;
    assert.ok(Math.abs(at - Date.now() / 1000) < 300, String(at));
    assert.equal(metricValue(text, 'sluice_worker_up'), 2);
    // Label values come from configuration only: no path of a request appears.
    assert.doesNotMatch(text, /zz-path-probe|nobody\.example\.com/);
  });
});
