/**
 * Connection-level metrics with real sockets: a data plane in this process
 * (what one worker runs), real TLS handshakes that complete, resume and
 * fail, a real upstream behind a pool bounded to one connection, and the
 * figures read as `GET /metrics` shows them (the worker's snapshot summed by
 * MetricsAggregate and rendered by renderPrometheus). Each check polls the
 * rendered text with a deadline until the value is reached, then checks it
 * is exactly that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { IR, ListenerIR } from '../../src/ir/types.ts';
import { MetricsAggregate, renderPrometheus } from '../../src/observability/metrics/aggregate.ts';
import { ProcessSampler } from '../../src/observability/metrics/data-plane-metrics.ts';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  gateway,
  listener,
  rawExchange,
  request,
  route,
  startOrigin,
  startPlane,
  withTimeout,
  type Origin,
  type RunningPlane,
} from '../proxy/helpers.ts';
import { CertKit, certificateIR, tlsRefused, tlsRequest, type Pem } from '../proxy/tls-kit.ts';
import {
  irOf,
  l4Backend,
  selfSigned,
  startL4Plane,
  terminate,
  tlsListener,
  tlsRoute,
  type L4Plane,
} from '../proxy/l4/l4-helpers.ts';
import { metricValue } from '../support/metrics.ts';
import { until } from '../support/serve.ts';

const sampler = new ProcessSampler();
after(() => sampler.close());

/** What /metrics would answer for this data plane (one worker). */
function scrape(p: RunningPlane): string {
  const agg = new MetricsAggregate();
  agg.add(p.dp.metrics!(), { worker: '0' });
  return renderPrometheus(agg, {
    reloads: 1,
    reloadErrors: 0,
    lastReloadSeconds: 0,
    lastReloadSuccess: true,
    configVersion: 1,
    workers: [],
    control: sampler.sample(),
  });
}

/** Polls until `name{labels}` equals `want` (bounded), then returns the text. */
async function expectMetric(
  p: RunningPlane,
  name: string,
  labels: Record<string, string>,
  want: number,
): Promise<string> {
  let text = '';
  let got: number | undefined;
  try {
    await until(
      `${name}${JSON.stringify(labels)} = ${want}`,
      () => {
        text = scrape(p);
        got = metricValue(text, name, labels);
        return got === want;
      },
      10_000,
    );
  } catch (err) {
    assert.fail(`${(err as Error).message}: last value ${got}\n${text}`);
  }
  return text;
}

const GW = 'default/gw';

