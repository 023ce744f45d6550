/**
 * End to end: `sluice serve` with YAML - a GatewayClass whose parametersRef
 * names an EnvoyProxy with `spec.telemetry.tracing` (OpenTelemetry to
 * `host`/`port` as Envoy Gateway writes it, so OTLP over gRPC, to a real
 * gRPC receiver on loopback), a BackendTrafficPolicy naming the
 * route's spans - two workers, and real traffic with a caller's W3C
 * context; then the flush of queued spans at shutdown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loopbackService, randomLoopbackPool, startServe, type Serve } from '../support/serve.ts';
import http from 'node:http';
import { startOrigin, withTimeout, type Origin } from '../proxy/helpers.ts';
import { CLIENT, SERVER } from '../observability/tracing/otlp-receiver.ts';
import { startGrpcReceiver, type GrpcReceiver } from '../support/otlp-grpc-receiver.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';

function config(collectorPort: number, backendPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: sluice }
spec:
  controllerName: sluice.dev/gateway-controller
  parametersRef: { group: gateway.envoyproxy.io, kind: EnvoyProxy, name: tracing, namespace: default }
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: { name: tracing, namespace: default }
spec:
  telemetry:
    tracing:
      samplingRate: 100
      provider:
        type: OpenTelemetry
        host: 127.0.0.1
        port: ${collectorPort}
      customTags:
        env: { type: Literal, literal: { value: e2e } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: web, namespace: default }
spec:
  gatewayClassName: sluice
  listeners: [{ name: http, protocol: HTTP, port: 8080 }]
---
${loopbackService('echo', backendPort)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app, namespace: default }
spec:
  parentRefs: [{ name: web }]
  hostnames: [app.example.com]
  rules:
    - backendRefs: [{ name: echo, port: 80 }]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: { name: app-spans, namespace: default }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: app }]
  telemetry:
    tracing:
      spanName: { server: app-ingress, client: app-egress }
`;
}

/** GET /orders with these headers; resolves with the status (bounded). */
function get(address: string, port: number, headers: Record<string, string>): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const req = http.get({ host: address, port, path: '/orders', headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    }),
    5000,
    'GET /orders',
  );
}

interface Setup {
  receiver: GrpcReceiver;
  origin: Origin;
  serve: Serve;
  /** GET /orders through the gateway with these extra headers; the status. */
  send: (headers: Record<string, string>) => Promise<number>;
}

/** A receiver, an echo backend and `sluice serve --workers 2` on the YAML above; `env` for the serve process. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, env: NodeJS.ProcessEnv): Promise<Setup> {
  const receiver = await startGrpcReceiver();
  const origin = await startOrigin('echo');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tracing-'));
  writeFileSync(join(dir, 'config.yaml'), config(receiver.port, origin.port));
  const serve = await startServe(
    ['--config', dir, '--workers', '2', '--address-pool', randomLoopbackPool(), '--port-offset', '10000'],
    { env },
  );
  t.after(async () => {
    await serve.stop('SIGKILL');
    await Promise.all([receiver.close(), origin.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  await serve.waitReady();
  const { sockets } = await serve.status();
  return {
    receiver,
    origin,
    serve,
    send: (headers) => get(sockets[0].address, sockets[0].boundPort, { host: 'app.example.com', ...headers }),
  };
}

test(
  'sluice serve: EnvoyProxy tracing exports server and client spans over OTLP/gRPC',
  { timeout: 90_000 },
  async (t) => {
    const { receiver, origin, serve, send } = await setup(t, { OTEL_BSP_SCHEDULE_DELAY: '50' });
    const ir = await serve.config();
    assert.equal(ir.gateways[0].telemetry?.tracing?.provider.endpoint.url, receiver.url);
    assert.equal(ir.gateways[0].telemetry?.tracing?.provider.endpoint.protocol, 'grpc');
    assert.equal(await send({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }), 200);
    await origin.waitFor(1);

    const [server] = await receiver.waitFor('the server span', (s) =>
      s.filter((x) => x.traceId === TRACE_ID && x.kind === SERVER),
    );
    const [client] = await receiver.waitFor('the client span', (s) =>
      s.filter((x) => x.traceId === TRACE_ID && x.kind === CLIENT),
    );
    assert.deepEqual(
      [server.name, server.parentSpanId, server.attributes['sluice.gateway'], server.attributes.env],
      ['app-ingress', PARENT_ID, 'default/web', 'e2e'],
    );
    assert.deepEqual(
      [client.name, client.parentSpanId, client.attributes['upstream_cluster']],
      ['app-egress', server.spanId, 'Service/default/echo:80'],
    );
    assert.equal(server.resource['service.name'], 'web.default');
    assert.equal(origin.seen[0].headers.traceparent, `00-${TRACE_ID}-${client.spanId}-01`);
  },
);

test('sluice serve: spans still queued are sent when the gateway shuts down', { timeout: 90_000 }, async (t) => {
  // Exports an hour apart: only the shutdown flush can deliver the span.
  const { receiver, serve, send } = await setup(t, { OTEL_BSP_SCHEDULE_DELAY: '3600000' });
  assert.equal(await send({}), 200);
  assert.equal(await serve.stop('SIGTERM'), 0);
  await receiver.waitFor('the span flushed at shutdown', (s) => s.filter((x) => x.kind === SERVER));
});
