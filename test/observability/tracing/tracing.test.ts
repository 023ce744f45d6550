/**
 * Tracing through the data plane: real clients, a real echo backend that
 * records the headers it got, and a real OTLP/HTTP receiver the spans are
 * exported to. Every wait is on the receiver (bounded), never a sleep.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HTTPRouteIR, IR, RouteTracingIR, TracingIR } from '../../../src/ir/types.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createDataPlane, type DataPlane } from '../../../src/proxy/index.ts';
import { h2Connect, h2Request } from '../../proxy/tls-kit.ts';
import {
  LOOPBACK,
  backend,
  deadPort,
  endpointsOf,
  gateway,
  listener,
  request,
  route,
  startOrigin,
  type Origin,
} from '../../proxy/helpers.ts';
import { CLIENT, ERROR, SERVER, startReceiver, type Receiver, type ReceivedSpan } from './otlp-receiver.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

function tracing(receiver: Receiver, extra: Partial<TracingIR> = {}): TracingIR {
  return {
    samplingPercent: 100,
    provider: { type: 'OpenTelemetry', endpoint: { url: receiver.url }, serviceName: 'default/gw' },
    tags: {},
    ...extra,
  };
}

function tracedIR(t: TracingIR | undefined, routes: HTTPRouteIR[]): IR {
  return {
    gateways: [
      gateway(
        [listener('http', routes)],
        t === undefined ? {} : { telemetry: { source: 'default/proxy', tracing: t } },
      ),
    ],
  };
}

async function startTracedPlane(ir: IR, scheduledDelayMs = 20): Promise<{ dp: DataPlane; port: number }> {
  const dp = createDataPlane({
    portOffset: 0,
    log: createLogger('silent'),
    tracing: { scheduledDelayMs },
    tuning: { removedListenerGraceMs: 50 },
  });
  const result = await dp.apply(ir);
  assert.equal(result.errors.length, 0, result.errors.join('; '));
  return { dp, port: result.bound[0].boundPort };
}

/** The parts of a `traceparent` value. */
function traceparent(v: unknown): { traceId: string; parentId: string; flags: string } {
  assert.equal(typeof v, 'string', `traceparent: ${String(v)}`);
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(v as string);
  assert.ok(m, `traceparent: ${String(v)}`);
  return { traceId: m[1], parentId: m[2], flags: m[3] };
}

const byTrace =
  (traceId: string, kind: number, n = 1) =>
  (spans: ReceivedSpan[]): ReceivedSpan[] => {
    const found = spans.filter((s) => s.traceId === traceId && s.kind === kind);
    return found.length >= n ? found : [];
  };

/** The spans of the request whose x-request-id the origin saw (the server span carries it). */
const serverOf =
  (requestId: string) =>
  (spans: ReceivedSpan[]): ReceivedSpan[] =>
    spans.filter((s) => s.kind === SERVER && s.attributes['sluice.request_id'] === requestId);

