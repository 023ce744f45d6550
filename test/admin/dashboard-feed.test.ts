/**
 * The dashboard feed against real counters: a DataPlaneMetrics records
 * requests as the data plane does, its snapshot goes through a real
 * MetricsAggregate, and the configuration is the quickstart translated for
 * real. The clock is the test's, so rates and windows are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DashboardFeed, type FeedEvent } from '../../src/admin/dashboard/feed.ts';
import { reloadView, statusRows } from '../../src/admin/dashboard/overview.ts';
import { quantile } from '../../src/admin/dashboard/stats.ts';
import { MetricsAggregate } from '../../src/observability/metrics/aggregate.ts';
import {
  DataPlaneMetrics,
  DURATION_BUCKET_COUNT,
  NO_ROUTE,
  UpstreamEvent,
  methodIndex,
} from '../../src/observability/metrics/data-plane-metrics.ts';
import { resourcesWithStatus, translate } from '../../src/translate/index.ts';
import { root, until } from '../support/serve.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';

const V1 = 'Service/default/app-v1:80';
const V2 = 'Service/default/app-v2:80';
const RULE = 'default/app#0';

function quickstart(): { ir: unknown; status: unknown } {
  const dir = join(root, 'examples/quickstart');
  const yaml = ['gateway.yaml', 'route.yaml', 'backends.yaml'].map((f) => readFileSync(join(dir, f), 'utf8'));
  const snapshot = snapshotFromYaml(yaml.join('\n---\n'));
  const result = translate(snapshot, { now: '2025-01-01T00:00:00Z' });
  return {
    ir: result.ir,
    status: {
      version: 3,
      ready: true,
      resources: resourcesWithStatus(snapshot, result),
      reloads: { count: 4, errors: 1, last: { at: '2025-01-01T00:00:00Z', result: 'ok', version: 3, problems: [] } },
    },
  };
}

/** A worker's counters as the data plane keeps them, and a feed reading them through a MetricsAggregate. */
function setup(opts: { windowSeconds?: number } = {}) {
  const metrics = new DataPlaneMetrics();
  const labels = ['default/web', 'http', 'default/app', '0'] as const;
  const s1 = metrics.series([...labels, V1]);
  const s2 = metrics.series([...labels, V2]);
  const b1 = metrics.backend(V1);
  const unmatched = metrics.series(['default/web', '', NO_ROUTE, '', '']);
  const { ir, status } = quickstart();
  let now = 1_000_000;
  const feed = new DashboardFeed(
    {
      status: () => status,
      config: () => ir,
      metricsAggregate: () => {
        const agg = new MetricsAggregate();
        agg.add(metrics.snapshot(), { worker: '0' });
        return Promise.resolve(agg);
      },
    },
    { now: () => now, windowSeconds: opts.windowSeconds ?? 300, statsSeconds: 10 },
  );
  const get = methodIndex('GET');
  return {
    feed,
    metrics,
    b1,
    advance: (ms: number) => (now += ms),
    v1: (n: number, code: number, ms: number) => {
      for (let i = 0; i < n; i++) metrics.record(s1, get, code, ms, 0, 10);
    },
    v2: (n: number, code: number, ms: number) => {
      for (let i = 0; i < n; i++) metrics.record(s2, get, code, ms, 0, 10);
    },
    unmatched: (n: number) => {
      for (let i = 0; i < n; i++) metrics.record(unmatched, get, 404, 1, 0, 0);
    },
  };
}

const close = (a: number | null, b: number, eps = 1e-9): boolean => a !== null && Math.abs(a - b) <= eps;

