/**
 * Export pipelines: shared by key, kept across reloads, flushed when
 * released or closed - against a real OTLP/HTTP receiver.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TracingIR } from '../../../src/ir/types.ts';
import { TracerRegistry } from '../../../src/observability/tracing/registry.ts';
import { compileRouteTracing } from '../../../src/observability/tracing/route-tracing.ts';
import type { TracedRequest, Tracer } from '../../../src/observability/tracing/tracer.ts';
import { SERVER, startReceiver, type Receiver } from './otlp-receiver.ts';

let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
});
after(() => receiver.close());

function ir(extra: Partial<TracingIR['provider']> = {}): TracingIR {
  return {
    samplingPercent: 100,
    provider: { type: 'OpenTelemetry', endpoint: { url: receiver.url }, serviceName: 'infra/web', ...extra },
    tags: {},
  };
}

const ROUTE = compileRouteTracing({ kind: 'HTTPRoute', namespace: 'infra', name: 'app' }, undefined);

/** A finished request as the data plane would describe it. */
function req(path: string): TracedRequest {
  return {
    method: 'GET',
    rawHeaders: ['Host', 'example.com'],
    headers: ['host', 'example.com'],
    path,
    host: 'example.com',
    startMs: performance.now(),
    status: 204,
    attempts: 0,
    responseFlags: 0,
    listener: { scheme: 'http' },
    socket: { remoteAddress: '127.0.0.1', remotePort: 40000 },
    route: { name: 'httproute/infra/app/rule/0/match/0/*' },
    backend: null,
    target: null,
    protocol: () => 'HTTP/1.1',
  };
}

function traced(tracer: Tracer | null, path: string): () => void {
  assert.ok(tracer);
  const r = req(path);
  const t = tracer.startRequest(r, ROUTE);
  assert.ok(t, 'sampled');
  return () => t.end(r);
}

const serverAt = (path: string) => (spans: Receiver['spans']) =>
  spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === path);

test('one pipeline per destination: Gateways with the same one share it', () => {
  const reg = new TracerRegistry();
  const used = new Set<string>();
  reg.tracer('infra/a', ir(), used);
  reg.tracer('infra/b', { ...ir(), samplingPercent: 5 }, used);
  assert.equal(used.size, 1);
  reg.tracer('infra/c', ir({ serviceName: 'other' }), used);
  reg.tracer('infra/d', ir({ endpoint: { url: receiver.url, headers: [{ name: 'x-token', value: 't' }] } }), used);
  assert.equal(used.size, 3);
  assert.equal(reg.tracer('infra/e', undefined, used), null);
  return reg.close();
});

test('a released pipeline sends what it holds, though its export delay is far off', async () => {
  const reg = new TracerRegistry({ scheduledDelayMs: 600_000 });
  const end = traced(reg.tracer('infra/web', ir(), new Set()), '/released');
  end();
  reg.release(new Set(), 0);
  await receiver.waitFor('the released pipeline flushed', serverAt('/released'));
  await reg.close();
});

test('close sends what every pipeline holds', async () => {
  const reg = new TracerRegistry({ scheduledDelayMs: 600_000 });
  traced(reg.tracer('infra/web', ir(), new Set()), '/closed')();
  await reg.close();
  await receiver.waitFor('flushed at close', serverAt('/closed'));
});

test('a pipeline still used after a reload keeps serving spans started before it', async () => {
  const reg = new TracerRegistry({ scheduledDelayMs: 20 });
  const end = traced(reg.tracer('infra/web', ir(), new Set()), '/across-reload');
  const used = new Set<string>();
  traced(reg.tracer('infra/web', ir(), used), '/after-reload')();
  reg.release(used, 0);
  end();
  await receiver.waitFor('both spans', (spans) =>
    serverAt('/across-reload')(spans).length > 0 ? serverAt('/after-reload')(spans) : [],
  );
  await reg.close();
});

test('headers and resource attributes reach the collector', async () => {
  const reg = new TracerRegistry({ scheduledDelayMs: 20 });
  const t = reg.tracer(
    'infra/web',
    ir({
      endpoint: {
        url: `${receiver.url}/`,
        headers: [{ name: 'x-token', value: 'secret' }],
        resourceAttributes: { 'k8s.cluster.name': 'east' },
      },
      serviceName: 'web.infra',
    }),
    new Set(),
  );
  traced(t, '/resource')();
  const [span] = await receiver.waitFor('span with resource', serverAt('/resource'));
  assert.deepEqual([span.resource['service.name'], span.resource['k8s.cluster.name']], ['web.infra', 'east']);
  assert.ok(receiver.posts.some((h) => h['x-token'] === 'secret'));
  await reg.close();
});