describe('tracing through the data plane', () => {
  let receiver: Receiver;
  let origin: Origin;
  let dp: DataPlane;
  let port: number;
  let flaky: Origin;
  let failing: Origin;
  let catchAll: HTTPRouteIR;
  const r = (partial: Partial<HTTPRouteIR>): HTTPRouteIR => route({ hostname: '*', ...partial });

  before(async () => {
    receiver = await startReceiver();
    origin = await startOrigin('echo');
    let calls = 0;
    flaky = await startOrigin('flaky', (_req, res) => {
      calls++;
      res.writeHead(calls % 2 === 1 ? 503 : 200).end(calls % 2 === 1 ? 'try again' : 'ok');
    });
    failing = await startOrigin('failing', (_req, res) => res.writeHead(500).end('broken'));
    const dead = await deadPort();
    const routeTracing: RouteTracingIR = {
      samplingPercent: 100,
      tags: {
        team: { type: 'Literal', value: 'payments' },
        tenant: { type: 'RequestHeader', name: 'X-Tenant', defaultValue: 'none' },
      },
      spanName: { server: 'checkout-in', client: 'checkout-out' },
    };
    ({ dp, port } = await startTracedPlane(
      tracedIR(
        tracing(receiver, {
          samplingPercent: 0,
          tags: { env: { type: 'Literal', value: 'test' }, ua: { type: 'RequestHeader', name: 'user-agent' } },
        }),
        [
          r({
            path: { type: 'PathPrefix', value: '/flaky' },
            backends: [backend('flaky', endpointsOf(flaky.port))],
            retry: { codes: [503], attempts: 2, backoffMs: 1 },
            tracing: { samplingPercent: 100 },
          }),
          r({
            path: { type: 'PathPrefix', value: '/fail' },
            backends: [backend('failing', endpointsOf(failing.port))],
            tracing: { samplingPercent: 100 },
          }),
          r({
            path: { type: 'PathPrefix', value: '/dead' },
            backends: [backend('dead', endpointsOf(dead))],
            tracing: { samplingPercent: 100 },
          }),
          r({
            path: { type: 'PathPrefix', value: '/checkout' },
            backends: [backend('echo', endpointsOf(origin.port))],
            tracing: routeTracing,
          }),
          r({
            path: { type: 'PathPrefix', value: '/unsampled' },
            backends: [backend('echo', endpointsOf(origin.port))],
          }),
          r({
            path: { type: 'PathPrefix', value: '/half' },
            backends: [backend('echo', endpointsOf(origin.port))],
            tracing: { samplingPercent: 50 },
          }),
          (catchAll = r({
            path: { type: 'PathPrefix', value: '/' },
            backends: [backend('echo', endpointsOf(origin.port))],
            tracing: { samplingPercent: 100 },
          })),
        ],
      ),
    ));
  });

  after(async () => {
    await dp.close(500);
    await Promise.all([receiver.close(), origin.close(), flaky.close(), failing.close()]);
  });

  /** Sends one request and returns what the echo backend received. */
  async function through(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Record<string, string | string[] | undefined>> {
    const before = origin.seen.length;
    const reply = await request(port, { path, headers });
    assert.equal(reply.status, 200, reply.body);
    await origin.waitFor(before + 1);
    return origin.seen[before].headers;
  }

  test('a new trace: a server span and a client span under it, the client span in the upstream traceparent', async () => {
    const seen = await through('/api/items?x=1', { 'user-agent': 'tracing-test' });
    const tp = traceparent(seen.traceparent);
    assert.equal(tp.flags, '01');
    const [server] = await receiver.waitFor('server span', byTrace(tp.traceId, SERVER));
    const [client] = await receiver.waitFor('client span', byTrace(tp.traceId, CLIENT));
    assert.equal(server.parentSpanId, '');
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(tp.parentId, client.spanId);
    assert.equal(server.name, `GET httproute/default/${catchAll.route.name}`);
    assert.deepEqual(
      {
        method: server.attributes['http.request.method'],
        path: server.attributes['url.path'],
        status: server.attributes['http.response.status_code'],
        host: server.attributes['server.address'],
        peer: server.attributes['network.peer.address'],
        gateway: server.attributes['sluice.gateway'],
        backend: server.attributes['sluice.backend'],
        cluster: server.attributes['upstream_cluster'],
        ua: server.attributes['user_agent.original'],
        env: server.attributes.env,
        uaTag: server.attributes.ua,
        requestId: server.attributes['sluice.request_id'],
      },
      {
        method: 'GET',
        path: '/api/items',
        status: 200,
        host: 'example.com',
        peer: '127.0.0.1',
        gateway: 'default/gw',
        backend: 'Service/default/echo:8080',
        cluster: 'Service/default/echo:8080',
        ua: 'tracing-test',
        env: 'test',
        uaTag: 'tracing-test',
        requestId: seen['x-request-id'],
      },
    );
    assert.match(String(server.attributes['sluice.route']), /^httproute\/default\/r\d+\/rule\/0\/match\/0\/\*$/);
    assert.equal(server.status, 0);
    assert.equal(server.resource['service.name'], 'default/gw');
    assert.deepEqual(
      {
        name: client.name,
        attempt: client.attributes['sluice.attempt'],
        status: client.attributes['http.response.status_code'],
        peer: client.attributes['network.peer.address'],
        port: client.attributes['network.peer.port'],
        cluster: client.attributes['upstream_cluster'],
      },
      {
        name: 'GET Service/default/echo:8080',
        attempt: 1,
        status: 200,
        peer: '127.0.0.1',
        port: origin.port,
        cluster: 'Service/default/echo:8080',
      },
    );
    assert.ok(
      server.startNs <= client.startNs && client.endNs <= server.endNs,
      'the client span lies within the server span',
    );
  });

  test('an incoming sampled W3C traceparent is the parent; tracestate goes on; the upstream sees the client span', async () => {
    const seen = await through('/w3c', {
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      tracestate: 'vendor=abc',
    });
    const tp = traceparent(seen.traceparent);
    assert.equal(tp.traceId, TRACE_ID);
    assert.notEqual(tp.parentId, PARENT_ID);
    assert.equal(seen.tracestate, 'vendor=abc');
    assert.equal(seen.b3, undefined, 'no B3 when the request came with W3C');
    const [server] = await receiver.waitFor('server span', byTrace(TRACE_ID, SERVER));
    const [client] = await receiver.waitFor('client span', byTrace(TRACE_ID, CLIENT));
    assert.equal(server.parentSpanId, PARENT_ID);
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(tp.parentId, client.spanId);
  });

  test('an incoming sampled traceparent is honoured at sampling 0 %; an unsampled one is passed on untouched', async () => {
    const traceId = 'a'.repeat(32);
    const seen = await through('/unsampled/yes', { traceparent: `00-${traceId}-${PARENT_ID}-01` });
    const tp = traceparent(seen.traceparent);
    assert.equal(tp.traceId, traceId);
    const [client] = await receiver.waitFor('client span', byTrace(traceId, CLIENT));
    assert.equal(tp.parentId, client.spanId);

    const unsampled = `00-${'b'.repeat(32)}-${PARENT_ID}-00`;
    const seen2 = await through('/unsampled/no', { traceparent: unsampled });
    assert.equal(seen2.traceparent, unsampled);
  });

  test('sampling 0 %: the request works, no span and no trace header', async () => {
    const seen = await through('/unsampled/none');
    assert.equal(seen.traceparent, undefined);
    // A sampled request after it: its spans arrive, and the unsampled one's never did (same queue, in order).
    const seen2 = await through('/after-unsampled');
    await receiver.waitFor('a later span', byTrace(traceparent(seen2.traceparent).traceId, SERVER));
    assert.deepEqual(
      receiver.spans.filter((s) => s.attributes['url.path'] === '/unsampled/none'),
      [],
    );
    assert.deepEqual(serverOf(String(seen['x-request-id']))(receiver.spans), []);
  });

  test('sampling 50 %: about half of new traces are recorded, and exactly those carry a traceparent', async () => {
    const N = 100;
    const before = origin.seen.length;
    for (let i = 0; i < N; i++) assert.equal((await request(port, { path: `/half/${i}` })).status, 200);
    await origin.waitFor(before + N);
    const traced = origin.seen.slice(before).filter((x) => x.headers.traceparent !== undefined);
    // Binomial(100, 0.5): outside 20..80 is six standard deviations away.
    assert.ok(traced.length >= 20 && traced.length <= 80, `${traced.length} of ${N} traced`);
    const ids = new Set(traced.map((x) => traceparent(x.headers.traceparent).traceId));
    const spans = await receiver.waitFor(`${ids.size} server spans`, (all) => {
      const found = all.filter((x) => x.kind === SERVER && String(x.attributes['url.path']).startsWith('/half/'));
      return found.length >= ids.size ? found : [];
    });
    assert.deepEqual(new Set(spans.map((x) => x.traceId)), ids);
  });

  test('B3 single header: honoured, and the upstream gets W3C and B3 single with the client span', async () => {
    const traceId = 'c'.repeat(32);
    const seen = await through('/b3-single', { b3: `${traceId}-${PARENT_ID}-1` });
    const tp = traceparent(seen.traceparent);
    assert.equal(tp.traceId, traceId);
    const [server] = await receiver.waitFor('server span', byTrace(traceId, SERVER));
    const [client] = await receiver.waitFor('client span', byTrace(traceId, CLIENT));
    assert.equal(server.parentSpanId, PARENT_ID);
    assert.equal(seen.b3, `${traceId}-${client.spanId}-1`);
    assert.equal(seen['x-b3-traceid'], undefined);
  });

  test('B3 multi headers: honoured (a 64-bit trace id too), and the upstream gets them back with the client span', async () => {
    const short = 'd'.repeat(16);
    const traceId = short.padStart(32, '0');
    const seen = await through('/b3-multi', {
      'X-B3-TraceId': short,
      'X-B3-SpanId': PARENT_ID,
      'X-B3-ParentSpanId': '1111111111111111',
      'X-B3-Sampled': '1',
    });
    const [server] = await receiver.waitFor('server span', byTrace(traceId, SERVER));
    const [client] = await receiver.waitFor('client span', byTrace(traceId, CLIENT));
    assert.equal(server.parentSpanId, PARENT_ID);
    assert.equal(traceparent(seen.traceparent).parentId, client.spanId);
    assert.deepEqual(
      [seen['x-b3-traceid'], seen['x-b3-spanid'], seen['x-b3-sampled'], seen['x-b3-parentspanid'], seen.b3],
      [traceId, client.spanId, '1', undefined, undefined],
    );
  });

  test('B3 without a sampling decision: the gateway decides and keeps the trace id', async () => {
    const traceId = 'e'.repeat(32);
    const seen = await through('/b3-deferred', { 'x-b3-traceid': traceId, 'x-b3-spanid': PARENT_ID });
    const [server] = await receiver.waitFor('server span', byTrace(traceId, SERVER));
    assert.equal(server.parentSpanId, PARENT_ID);
    assert.equal(seen['x-b3-sampled'], '1');
  });

  test('a retried request: two client spans under one server span, numbered', async () => {
    const reply = await request(port, { path: '/flaky' });
    assert.equal(reply.status, 200);
    const [server] = await receiver.waitFor('server span', (spans) =>
      spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === '/flaky'),
    );
    const clients = await receiver.waitFor('two client spans', byTrace(server.traceId, CLIENT, 2));
    clients.sort((a, b) => Number(a.attributes['sluice.attempt']) - Number(b.attributes['sluice.attempt']));
    assert.deepEqual(
      clients.map((c) => [
        c.parentSpanId === server.spanId,
        c.attributes['sluice.attempt'],
        c.attributes['http.request.resend_count'],
        c.attributes['http.response.status_code'],
        c.status,
      ]),
      [
        [true, 1, undefined, 503, ERROR],
        [true, 2, 1, 200, 0],
      ],
    );
    assert.equal(server.status, 0);
    assert.equal(server.attributes['http.response.status_code'], 200);
    // Each attempt carried its own span upstream.
    const ids = flaky.seen.slice(-2).map((s) => traceparent(s.headers.traceparent).parentId);
    assert.deepEqual(
      ids,
      clients.map((c) => c.spanId),
    );
  });

  test('a 5xx answer sets error status on both spans', async () => {
    const reply = await request(port, { path: '/fail' });
    assert.equal(reply.status, 500);
    const [server] = await receiver.waitFor('server span', (spans) =>
      spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === '/fail'),
    );
    const [client] = await receiver.waitFor('client span', byTrace(server.traceId, CLIENT));
    assert.deepEqual(
      [server.status, server.attributes['http.response.status_code'], server.attributes['error.type']],
      [ERROR, 500, '500'],
    );
    assert.deepEqual([client.status, client.attributes['http.response.status_code']], [ERROR, 500]);
  });

  test('a backend that refuses connections: an error client span, a 503 error server span', async () => {
    const reply = await request(port, { path: '/dead' });
    assert.equal(reply.status, 503);
    const [server] = await receiver.waitFor('server span', (spans) =>
      spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === '/dead'),
    );
    const [client] = await receiver.waitFor('client span', byTrace(server.traceId, CLIENT));
    assert.deepEqual([client.status, client.attributes['error.type']], [ERROR, 'connect_failure']);
    assert.deepEqual(
      [server.status, server.attributes['http.response.status_code'], server.attributes['sluice.response_flags']],
      [ERROR, 503, 'UF'],
    );
  });

  test("a route's BackendTrafficPolicy: span names and extra tags", async () => {
    const seen = await through('/checkout', { 'x-tenant': 'acme' });
    const traceId = traceparent(seen.traceparent).traceId;
    const [server] = await receiver.waitFor('server span', byTrace(traceId, SERVER));
    const [client] = await receiver.waitFor('client span', byTrace(traceId, CLIENT));
    assert.deepEqual(
      [server.name, client.name, server.attributes.team, server.attributes.tenant, server.attributes.env],
      ['checkout-in', 'checkout-out', 'payments', 'acme', 'test'],
    );
  });
});