describe('TLS handshakes and downstream connections of an HTTPS port', () => {
  const kit = new CertKit();
  let origin: Origin;
  let plane: RunningPlane;
  let ca: Pem;
  let client: Pem;
  let stranger: Pem;
  const https = { gateway: GW, listener: 'https' };
  const mtls = { gateway: GW, listener: 'mtls' };

  before(async () => {
    const server = kit.leaf(null, { cn: 'server', dns: ['example.com', '*.example.com'] });
    ca = kit.ca('clients');
    client = kit.leaf(ca, { cn: 'client', usage: 'client' });
    stranger = kit.leaf(null, { cn: 'stranger', usage: 'client' });
    origin = await startOrigin('o');
    const routes = (): ReturnType<typeof route>[] => [route({ backends: [backend('o', endpointsOf(origin.port))] })];
    // Two listeners on one port: `https` (TLS 1.3 only, the default listener) and `mtls` (SNI mtls.example.com).
    const listeners: ListenerIR[] = [
      listener('https', routes(), {
        protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificates: [certificateIR(server)], settings: { minVersion: '1.3' } },
      }),
      listener('mtls', routes(), {
        protocol: 'HTTPS',
        hostname: 'mtls.example.com',
        tls: {
          mode: 'Terminate',
          certificates: [certificateIR(server)],
          clientValidation: { caPems: [ca.cert], mode: 'AllowValidOnly' },
        },
      }),
    ];
    const ir: IR = { gateways: [gateway(listeners)] };
    plane = await startPlane(ir, { tlsHandshakeTimeoutMs: 1000 });
  });
  after(async () => {
    await plane.close(200);
    await origin.close();
    kit.cleanup();
  });

  test('a full handshake, then one resumed with its session ticket', async () => {
    const first = await tlsRequest(plane.port, { servername: 'example.com' });
    assert.equal(first.status, 200);
    assert.equal(first.reused, false);
    assert.ok(first.session, 'the gateway sent a session ticket');
    const second = await tlsRequest(plane.port, { servername: 'example.com', session: first.session });
    assert.equal(second.status, 200);
    assert.equal(second.reused, true, 'the second handshake resumed');
    await expectMetric(plane, 'sluice_tls_handshakes_total', https, 2);
    let text = await expectMetric(plane, 'sluice_tls_resumed_total', https, 1);
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', https), 2);
    text = await expectMetric(plane, 'sluice_downstream_connections_active', https, 0);
    assert.equal(metricValue(text, 'sluice_tls_handshake_failures_total', https), 0);
  });

  test('an open connection is active until it closes', async () => {
    const socket = tls.connect({
      host: LOOPBACK,
      port: plane.port,
      servername: 'example.com',
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once('secureConnect', resolve);
          socket.once('error', reject);
        }),
        5000,
        'TLS handshake',
      );
      await expectMetric(plane, 'sluice_downstream_connections_active', https, 1);
      await expectMetric(plane, 'sluice_tls_handshakes_total', https, 3);
    } finally {
      socket.destroy();
    }
    await expectMetric(plane, 'sluice_downstream_connections_active', https, 0);
    await expectMetric(plane, 'sluice_downstream_connections_total', https, 3);
  });

  test('protocol failures: TLS 1.2 offered to a TLS 1.3 listener, plain HTTP on the TLS port', async () => {
    const reason = { ...https, reason: 'protocol' };
    assert.equal(await tlsRefused(plane.port, { servername: 'example.com', maxVersion: 'TLSv1.2' }), true);
    await expectMetric(plane, 'sluice_tls_handshake_failures_total', reason, 1);
    const plain = await rawExchange(plane.port, 'GET / HTTP/1.1\r\nhost: example.com\r\n\r\n');
    assert.equal(plain.closed, true);
    assert.doesNotMatch(plain.text, /^HTTP/);
    // Not TLS: no ClientHello, so no SNI: the port's default listener (`https`) counts it.
    const text = await expectMetric(plane, 'sluice_tls_handshake_failures_total', reason, 2);
    assert.equal(metricValue(text, 'sluice_tls_handshakes_total', https), 3);
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', https), 5);
  });

  test('client certificates: missing and unverified ones refused, a valid one accepted', async () => {
    const reason = { ...mtls, reason: 'client_certificate' };
    assert.equal(await tlsRefused(plane.port, { servername: 'mtls.example.com' }), true);
    await expectMetric(plane, 'sluice_tls_handshake_failures_total', reason, 1);
    const refused = await tlsRefused(plane.port, {
      servername: 'mtls.example.com',
      cert: stranger.cert,
      key: stranger.key,
    });
    assert.equal(refused, true);
    let text = await expectMetric(plane, 'sluice_tls_handshake_failures_total', reason, 2);
    assert.equal(metricValue(text, 'sluice_tls_handshakes_total', mtls), 0);
    const ok = await tlsRequest(plane.port, { servername: 'mtls.example.com', cert: client.cert, key: client.key });
    assert.equal(ok.status, 200);
    text = await expectMetric(plane, 'sluice_tls_handshakes_total', mtls, 1);
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', mtls), 3);
    assert.equal(metricValue(text, 'sluice_tls_handshake_failures_total', mtls), 2);
    // The other listener's series did not move.
    assert.equal(metricValue(text, 'sluice_tls_handshakes_total', https), 3);
  });

  test('a client that sends nothing times out', async () => {
    const socket = net.connect(plane.port, LOOPBACK);
    let closed = false;
    socket.on('error', () => undefined);
    socket.once('close', () => (closed = true));
    try {
      await until('the gateway to close the silent connection', () => closed, 5000);
    } finally {
      socket.destroy();
    }
    const text = await expectMetric(plane, 'sluice_tls_handshake_failures_total', { ...https, reason: 'timeout' }, 1);
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', https), 6);
  });
});

