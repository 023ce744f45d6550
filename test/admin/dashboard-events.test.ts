/**
 * The dashboard over real sockets: the page's files and redirects on the
 * admin server, and the Server-Sent Events stream read by a plain HTTP
 * client (snapshot first, then ticks carrying counted requests; clients
 * capped; a client that leaves stops the sampling).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dashboard, EVENTS_PATH } from '../../src/admin/dashboard/http.ts';
import type { DashboardView, Point } from '../../src/admin/dashboard/feed.ts';
import { startAdminServer } from '../../src/admin/server.ts';
import { MetricsAggregate } from '../../src/observability/metrics/aggregate.ts';
import { DataPlaneMetrics, methodIndex } from '../../src/observability/metrics/data-plane-metrics.ts';
import { httpGet, until } from '../support/serve.ts';

interface SseEvent {
  event: string;
  data: unknown;
}

/** An SSE client: collects parsed events until closed. */
function listen(
  url: string,
): Promise<{ res: IncomingMessage; req: ClientRequest; events: SseEvent[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const events: SseEvent[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      });
      res.on('error', () => {});
      resolve({ res, req, events, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

function source() {
  const metrics = new DataPlaneMetrics();
  const s1 = metrics.series(['default/web', 'http', 'default/app', '0', 'Service/default/a:80']);
  let pulls = 0;
  return {
    record: (n: number) => {
      for (let i = 0; i < n; i++) metrics.record(s1, methodIndex('GET'), 200, 1, 0, 0);
    },
    pulls: () => pulls,
    readiness: () => ({ ready: true }),
    status: () => ({
      version: 1,
      ready: true,
      resources: [
        {
          kind: 'Gateway',
          metadata: { namespace: 'default', name: 'web' },
          status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] },
        },
      ],
      reloads: { count: 1, errors: 0, last: { at: '2025-01-01T00:00:00Z', result: 'ok', version: 1, problems: [] } },
    }),
    config: () => undefined,
    metricsAggregate: () => {
      pulls++;
      const agg = new MetricsAggregate();
      agg.add(metrics.snapshot(), { worker: '0' });
      return Promise.resolve(agg);
    },
  };
}

test('the admin server serves the page, its modules and uPlot, with their types', async (t) => {
  const admin = await startAdminServer('127.0.0.1', 0, source());
  t.after(() => admin.close());
  let r = await httpGet(admin.url + '/');
  assert.deepEqual([r.status, r.headers.location], [302, '/dashboard/']);
  r = await httpGet(admin.url + '/dashboard');
  assert.deepEqual([r.status, r.headers.location], [302, '/dashboard/']);
  const files: Array<[string, string, RegExp]> = [
    ['/dashboard/', 'text/html; charset=utf-8', /<script type="module" src="app.js">/],
    ['/dashboard/index.html', 'text/html; charset=utf-8', /<title>Sluice dashboard<\/title>/],
    ['/dashboard/app.js', 'text/javascript; charset=utf-8', /from '.\/vendor\/uPlot.esm.js'/],
    ['/dashboard/style.css', 'text/css; charset=utf-8', /\.badge/],
    ['/dashboard/vendor/uPlot.esm.js', 'text/javascript; charset=utf-8', /export \{ uPlot as default \}/],
    ['/dashboard/vendor/uPlot.min.css', 'text/css; charset=utf-8', /\.uplot/],
  ];
  for (const [path, type, body] of files) {
    r = await httpGet(admin.url + path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], type, path);
    assert.match(r.body, body, path);
  }
  for (const path of ['/dashboard/nope.js', '/dashboard/..%2fhttp.ts', '/dashboard/static/app.js']) {
    assert.equal((await httpGet(admin.url + path)).status, 404, path);
  }
  assert.equal((await httpGet(admin.url + '/api/status')).status, 200, 'the API is still there');
});

test('the event stream: a snapshot, then ticks with the requests counted since', async (t) => {
  const src = source();
  const admin = await startAdminServer('127.0.0.1', 0, src);
  t.after(() => admin.close());
  src.record(50); // before anyone listens: not in the figures
  const client = await listen(admin.url + EVENTS_PATH);
  t.after(() => client.close());
  assert.equal(client.res.statusCode, 200);
  assert.equal(client.res.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(client.res.headers['cache-control'], 'no-store');

  await until('the snapshot', () => client.events.length >= 1);
  const first = client.events[0];
  assert.equal(first.event, 'snapshot');
  const snap = first.data as { view: DashboardView; history: Point[] };
  assert.deepEqual(snap.view.gateways, ['default/web']);
  assert.equal(snap.view.reload.last?.result, 'ok');
  assert.deepEqual(snap.view.status[0].conditions[0], {
    type: 'Accepted',
    status: 'True',
    reason: 'Accepted',
    message: 'ok',
    ok: true,
  });

  // The first tick comes a sample after the baseline; count from there.
  await until('a tick', () => client.events.some((e) => e.event === 'tick'), 15_000);
  src.record(7);
  const counted = await until(
    'a tick counting 7 requests',
    () => {
      const ticks = client.events.filter((e) => e.event === 'tick');
      const v = (ticks[ticks.length - 1].data as { view: DashboardView }).view;
      return v.rules.find((r) => r.id === 'default/app#0' && r.requests === 7);
    },
    15_000,
  );
  assert.deepEqual(
    counted.backends.map((b) => [b.name, b.requests, b.share, b.weight]),
    [['Service/default/a:80', 7, 1, null]],
  );
  const tick = client.events.find((e) => e.event === 'tick')!.data as { point: Point };
  assert.equal(typeof tick.point.t, 'number');
});

test('clients are capped, and the last one leaving stops the sampling', async (t) => {
  const src = source();
  const dashboard = new Dashboard(src, { intervalMs: 50, maxClients: 2 });
  const server = createServer((req, res) => {
    if (!dashboard.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${EVENTS_PATH}`;
  assert.equal(dashboard.feed.sampling, false, 'no timer before anyone listens');

  const a = await listen(url);
  const b = await listen(url);
  await until('both clients ticking', () => a.events.length >= 2 && b.events.length >= 2);
  assert.equal(dashboard.feed.sampling, true);
  const third = await httpGet(url);
  assert.equal(third.status, 503);
  assert.match(third.body, /too many dashboard clients/);

  a.close();
  await until('one client left', () => dashboard.events.clients === 1);
  assert.equal(dashboard.feed.sampling, true);
  const c = await listen(url);
  await until('a new client gets its snapshot', () => c.events[0]?.event === 'snapshot');
  b.close();
  c.close();
  await until('no clients', () => dashboard.events.clients === 0);
  assert.equal(dashboard.feed.sampling, false);
  assert.equal(dashboard.feed.listeners, 0);
  assert.ok(src.pulls() >= 2, 'samples were taken while clients listened');
});