test('tracing off: no trace headers are added, the caller’s are passed on', async () => {
  const origin = await startOrigin('echo');
  const { dp, port } = await startTracedPlane(
    tracedIR(undefined, [route({ backends: [backend('echo', endpointsOf(origin.port))] })]),
  );
  try {
    await request(port, { path: '/' });
    const incoming = `00-${TRACE_ID}-${PARENT_ID}-01`;
    await request(port, { path: '/', headers: { traceparent: incoming, b3: `${TRACE_ID}-${PARENT_ID}-1` } });
    await origin.waitFor(2);
    const [plain, traced] = origin.seen;
    for (const h of ['traceparent', 'tracestate', 'b3', 'x-b3-traceid']) assert.equal(plain.headers[h], undefined, h);
    assert.equal(traced.headers.traceparent, incoming);
    assert.equal(traced.headers.b3, `${TRACE_ID}-${PARENT_ID}-1`);
  } finally {
    await dp.close(500);
    await origin.close();
  }
});

test('HTTP/2 both ways: an h2c client with B3 multi headers, an h2c backend gets the client span', async () => {
  const receiver = await startReceiver();
  const seen: http2.IncomingHttpHeaders[] = [];
  const origin = http2.createServer();
  origin.on('stream', (stream, headers) => {
    seen.push(headers);
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise<void>((r) => origin.listen(0, LOOPBACK, r));
  const originPort = (origin.address() as AddressInfo).port;
  const { dp, port } = await startTracedPlane(
    tracedIR(tracing(receiver), [route({ backends: [backend('h2', endpointsOf(originPort), { protocol: 'h2c' })] })]),
  );
  const session = await h2Connect(`http://${LOOPBACK}:${port}`);
  try {
    const traceId = 'f'.repeat(32);
    const reply = await h2Request(session, {
      ':method': 'GET',
      ':path': '/h2',
      ':authority': 'example.com',
      'x-b3-traceid': traceId,
      'x-b3-spanid': PARENT_ID,
      'x-b3-sampled': '1',
    });
    assert.equal(reply.status, 200);
    const [server] = await receiver.waitFor('server span', byTrace(traceId, SERVER));
    const [client] = await receiver.waitFor('client span', byTrace(traceId, CLIENT));
    assert.deepEqual(
      [server.parentSpanId, server.attributes['network.protocol.version'], client.parentSpanId],
      [PARENT_ID, '2', server.spanId],
    );
    assert.equal(seen.length, 1);
    assert.deepEqual(
      [traceparent(seen[0].traceparent).parentId, seen[0]['x-b3-spanid'], seen[0]['x-b3-traceid']],
      [client.spanId, client.spanId, traceId],
    );
  } finally {
    session.close();
    await dp.close(500);
    await new Promise<void>((r) => origin.close(() => r()));
    await receiver.close();
  }
});

test('a reload to another collector: the old exporter flushes and stops, the new one flushes at close', async () => {
  const [first, second] = await Promise.all([startReceiver(), startReceiver()]);
  const origin = await startOrigin('echo');
  const routes = [route({ backends: [backend('echo', endpointsOf(origin.port))] })];
  // Exports are an hour apart: a span that arrives was flushed by a release or by close.
  const { dp, port } = await startTracedPlane(tracedIR(tracing(first), routes), 3_600_000);
  try {
    await request(port, { path: '/before-reload' });
    const result = await dp.apply(tracedIR(tracing(second), routes));
    assert.deepEqual(result.errors, []);
    await first.waitFor('the first collector flushed after the swap', (s) =>
      s.filter((x) => x.kind === SERVER && x.attributes['url.path'] === '/before-reload'),
    );
    await request(port, { path: '/after-reload' });
  } finally {
    await dp.close(500);
  }
  await second.waitFor('the second collector flushed at close', (s) =>
    s.filter((x) => x.kind === SERVER && x.attributes['url.path'] === '/after-reload'),
  );
  assert.deepEqual(
    first.spans.filter((x) => x.attributes['url.path'] === '/after-reload'),
    [],
  );
  await Promise.all([first.close(), second.close(), origin.close()]);
});