describe('upstream connections and requests waiting for one', () => {
  let origin: Origin;
  let plane: RunningPlane;
  const held: ServerResponse[] = [];
  const up = { backend: 'Service/default/slow:8080' };
  const http = { gateway: GW, listener: 'http' };

  before(async () => {
    // The origin answers only when told to.
    origin = await startOrigin('slow', (_req, res) => {
      held.push(res);
    });
    const ir: IR = {
      gateways: [gateway([listener('http', [route({ backends: [backend('slow', endpointsOf(origin.port))] })])])],
    };
    // One connection per upstream endpoint: a second request waits for the first to finish.
    plane = await startPlane(ir, { upstreamMaxConnectionsPerEndpoint: 1 });
  });
  after(async () => {
    for (const r of held.splice(0)) r.end();
    await plane.close(200);
    await origin.close();
  });

  test('three requests on a pool of one: one connection created, two requests pending', async () => {
    const replies = [0, 1, 2].map(() => request(plane.port, { path: '/', timeoutMs: 10_000 }));
    await origin.waitFor(1);
    let text = await expectMetric(plane, 'sluice_upstream_requests_pending', up, 2);
    assert.equal(metricValue(text, 'sluice_upstream_connections_created_total', up), 1);
    assert.equal(metricValue(text, 'sluice_upstream_connections_active', up), 1);
    // Three clients, each on its own connection, all open.
    text = await expectMetric(plane, 'sluice_downstream_connections_active', http, 3);
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', http), 3);

    // Answer each request as it arrives: the one connection carries them in turn.
    await until(
      'the origin to get all three requests',
      () => {
        for (const r of held.splice(0)) r.end('ok');
        return origin.seen.length === 3 && held.length === 0;
      },
      10_000,
    );
    for (const r of await Promise.all(replies)) assert.equal(r.status, 200, r.body);
    text = await expectMetric(plane, 'sluice_upstream_requests_pending', up, 0);
    assert.equal(metricValue(text, 'sluice_upstream_connections_created_total', up), 1);
    assert.equal(metricValue(text, 'sluice_upstream_connections_active', up), 1, 'kept alive');
    await expectMetric(plane, 'sluice_downstream_connections_active', http, 0);
  });

  test('a connection the upstream closes is gone from active; the next request creates another', async () => {
    origin.server.closeAllConnections();
    await expectMetric(plane, 'sluice_upstream_connections_active', up, 0);
    const reply = request(plane.port, { path: '/', timeoutMs: 10_000 });
    await origin.waitFor(4);
    for (const r of held.splice(0)) r.end('ok');
    assert.equal((await reply).status, 200);
    const text = await expectMetric(plane, 'sluice_upstream_connections_created_total', up, 2);
    assert.equal(metricValue(text, 'sluice_upstream_connections_active', up), 1);
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', http), 4);
  });
});