test('quantiles interpolate inside the bucket, like histogram_quantile', () => {
  const b = new Array<number>(DURATION_BUCKET_COUNT).fill(0);
  assert.equal(quantile(b, 0.5), null);
  b[3] = 90; // (2.5 ms, 5 ms]
  assert.ok(close(quantile(b, 0.5), 0.0025 + 0.0025 * 0.5));
  assert.ok(close(quantile(b, 0.99), 0.0025 + 0.0025 * 0.99));
  b[0] = 10; // (0, 0.5 ms]: the lowest tenth
  assert.ok(close(quantile(b, 0.05), 0.0005 * 0.5));
  assert.ok(close(quantile(b, 0.55), 0.0025 + 0.0025 * 0.5));
  const slow = new Array<number>(DURATION_BUCKET_COUNT).fill(0);
  slow[DURATION_BUCKET_COUNT - 1] = 1; // +Inf: the highest finite bound
  assert.equal(quantile(slow, 0.99), 30);
});

test('rates, split, success, percentiles and errors from counter deltas', async () => {
  const f = setup();
  f.v1(500, 200, 1); // before the baseline: never counted
  assert.equal(await f.feed.sample(), undefined, 'the first read is the baseline');

  f.v1(90, 200, 3);
  f.v2(8, 200, 40);
  f.v2(2, 503, 40);
  f.unmatched(5);
  f.metrics.upstreamEvent(f.b1, UpstreamEvent.Retry);
  f.metrics.upstreamEvent(f.b1, UpstreamEvent.Timeout);
  f.advance(2000);
  const point = await f.feed.sample();
  assert.ok(point);
  assert.equal(point.t, 1_002_000 / 1000);
  assert.deepEqual(point.rules[RULE], { [V1]: [45, 0.9], [V2]: [5, 0.1] });

  const view = f.feed.view();
  assert.deepEqual(
    view.rules.map((r) => [r.id, r.configured, r.requests]),
    [
      [RULE, true, 100],
      ['no_route#', false, 5],
    ],
  );
  const rule = view.rules[0];
  assert.deepEqual(rule.hostnames, ['app.example.com']);
  assert.deepEqual(rule.listeners, ['default/web/http']);
  assert.equal(rule.rps, 50);
  const [v1, v2] = rule.backends;
  assert.deepEqual(
    [v1.name, v1.weight, v1.weightShare, v1.requests, v1.share, v1.rps, v1.success, v1.errors],
    [V1, 90, 0.9, 90, 0.9, 45, 1, {}],
  );
  assert.deepEqual(
    [v2.name, v2.weight, v2.weightShare, v2.requests, v2.share, v2.rps, v2.success, v2.errors],
    [V2, 10, 0.1, 10, 0.1, 5, 0.8, { 503: 2 }],
  );
  assert.ok(close(v1.p50, 0.00375), `v1 p50 ${v1.p50}`);
  assert.ok(close(v1.p99, 0.004975), `v1 p99 ${v1.p99}`);
  assert.ok(close(v2.p50, 0.0375), `v2 p50 ${v2.p50}`);
  assert.ok(close(v2.p99, 0.04975), `v2 p99 ${v2.p99}`);
  assert.deepEqual(view.rules[1].backends[0].errors, { 404: 5 });
  assert.deepEqual(view.upstream, [{ backend: V1, connectFailures: 0, timeouts: 1, resets: 0, retries: 1 }]);

  // Status and reload come through as rows.
  assert.deepEqual(view.config, { version: 3, ready: true });
  assert.deepEqual(view.gateways, ['default/web']);
  assert.deepEqual(
    view.status.map((r) => [r.kind, r.name, r.conditions.map((c) => `${c.type}=${c.status}${c.ok ? '' : '!'}`)]),
    [
      ['Gateway', 'default/web', ['Accepted=True', 'Programmed=True', 'ResolvedRefs=True']],
      ['Listener', 'default/web/http', ['Accepted=True', 'Programmed=True', 'ResolvedRefs=True']],
      ['HTTPRoute', 'default/app', ['Accepted=True', 'ResolvedRefs=True']],
    ],
  );
  assert.equal(view.status[2].parent, 'Gateway default/web');
  assert.equal(view.reload.last?.result, 'ok');
  assert.deepEqual([view.reload.count, view.reload.errors], [4, 1]);
});

