/**
 * OTLP over gRPC, what Envoy Gateway's Envoy speaks: a data plane whose
 * tracing provider and OpenTelemetry access-log sink have protocol `grpc`
 * exports spans and log records to a real @grpc/grpc-js receiver on
 * loopback (test/support/otlp-grpc-receiver.ts), which decodes them with
 * its own minimal protos. Every wait is on the receiver (bounded).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IR, OtlpEndpointIR } from '../../src/ir/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createDataPlane, type DataPlane } from '../../src/proxy/index.ts';
import { backend, endpointsOf, gateway, listener, request, route, startOrigin, type Origin } from '../proxy/helpers.ts';
import { startGrpcReceiver, type GrpcReceiver } from '../support/otlp-grpc-receiver.ts';
import { CLIENT, SERVER } from './tracing/otlp-receiver.ts';

describe('OTLP over gRPC through the data plane', () => {
  let receiver: GrpcReceiver;
  let origin: Origin;
  let dp: DataPlane;
  let port: number;

  before(async () => {
    receiver = await startGrpcReceiver();
    origin = await startOrigin('echo');
    const endpoint = (key: string): OtlpEndpointIR => ({
      url: receiver.url,
      protocol: 'grpc',
      headers: [{ name: 'X-Api-Key', value: key }],
      resourceAttributes: { 'k8s.cluster.name': 'test' },
    });
    const ir: IR = {
      gateways: [
        gateway([listener('http', [route({ hostname: '*', backends: [backend('echo', endpointsOf(origin.port))] })])], {
          telemetry: {
            source: 'default/proxy',
            tracing: {
              samplingPercent: 100,
              provider: { type: 'OpenTelemetry', endpoint: endpoint('traces-key'), serviceName: 'gw.default' },
              tags: { env: { type: 'Literal', value: 'grpc-test' } },
            },
            accessLog: {
              disabled: false,
              settings: [
                {
                  format: {
                    type: 'JSON',
                    json: { method: '%REQ(:METHOD)%', path: '%REQ(:PATH)%', code: '%RESPONSE_CODE%' },
                  },
                  matches: [],
                  sinks: [{ type: 'OpenTelemetry', endpoint: endpoint('logs-key') }],
                },
              ],
            },
          },
        }),
      ],
    };
    dp = createDataPlane({ portOffset: 0, log: createLogger('silent'), tracing: { scheduledDelayMs: 20 } });
    const result = await dp.apply(ir);
    assert.deepEqual(result.errors, []);
    port = result.bound[0].boundPort;
  });

  after(async () => {
    await dp.close(500);
    await Promise.all([receiver.close(), origin.close()]);
  });

  test('spans arrive over TraceService/Export: server span, client span under it, attributes, resource, metadata', async () => {
    const reply = await request(port, { path: '/orders?id=7', headers: { 'user-agent': 'grpc-test' } });
    assert.equal(reply.status, 200, reply.body);
    await origin.waitFor(1);
    const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(origin.seen[0].headers.traceparent));
    assert.ok(tp, `traceparent: ${String(origin.seen[0].headers.traceparent)}`);
    const [traceId, upstreamParent] = [tp[1], tp[2]];
    const ofTrace = (kind: number) => (spans: GrpcReceiver['spans']) =>
      spans.filter((s) => s.traceId === traceId && s.kind === kind);
    const [server] = await receiver.waitFor('server span', ofTrace(SERVER));
    const [client] = await receiver.waitFor('client span', ofTrace(CLIENT));
    assert.equal(server.parentSpanId, '');
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(upstreamParent, client.spanId, 'the upstream traceparent names the client span');
    assert.match(server.name, /^GET httproute\/default\/r\d+$/);
    assert.equal(client.name, 'GET Service/default/echo:8080');
    assert.deepEqual(
      {
        method: server.attributes['http.request.method'],
        path: server.attributes['url.path'],
        status: server.attributes['http.response.status_code'],
        ua: server.attributes['user_agent.original'],
        env: server.attributes.env,
        requestId: server.attributes['sluice.request_id'],
        clientStatus: client.attributes['http.response.status_code'],
        clientPort: client.attributes['network.peer.port'],
      },
      {
        method: 'GET',
        path: '/orders',
        status: 200,
        ua: 'grpc-test',
        env: 'grpc-test',
        requestId: origin.seen[0].headers['x-request-id'],
        clientStatus: 200,
        clientPort: origin.port,
      },
    );
    assert.ok(server.startNs > 0n && server.startNs <= client.startNs && client.endNs <= server.endNs);
    assert.equal(server.resource['service.name'], 'gw.default');
    assert.equal(server.resource['k8s.cluster.name'], 'test');
    const call = receiver.calls.find((c) => c.service === 'trace');
    assert.equal(call?.metadata['x-api-key'], 'traces-key', 'headers are sent as gRPC metadata');
  });

  test('access-log records arrive over LogsService/Export: body, JSON fields as attributes, resource, metadata', async () => {
    const reply = await request(port, { method: 'POST', path: '/logged', body: 'x' });
    assert.equal(reply.status, 200, reply.body);
    const [record] = await receiver.waitForLogs('the /logged line', (logs) =>
      logs.filter((l) => l.attributes.path === '/logged'),
    );
    assert.deepEqual(JSON.parse(record.body), { method: 'POST', path: '/logged', code: 200 });
    assert.deepEqual(record.attributes, { method: 'POST', path: '/logged', code: 200 });
    assert.ok(record.timeNs > 0n);
    assert.equal(record.scope, 'sluice.access_log');
    assert.equal(record.resource['service.name'], 'sluice');
    assert.equal(record.resource['k8s.cluster.name'], 'test');
    const call = receiver.calls.find((c) => c.service === 'logs');
    assert.equal(call?.metadata['x-api-key'], 'logs-key');
  });
});
