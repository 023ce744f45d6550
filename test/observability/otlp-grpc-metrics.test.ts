/**
 * EnvoyProxy metric sinks over OTLP/gRPC: the control process's pusher
 * encodes its OTLP request as protobuf and calls MetricsService/Export on a
 * real @grpc/grpc-js receiver (test/support/otlp-grpc-receiver.ts), which
 * decodes it with its own minimal proto.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IR, OtlpEndpointIR } from '../../src/ir/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { MetricsAggregate } from '../../src/observability/metrics/aggregate.ts';
import { DURATION_BUCKETS, DataPlaneMetrics, methodIndex } from '../../src/observability/metrics/data-plane-metrics.ts';
import { OtlpMetricsPusher } from '../../src/observability/metrics/otlp-push.ts';
import { startGrpcReceiver } from '../support/otlp-grpc-receiver.ts';

function irWithSink(endpoint: OtlpEndpointIR): IR {
  return {
    gateways: [
      {
        namespace: 'default',
        name: 'web',
        addresses: [],
        listeners: [],
        telemetry: {
          source: 'default/proxy',
          metrics: {
            prometheusDisabled: false,
            enablePerEndpointStats: false,
            enableVirtualHostStats: false,
            enableRequestResponseSizesStats: false,
            sinks: [endpoint],
          },
        },
      },
    ],
  };
}

test('a gRPC metric sink receives the series over MetricsService/Export: sums, histograms, resource, metadata', async (t) => {
  const receiver = await startGrpcReceiver();
  t.after(() => receiver.close());
  const m = new DataPlaneMetrics();
  const web = m.series(['default/web', 'http', 'default/app', '0', '']);
  m.record(web, methodIndex('GET'), 200, 25, 0, 0);
  m.record(web, methodIndex('GET'), 200, 25, 0, 0);
  m.record(web, methodIndex('POST'), 503, 25, 0, 0);
  const other = m.series(['default/other', 'http', 'default/app', '0', '']);
  m.record(other, methodIndex('GET'), 200, 25, 0, 0);
  const agg = new MetricsAggregate();
  agg.add(m.snapshot(), { worker: '0' });
  const pusher = new OtlpMetricsPusher({
    collect: () => Promise.resolve(agg),
    config: () =>
      irWithSink({
        url: receiver.url,
        protocol: 'grpc',
        headers: [{ name: 'X-Api-Key', value: 'metrics-key' }],
        resourceAttributes: { 'k8s.cluster.name': 'test' },
      }),
    log: createLogger('silent'),
    intervalMs: 3_600_000,
  });
  t.after(() => pusher.close());
  await pusher.push();

  const [requests] = await receiver.waitForMetrics('sluice_http_requests_total', (ms) =>
    ms.filter((x) => x.name === 'sluice_http_requests_total'),
  );
  assert.equal(requests.type, 'sum');
  assert.equal(requests.monotonic, true);
  assert.equal(requests.temporality, 2, 'cumulative');
  const points = requests.points
    .map(
      (p) =>
        `${String(p.attributes.gateway)} ${String(p.attributes.method)} ${String(p.attributes.code)} ${String(p.attributes.class)} ${p.value}`,
    )
    .sort();
  assert.deepEqual(
    points,
    ['default/web GET 200 2xx 2', 'default/web POST 503 5xx 1'],
    'only the Gateway that has the sink',
  );
  assert.ok(requests.points.every((p) => p.startNs > 0n && p.startNs <= p.timeNs));
  assert.equal(requests.resource['service.name'], 'sluice');
  assert.equal(requests.resource['k8s.cluster.name'], 'test');

  const duration = receiver.metrics.find((x) => x.name === 'sluice_http_request_duration_seconds');
  assert.ok(duration, receiver.metrics.map((x) => x.name).join(', '));
  assert.equal(duration.type, 'histogram');
  assert.equal(duration.temporality, 2);
  assert.equal(duration.points.length, 1);
  const [h] = duration.points;
  assert.equal(h.count, 3);
  assert.ok((h.sum ?? 0) > 0);
  assert.deepEqual(h.explicitBounds, [...DURATION_BUCKETS]);
  assert.equal(h.bucketCounts?.length, DURATION_BUCKETS.length + 1);
  assert.equal(
    h.bucketCounts?.reduce((a, b) => a + b, 0),
    3,
  );
  const inFlight = receiver.metrics.find((x) => x.name === 'sluice_http_requests_in_flight');
  assert.equal(inFlight?.type, 'gauge');
  assert.equal(receiver.calls.find((c) => c.service === 'metrics')?.metadata['x-api-key'], 'metrics-key');
});

test('an unreachable gRPC metric sink is logged, never thrown', async (t) => {
  const warnings: string[] = [];
  const log = createLogger('silent');
  log.warn = (_obj: unknown, msg?: string) => void warnings.push(msg ?? '');
  const receiver = await startGrpcReceiver();
  const url = receiver.url;
  await receiver.close(); // nothing listens on that port any more
  const pusher = new OtlpMetricsPusher({
    collect: () => Promise.resolve(new MetricsAggregate()),
    config: () => irWithSink({ url, protocol: 'grpc' }),
    log,
    intervalMs: 3_600_000,
    timeoutMs: 2000,
  });
  t.after(() => pusher.close());
  await pusher.push();
  assert.deepEqual(warnings, ['OTLP/gRPC metrics push failed']);
});
