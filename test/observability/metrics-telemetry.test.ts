/** L4 session counters across workers, the dropped access-log lines, EnvoyProxy `prometheus.disable` and per-endpoint series. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MetricsAggregate,
  prometheusHiddenGateways,
  renderPrometheus,
  type ControlMetrics,
} from '../../src/observability/metrics/aggregate.ts';
import {
  DataPlaneMetrics,
  L4Counter,
  ProcessSampler,
  methodIndex,
} from '../../src/observability/metrics/data-plane-metrics.ts';
import { metricValue } from '../support/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createDataPlane } from '../../src/proxy/index.ts';
import { LOOPBACK, backend, endpointsOf, listener, request, route, startOrigin } from '../proxy/helpers.ts';
import { freeTcpPort } from '../proxy/l4/l4-helpers.ts';

function control(extra: Partial<ControlMetrics> = {}): ControlMetrics {
  return {
    reloads: 1,
    reloadErrors: 0,
    lastReloadSeconds: 0,
    lastReloadSuccess: true,
    configVersion: 1,
    workers: [],
    control: new ProcessSampler().sample(),
    ...extra,
  };
}

function worker(sessions: number, drops: number): DataPlaneMetrics {
  const m = new DataPlaneMetrics();
  const tcp = m.l4Series(['tcp', 'default/l4', 'db', 'default/db', 'Service/default/pg:5432']);
  const udp = m.l4Series(['udp', 'default/l4', 'dns', 'default/dns', 'Service/default/dns:53']);
  for (let i = 0; i < sessions; i++) {
    m.l4Add(tcp, L4Counter.Sessions);
    m.l4Add(tcp, L4Counter.Active);
  }
  m.l4Add(tcp, L4Counter.Active, -1);
  m.l4Add(tcp, L4Counter.ReceivedBytes, 100);
  m.l4Add(tcp, L4Counter.SentBytes, 250);
  m.l4Add(tcp, L4Counter.ConnectFailures);
  m.l4Add(udp, L4Counter.Sessions);
  m.accessLogDropped = () => drops;
  const web = m.series(['default/web', 'http', 'default/app', '0', '']);
  m.record(web, methodIndex('GET'), 200, 1, 0, 0);
  return m;
}

test('L4 counters and dropped access-log lines are summed across workers and rendered per transport', () => {
  const a = worker(2, 3);
  const b = worker(3, 4);
  const agg = new MetricsAggregate();
  agg.add(a.snapshot(), { worker: '0' });
  agg.add(b.snapshot(), { worker: '1' });
  const text = renderPrometheus(agg, control());
  const labels = { gateway: 'default/l4', listener: 'db', route: 'default/db', backend: 'Service/default/pg:5432' };
  assert.equal(metricValue(text, 'sluice_tcp_sessions_total', labels), 5);
  assert.equal(metricValue(text, 'sluice_tcp_sessions_active', labels), 3);
  assert.equal(metricValue(text, 'sluice_tcp_received_bytes_total', labels), 200);
  assert.equal(metricValue(text, 'sluice_tcp_sent_bytes_total', labels), 500);
  assert.equal(metricValue(text, 'sluice_tcp_connect_failures_total', labels), 2);
  assert.equal(metricValue(text, 'sluice_udp_sessions_total', { listener: 'dns' }), 2);
  assert.equal(metricValue(text, 'sluice_udp_sessions_total', { listener: 'db' }), undefined);
  assert.equal(metricValue(text, 'sluice_access_log_dropped_total'), 7);
  assert.match(text, /# TYPE sluice_tcp_sessions_active gauge/);
  a.close();
  b.close();
});

test('prometheus.disable leaves that Gateway series out of /metrics', () => {
  const m = worker(1, 0);
  const agg = new MetricsAggregate();
  agg.add(m.snapshot(), { worker: '0' });
  const hidden = prometheusHiddenGateways({
    gateways: [
      {
        namespace: 'default',
        name: 'l4',
        addresses: [],
        listeners: [],
        telemetry: {
          source: 'default/proxy',
          metrics: {
            prometheusDisabled: true,
            enablePerEndpointStats: false,
            enableVirtualHostStats: false,
            enableRequestResponseSizesStats: false,
            sinks: [],
          },
        },
      },
      { namespace: 'default', name: 'web', addresses: [], listeners: [] },
    ],
  });
  assert.deepEqual([...hidden], ['default/l4']);
  const text = renderPrometheus(agg, control({ hiddenGateways: hidden }));
  assert.equal(metricValue(text, 'sluice_tcp_sessions_total'), undefined);
  assert.equal(metricValue(text, 'sluice_http_requests_total', { gateway: 'default/web' }), 1);
  const all = renderPrometheus(agg, control());
  assert.equal(metricValue(all, 'sluice_tcp_sessions_total'), 1);
  m.close();
});

test('enablePerEndpointStats, enableVirtualHostStats, enableRequestResponseSizesStats: series of that Gateway only', async (t) => {
  const [a, b] = [await startOrigin('a'), await startOrigin('b')];
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
  const metricsOn = {
    prometheusDisabled: false,
    enablePerEndpointStats: true,
    enableVirtualHostStats: true,
    enableRequestResponseSizesStats: true,
    sinks: [],
  };
  const r = (): ReturnType<typeof route> => route({ backends: [backend('pool', endpointsOf(a.port, b.port))] });
  const dp = createDataPlane({ portOffset: 0, log: createLogger('silent') });
  t.after(() => dp.close(200));
  const result = await dp.apply({
    gateways: [
      {
        namespace: 'default',
        name: 'counted',
        addresses: [LOOPBACK],
        listeners: [listener('http', [r()], { port: p1 })],
        telemetry: { source: 'default/proxy', metrics: metricsOn },
      },
      {
        namespace: 'default',
        name: 'plain',
        addresses: [LOOPBACK],
        listeners: [listener('http', [r()], { port: p2 })],
      },
    ],
  });
  assert.deepEqual(result.errors, []);
  for (let i = 0; i < 5; i++) assert.equal((await request(p1)).status, 200);
  assert.equal((await request(p1, { method: 'POST', body: 'x'.repeat(100) })).status, 200);
  assert.equal((await request(p2)).status, 200);
  const agg = new MetricsAggregate();
  agg.add(dp.metrics!(), { worker: '0' });
  const text = renderPrometheus(agg, control());
  const at = (port: number): number | undefined =>
    metricValue(text, 'sluice_upstream_endpoint_requests_total', { endpoint: `127.0.0.1:${port}`, class: '2xx' });
  assert.equal((at(a.port) ?? 0) + (at(b.port) ?? 0), 6);
  assert.ok((at(a.port) ?? 0) > 0 && (at(b.port) ?? 0) > 0, text);
  assert.equal(metricValue(text, 'sluice_upstream_endpoint_requests_total', { gateway: 'default/plain' }), undefined);
  assert.equal(metricValue(text, 'sluice_upstream_endpoint_requests_total', { gateway: 'default/counted' }), 6);
  const vhosts = text.split('\n').filter((l) => l.startsWith('sluice_http_vhost_requests_total{'));
  assert.equal(vhosts.length, 1, vhosts.join('\n'));
  assert.match(vhosts[0], /gateway="default\/counted",vhost="[^"]+",class="2xx"\} 6$/);
  const counted = { gateway: 'default/counted' };
  assert.equal(metricValue(text, 'sluice_http_request_size_bytes_count', counted), 6);
  assert.equal(metricValue(text, 'sluice_http_request_size_bytes_bucket', { ...counted, le: '64' }), 5);
  assert.equal(metricValue(text, 'sluice_http_request_size_bytes_bucket', { ...counted, le: '256' }), 6);
  assert.equal(metricValue(text, 'sluice_http_request_size_bytes_sum', counted), 100);
  assert.equal(metricValue(text, 'sluice_http_response_size_bytes_count', counted), 6);
  assert.equal(metricValue(text, 'sluice_http_request_size_bytes_count', { gateway: 'default/plain' }), undefined);
});