describe('TLS handshakes of a TLS listener in Terminate mode', () => {
  let echo: net.Server;
  let plane: L4Plane;
  let port: number;
  const term = { gateway: GW, listener: 'tls-term' };

  before(async () => {
    echo = net.createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, LOOPBACK, r));
    const echoPort = (echo.address() as net.AddressInfo).port;
    plane = await startL4Plane(
      irOf(
        tlsListener('tls-term', { ...terminate(selfSigned('tls.example.com')), settings: { minVersion: '1.3' } }, [
          tlsRoute(['tls.example.com'], [l4Backend('echo', [echoPort])]),
        ]),
      ),
    );
    assert.deepEqual(plane.errors, []);
    port = plane.port('tls-term');
  });
  after(async () => {
    await plane.close();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  /** A handshake, one echoed line, then close; the session to resume with. */
  async function roundTrip(session?: Buffer): Promise<{ reused: boolean; session: Buffer | null }> {
    const socket = tls.connect({
      host: LOOPBACK,
      port,
      servername: 'tls.example.com',
      rejectUnauthorized: false,
      ...(session ? { session } : {}),
    });
    let ticket: Buffer | null = null;
    socket.on('session', (s: Buffer) => (ticket = s));
    try {
      return await withTimeout(
        new Promise((resolve, reject) => {
          socket.once('error', reject);
          socket.once('secureConnect', () => socket.write('ping\n'));
          socket.once('data', () => resolve({ reused: socket.isSessionReused(), session: ticket }));
        }),
        5000,
        'TLS round trip',
      );
    } finally {
      socket.destroy();
    }
  }

  test('handshakes completed and resumed', async () => {
    const first = await roundTrip();
    assert.equal(first.reused, false);
    assert.ok(first.session, 'a session ticket came with the first connection');
    const second = await roundTrip(first.session);
    assert.equal(second.reused, true);
    const text = await expectL4(plane, 'sluice_tls_resumed_total', term, 1);
    assert.equal(metricValue(text, 'sluice_tls_handshakes_total', term), 2);
    // TLS listeners have TCP session series, not downstream connection series.
    assert.equal(metricValue(text, 'sluice_downstream_connections_total', term), undefined);
  });

  test('a client offering only TLS 1.2 to a TLS 1.3 listener', async () => {
    assert.equal(await tlsRefused(port, { servername: 'tls.example.com', maxVersion: 'TLSv1.2' }), true);
    const text = await expectL4(plane, 'sluice_tls_handshake_failures_total', { ...term, reason: 'protocol' }, 1);
    assert.equal(metricValue(text, 'sluice_tls_handshakes_total', term), 2);
    assert.equal(metricValue(text, 'sluice_tls_handshake_failures_total', term), 1);
  });
});

function expectL4(p: L4Plane, name: string, labels: Record<string, string>, want: number): Promise<string> {
  return expectMetric({ dp: p.dp, port: 0, close: (graceMs) => p.close(graceMs) }, name, labels, want);
}

describe('upstream HTTP/2 (h2c) sessions', () => {
  let h2: http2.Http2Server;
  let plane: RunningPlane;
  const up = { backend: 'Service/default/h2:8080' };
  const sessions = new Set<http2.ServerHttp2Session>();

  before(async () => {
    h2 = http2.createServer((_req, res) => res.end('ok'));
    h2.on('session', (s: http2.ServerHttp2Session) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
    await new Promise<void>((r) => h2.listen(0, LOOPBACK, r));
    const port = (h2.address() as net.AddressInfo).port;
    const ir: IR = {
      gateways: [
        gateway([listener('http', [route({ backends: [backend('h2', endpointsOf(port), { protocol: 'h2c' })] })])]),
      ],
    };
    plane = await startPlane(ir);
  });
  after(async () => {
    await plane.close(200);
    await new Promise<void>((r) => h2.close(() => r()));
  });

  test('one session created and open for several requests; a new one after the backend closes it', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(plane.port, { path: '/' })).status, 200);
    let text = await expectMetric(plane, 'sluice_upstream_connections_created_total', up, 1);
    assert.equal(metricValue(text, 'sluice_upstream_connections_active', up), 1);
    assert.equal(metricValue(text, 'sluice_upstream_requests_pending', up), 0);
    // The backend drops the session: closed on the gateway's side too.
    assert.equal(sessions.size, 1);
    for (const s of sessions) s.destroy();
    await expectMetric(plane, 'sluice_upstream_connections_active', up, 0);
    assert.equal((await request(plane.port, { path: '/' })).status, 200);
    text = await expectMetric(plane, 'sluice_upstream_connections_created_total', up, 2);
    assert.equal(metricValue(text, 'sluice_upstream_connections_active', up), 1);
  });
});
