/** Worker counters, their aggregation across workers, and the Prometheus text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsAggregate, renderPrometheus, type ControlMetrics } from '../../src/observability/metrics/aggregate.ts';
import {
  DataPlaneMetrics,
  ProcessSampler,
  UpstreamEvent,
  methodIndex,
} from '../../src/observability/metrics/data-plane-metrics.ts';
import { metricValue } from '../support/metrics.ts';

const A = ['default/web', 'http', 'default/app', '0', 'Service/default/a:80'] as const;
const B = ['default/web', 'http', 'default/app', '0', 'Service/default/b:80'] as const;

function control(): ControlMetrics {
  return {
    reloads: 3,
    reloadErrors: 1,
    lastReloadSeconds: 1700000000,
    lastReloadSuccess: true,
    configVersion: 2,
    workers: [{ slot: 0, state: 'running', restarts: 1 }],
    control: new ProcessSampler().sample(),
  };
}

test('series ids are stable per label set; counts land in the right series, method, code and bucket', () => {
  const m = new DataPlaneMetrics();
  const a = m.series(A);
  const b = m.series(B);
  assert.notEqual(a, b);
  assert.equal(m.series([...A]), a);
  m.record(a, methodIndex('GET'), 200, 0.2, 0, 10);
  m.record(a, methodIndex('GET'), 200, 3, 5, 10);
  m.record(a, methodIndex('BREW'), 418, 40_000, 0, 0);
  m.record(b, methodIndex('POST'), 503, 1, 7, 0);
  const be = m.backend('Service/default/a:80');
  m.upstreamEvent(be, UpstreamEvent.Retry);
  m.upstreamEvent(be, UpstreamEvent.Retry);
  m.upstreamEvent(be, UpstreamEvent.ConnectFailure);

  const agg = new MetricsAggregate();
  agg.add(m.snapshot(), { worker: '0' });
  const text = renderPrometheus(agg, control());
  m.close();
  const la = { route: 'default/app', backend: 'Service/default/a:80' };
  assert.equal(metricValue(text, 'sluice_http_requests_total', { ...la, method: 'GET', code: '200', class: '2xx' }), 2);
  assert.equal(metricValue(text, 'sluice_http_requests_total', { ...la, method: 'other', code: '418' }), 1);
  assert.equal(
    metricValue(text, 'sluice_http_requests_total', { backend: 'Service/default/b:80', method: 'POST', code: '503' }),
    1,
  );
  // 0.2 ms → first bucket; 3 ms → 0.005; 40 s → only +Inf.
  assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...la, le: '0.0005' }), 1);
  assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...la, le: '0.0025' }), 1);
  assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...la, le: '0.005' }), 2);
  assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...la, le: '30' }), 2);
  assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_bucket', { ...la, le: '+Inf' }), 3);
  assert.equal(metricValue(text, 'sluice_http_request_duration_seconds_count', la), 3);
  assert.equal(metricValue(text, 'sluice_http_request_body_bytes_total', la), 5);
  assert.equal(metricValue(text, 'sluice_http_response_body_bytes_total', la), 20);
  assert.equal(metricValue(text, 'sluice_upstream_retries_total', { backend: 'Service/default/a:80' }), 2);
  assert.equal(metricValue(text, 'sluice_upstream_connect_failures_total', { backend: 'Service/default/a:80' }), 1);
  assert.equal(metricValue(text, 'sluice_config_reloads_total'), 3);
  assert.equal(metricValue(text, 'sluice_config_reload_errors_total'), 1);
  assert.equal(metricValue(text, 'sluice_worker_restarts_total', { worker: '0' }), 1);
});

test('workers with different id orders sum by labels; exited workers keep their counters, not their gauges', () => {
  const w0 = new DataPlaneMetrics();
  const w1 = new DataPlaneMetrics();
  const a0 = w0.series(A);
  const b1 = w1.series(B); // ids differ between workers
  const a1 = w1.series(A);
  for (let i = 0; i < 3; i++) w0.record(a0, 0, 200, 1, 0, 1);
  for (let i = 0; i < 4; i++) w1.record(a1, 0, 200, 1, 0, 1);
  w1.record(b1, 0, 200, 1, 0, 1);
  w0.requestStarted(w0.series(['default/web', 'http', 'default/app', '0', '']));

  const retired = new MetricsAggregate();
  retired.add(w0.snapshot(), { gauges: false });
  const agg = new MetricsAggregate();
  agg.addAggregate(retired);
  agg.add(w1.snapshot(), { worker: '1' });
  const text = renderPrometheus(agg, control());
  w0.close();
  w1.close();
  assert.equal(metricValue(text, 'sluice_http_requests_total', { backend: 'Service/default/a:80' }), 3 + 4);
  assert.equal(metricValue(text, 'sluice_http_requests_total', { backend: 'Service/default/b:80' }), 1);
  assert.equal(metricValue(text, 'sluice_http_requests_in_flight', { route: 'default/app' }), 0);

  const one = new MetricsAggregate();
  one.addAggregate(retired);
  one.add(new DataPlaneMetrics(false).snapshot(), { worker: '1' });
  assert.equal(
    metricValue(renderPrometheus(one, control()), 'sluice_http_requests_total', { backend: 'Service/default/a:80' }),
    3,
  );
});

test('disabled metrics count nothing', () => {
  const m = new DataPlaneMetrics(false);
  const a = m.series(A);
  m.record(a, 0, 200, 1, 1, 1);
  m.requestStarted(a);
  m.upstreamEvent(m.backend('x'), UpstreamEvent.Timeout);
  const s = m.snapshot();
  assert.deepEqual(s.requests, []);
  assert.deepEqual(s.inFlight, [0]);
  assert.deepEqual(s.upstream, [0, 0, 0, 0, 0, 0]);
});

test('label values are escaped', () => {
  const m = new DataPlaneMetrics();
  m.record(m.series(['ns/gw', 'l', 'ns/"r"\\x', '0', '']), 0, 200, 1, 0, 0);
  const agg = new MetricsAggregate();
  agg.add(m.snapshot());
  m.close();
  const text = renderPrometheus(agg, control());
  assert.match(text, /route="ns\/\\"r\\"\\\\x"/);
  assert.equal(metricValue(text, 'sluice_http_requests_total', { route: 'ns/"r"\\x' }), 1);
});