test('status rows: negative conditions are healthy when False; a failed reload keeps its error', () => {
  const rows = statusRows([
    {
      kind: 'Gateway',
      metadata: { namespace: 'ns', name: 'gw' },
      status: {
        conditions: [{ type: 'Programmed', status: 'False', reason: 'AddressNotUsable', message: 'no' }],
        listeners: [
          {
            name: 'a',
            attachedRoutes: 0,
            conditions: [{ type: 'Conflicted', status: 'True', reason: 'PortConflict' }],
          },
          {
            name: 'b',
            attachedRoutes: 2,
            conditions: [{ type: 'Conflicted', status: 'False', reason: 'NoConflicts' }],
          },
        ],
      },
    },
    { kind: 'Secret', metadata: { name: 'x' } },
    { kind: 'GRPCRoute', metadata: { namespace: 'ns', name: 'r' } },
  ]);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.name, r.parent, r.attachedRoutes, r.conditions.map((c) => c.ok)]),
    [
      ['Gateway', 'ns/gw', undefined, undefined, [false]],
      ['Listener', 'ns/gw/a', 'ns/gw', 0, [false]],
      ['Listener', 'ns/gw/b', 'ns/gw', 2, [true]],
      ['GRPCRoute', 'ns/r', undefined, undefined, []],
    ],
  );
  const reload = reloadView({ reloads: { count: 2, errors: 1, last: { at: 'x', result: 'failed', error: 'gone' } } });
  assert.deepEqual(reload.last, { at: 'x', result: 'failed', version: 0, problems: [], error: 'gone' });
});

test('the stats window slides; the split window keeps the last minutes', async () => {
  const f = setup({ windowSeconds: 60 });
  await f.feed.sample();
  f.v1(9, 200, 1);
  f.v2(1, 200, 1);
  f.advance(1000);
  await f.feed.sample();
  // Eleven idle seconds: the rate goes to 0, the split over the window stays.
  for (let i = 0; i < 11; i++) {
    f.advance(1000);
    await f.feed.sample();
  }
  let rule = f.feed.view().rules[0];
  assert.equal(rule.rps, 0);
  assert.deepEqual(
    rule.backends.map((b) => [b.requests, b.share, b.recentShare, b.p50]),
    [
      [9, 0.9, null, null],
      [1, 0.1, null, null],
    ],
  );
  // Past the window: nothing observed any more, the history is trimmed too.
  for (let i = 0; i < 50; i++) {
    f.advance(1000);
    await f.feed.sample();
  }
  rule = f.feed.view().rules[0];
  assert.deepEqual(
    rule.backends.map((b) => [b.requests, b.share]),
    [
      [0, null],
      [0, null],
    ],
  );
  let snapshot: FeedEvent | undefined;
  const unsubscribe = f.feed.subscribe((e) => (snapshot ??= e));
  unsubscribe();
  assert.equal(snapshot?.type, 'snapshot');
  const history = snapshot.type === 'snapshot' ? snapshot.history : [];
  assert.ok(history.length <= 60 && history.length >= 58, `history of ${history.length} points`);
});

test('sampling runs only while someone listens, and restarts from a new baseline', async () => {
  const f = setup();
  const real = new DashboardFeed(
    { status: () => ({}), config: () => undefined, metricsAggregate: () => Promise.resolve(new MetricsAggregate()) },
    { intervalMs: 20 },
  );
  assert.equal(real.sampling, false);
  const events: FeedEvent[] = [];
  const off = real.subscribe((e) => events.push(e));
  assert.equal(real.sampling, true);
  assert.equal(events[0].type, 'snapshot');
  await until('two ticks', () => events.filter((e) => e.type === 'tick').length >= 2, 10_000);
  off();
  assert.equal(real.sampling, false);
  assert.equal(real.listeners, 0);

  // After a pause the counters moved on: the first read after it is a new baseline, not a burst.
  await f.feed.sample();
  f.v1(10, 200, 1);
  f.advance(1000);
  await f.feed.sample();
  f.feed.close();
  f.v1(1000, 200, 1);
  f.advance(60_000);
  assert.equal(await f.feed.sample(), undefined);
  f.advance(1000);
  await f.feed.sample();
  assert.equal(f.feed.view().rules[0].backends[0].requests, 10);
});
