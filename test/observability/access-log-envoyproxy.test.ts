/**
 * EnvoyProxy access logs in a real data plane: per-Gateway settings (format,
 * CEL matches, type Route/Listener), File sinks reopened after a rename,
 * OTLP/HTTP export to a real receiver, the bounded stream buffer, and one
 * line per TCP/UDP session with L4 counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessLogIR, GatewayIR, IR, TelemetryIR } from '../../src/ir/types.ts';
import {
  AccessLogger,
  StreamOutput,
  celAttributes,
  compileTextFormat,
  type AccessLogEntry,
  type LineSink,
} from '../../src/observability/access-log.ts';
import { compileMatches } from '../../src/observability/access-log/matches.ts';
import { reopenAccessLogFiles } from '../../src/observability/access-log/sinks.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { L4Counter } from '../../src/observability/metrics/data-plane-metrics.ts';
import { createDataPlane, type DataPlane } from '../../src/proxy/index.ts';
import { until } from '../support/serve.ts';
import { startTcpEcho, TCP_ECHO_WELCOME } from '../support/tcp-echo.ts';
import { startUdpEcho } from '../support/udp-echo.ts';
import { LOOPBACK, backend, deadPort, endpointsOf, listener, request, route, startOrigin } from '../proxy/helpers.ts';
import {
  LineReader,
  closedByPeer,
  connectTcp,
  freeTcpPort,
  freeUdpPort,
  PASSTHROUGH,
  hasOpenssl,
  l4Backend,
  l4Route,
  selfSigned,
  tcpListener,
  tlsListener,
  tlsRoute,
  udpListener,
} from '../proxy/l4/l4-helpers.ts';
import tls from 'node:tls';
import dgram from 'node:dgram';

class Collector implements LineSink {
  text = '';
  write(chunk: string): void {
    this.text += chunk;
  }
  lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-al-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fileLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

function gw(name: string, listeners: GatewayIR['listeners'], telemetry?: TelemetryIR): GatewayIR {
  return { namespace: 'default', name, addresses: [LOOPBACK], listeners, ...(telemetry ? { telemetry } : {}) };
}

function withLog(accessLog: AccessLogIR): TelemetryIR {
  return { source: 'default/proxy', accessLog };
}

async function plane(
  t: { after(fn: () => Promise<void>): void },
  ir: IR,
  defaultLog?: AccessLogger,
): Promise<DataPlane> {
  const dp = createDataPlane({
    portOffset: 0,
    log: createLogger('silent'),
    tuning: { udpSessionIdleMs: 300 },
    ...(defaultLog ? { accessLog: defaultLog } : {}),
  });
  t.after(() => dp.close(200));
  const result = await dp.apply(ir);
  assert.deepEqual(result.errors, []);
  return dp;
}

test('CEL matches read Envoy attributes; a failing expression counts as false', () => {
  const e: AccessLogEntry = {
    method: 'POST',
    url: '/api/x?debug=1',
    path: '/api/x',
    host: 'app.example.com',
    rawHeaders: ['X-Tenant', 'blue', 'User-Agent', 'curl/8'],
    authority: 'app.example.com',
    status: 503,
    requestBytes: 10,
    responseBytes: 20,
    startMs: performance.now() - 5,
    responseFlags: 4,
    requestHeader: (n) => (n === 'x-tenant' ? 'blue' : undefined),
    protocol: () => 'HTTP/1.1',
    upstreamHost: () => '127.0.0.1:9',
    upstreamCluster: () => 'Service/default/a:80',
    routeName: () => 'httproute/default/a/rule/0',
    downstreamRemoteAddress: () => '127.0.0.1:5555',
    downstreamLocalAddress: () => '127.0.0.1:8080',
  };
  const a = celAttributes(e, performance.now(), false);
  const yes = (expr: string): boolean => compileMatches([expr])!(a);
  assert.equal(yes("request.headers['x-tenant'] == 'blue'"), true);
  assert.equal(yes('response.code >= 500 && request.method == "POST"'), true);
  assert.equal(yes("request.path == '/api/x?debug=1' && request.url_path == '/api/x'"), true);
  assert.equal(yes("request.host == 'app.example.com' && source.port == 5555"), true);
  assert.equal(yes('response.code == 200'), false);
  assert.equal(yes("request.headers['missing'] == 'x'"), false); // no such key: an error, so false
  assert.equal(compileMatches(['response.code == 200', "xds.route_name.startsWith('httproute/')"])!(a), true);
  assert.equal(compileMatches([]), null);
  assert.throws(() => compileMatches(['response.code >=']));
});

test('a stalled stream drops lines beyond its bound and counts them', () => {
  const written: string[] = [];
  let dropped = 0;
  const out = new StreamOutput({ write: (c: string) => written.push(c) }, 100, (n) => (dropped += n));
  const line = `${'x'.repeat(39)}\n`;
  for (let i = 0; i < 5; i++) out.add(line); // 2 fit in 100 characters, 3 do not
  assert.equal(out.dropped, 3);
  assert.equal(dropped, 3);
  out.flush();
  assert.deepEqual(written, [line + line]);
  out.add(line); // the buffer was written: room again
  out.flush();
  assert.equal(written.length, 2);
});

test('per-Gateway access logs: EnvoyProxy settings, disable, and the default for Gateways without one', async (t) => {
  const origin = await startOrigin('a');
  t.after(() => origin.close());
  const dir = tmp(t);
  const errors = join(dir, 'errors.log');
  const all = join(dir, 'logs', 'all.json');
  const defaults = new Collector();
  const [p1, p2, p3] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  const r = (): ReturnType<typeof route> => route({ backends: [backend('a', endpointsOf(origin.port))] });
  const missing = route({ path: { type: 'PathPrefix', value: '/missing' }, directResponse: { statusCode: 404 } });
  const ir: IR = {
    gateways: [
      gw('logged', [listener('http', [missing, r()], { port: p1 })], {
        source: 'default/proxy',
        accessLog: {
          disabled: false,
          settings: [
            {
              format: { type: 'Text', text: '%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %REQ(X-TENANT)%\n' },
              matches: ['response.code >= 400', "request.headers['x-tenant'] == 'red'"],
              sinks: [{ type: 'File', path: errors }],
            },
            {
              format: { type: 'JSON', json: { method: '%REQ(:METHOD)%', code: '%RESPONSE_CODE%' } },
              matches: [],
              type: 'Route',
              sinks: [{ type: 'File', path: all }],
            },
          ],
        },
      }),
      gw('quiet', [listener('http', [r()], { port: p2 })], withLog({ disabled: true, settings: [] })),
      gw('plain', [listener('http', [r()], { port: p3 })]),
    ],
  };
  await plane(t, ir, new AccessLogger(compileTextFormat('%REQ(:AUTHORITY)% %RESPONSE_CODE%'), defaults));

  assert.equal((await request(p1, { path: '/ok' })).status, 200);
  assert.equal((await request(p1, { path: '/ok', headers: { 'x-tenant': 'red' } })).status, 200);
  assert.equal((await request(p1, { path: '/missing' })).status, 404);
  assert.equal((await request(p2, { path: '/quiet' })).status, 200);
  assert.equal((await request(p3, { path: '/plain', host: 'plain.example.com' })).status, 200);

  await until('the JSON file has three lines', () => fileLines(all).length >= 3);
  await until('the error file has two lines', () => fileLines(errors).length >= 2);
  await until('the default log has a line', () => defaults.lines().length >= 1);
  assert.deepEqual(
    fileLines(all).map((l) => JSON.parse(l) as unknown),
    [
      { method: 'GET', code: 200 },
      { method: 'GET', code: 200 },
      { method: 'GET', code: 404 },
    ],
  );
  assert.deepEqual(fileLines(errors), ['GET /ok 200 red', 'GET /missing 404 -']);
  // The disabled Gateway wrote nowhere; the Gateway without EnvoyProxy used the default logger only.
  assert.deepEqual(defaults.lines(), ['plain.example.com 200']);
});

test('File sinks: logrotate renames the file, reopening writes a new one by the same path', async (t) => {
  const origin = await startOrigin('a');
  t.after(() => origin.close());
  const dir = tmp(t);
  const path = join(dir, 'access.log');
  const port = await freeTcpPort();
  const ir: IR = {
    gateways: [
      gw(
        'rotated',
        [listener('http', [route({ backends: [backend('a', endpointsOf(origin.port))] })], { port })],
        withLog({
          disabled: false,
          settings: [{ format: { type: 'Text', text: '%REQ(:PATH)%' }, matches: [], sinks: [{ type: 'File', path }] }],
        }),
      ),
    ],
  };
  await plane(t, ir);
  await request(port, { path: '/before' });
  await until('the first line', () => fileLines(path).length === 1);
  renameSync(path, `${path}.1`);
  await request(port, { path: '/between' }); // still written to the renamed file (same descriptor)
  await until('the line after the rename', () => fileLines(`${path}.1`).length === 2);
  reopenAccessLogFiles();
  await request(port, { path: '/after' });
  await until('a new file', () => fileLines(path).length === 1);
  assert.deepEqual(fileLines(`${path}.1`), ['/before', '/between']);
  assert.deepEqual(fileLines(path), ['/after']);
});

interface OtlpLogsBody {
  resourceLogs: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeLogs: Array<{
      logRecords: Array<{
        body: { stringValue: string };
        attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
      }>;
    }>;
  }>;
}

test('OpenTelemetry sinks: records POSTed as OTLP/HTTP JSON to /v1/logs, JSON fields as attributes', async (t) => {
  const origin = await startOrigin('a');
  t.after(() => origin.close());
  const received: Array<{ path: string; headers: http.IncomingHttpHeaders; body: OtlpLogsBody }> = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()) as OtlpLogsBody,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, LOOPBACK, r));
  t.after(() => new Promise<void>((r) => receiver.close(() => r())));
  const url = `http://${LOOPBACK}:${(receiver.address() as AddressInfo).port}`;
  const port = await freeTcpPort();
  const ir: IR = {
    gateways: [
      gw(
        'exported',
        [listener('http', [route({ backends: [backend('a', endpointsOf(origin.port))] })], { port })],
        withLog({
          disabled: false,
          settings: [
            {
              format: {
                type: 'JSON',
                json: { method: '%REQ(:METHOD)%', path: '%REQ(:PATH)%', code: '%RESPONSE_CODE%' },
              },
              matches: [],
              sinks: [
                {
                  type: 'OpenTelemetry',
                  endpoint: {
                    url,
                    headers: [{ name: 'x-api-key', value: 'secret' }],
                    resourceAttributes: { 'k8s.cluster.name': 'test' },
                  },
                },
              ],
            },
          ],
        }),
      ),
    ],
  };
  await plane(t, ir);
  assert.equal((await request(port, { method: 'POST', path: '/exported', body: 'x' })).status, 200);
  const got = await until('an OTLP logs request', () => received.find((r) => r.body.resourceLogs?.length > 0));
  assert.equal(got.path, '/v1/logs');
  assert.equal(got.headers['x-api-key'], 'secret');
  assert.match(String(got.headers['content-type']), /application\/json/);
  const rl = got.body.resourceLogs[0];
  const resource = Object.fromEntries(rl.resource.attributes.map((a) => [a.key, a.value.stringValue]));
  assert.equal(resource['k8s.cluster.name'], 'test');
  const record = rl.scopeLogs[0].logRecords[0];
  assert.deepEqual(JSON.parse(record.body.stringValue), { method: 'POST', path: '/exported', code: 200 });
  const attrs = Object.fromEntries((record.attributes ?? []).map((a) => [a.key, a.value]));
  assert.equal(attrs.method.stringValue, 'POST');
  assert.equal(Number(attrs.code.intValue ?? NaN), 200);
});

test('TCP sessions: one line each when they end (bytes, upstream, route, UF) and L4 counters', async (t) => {
  const echo = await startTcpEcho();
  t.after(() => echo.close());
  const dead = await deadPort();
  const lines = new Collector();
  const [pOk, pDead] = [await freeTcpPort(), await freeTcpPort()];
  const ok = l4Route([l4Backend('echo', [echo.port])]);
  const broken = l4Route([l4Backend('dead', [dead])]);
  const ir: IR = {
    gateways: [gw('l4', [tcpListener('tcp', [ok], { port: pOk }), tcpListener('dead', [broken], { port: pDead })])],
  };
  const format =
    '%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_HOST% %ROUTE_NAME% %UPSTREAM_CLUSTER% %PROTOCOL% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%';
  const dp = await plane(t, ir, new AccessLogger(compileTextFormat(format), lines));

  const s = await connectTcp(pOk);
  const reader = new LineReader(s);
  assert.equal(await reader.next(), TCP_ECHO_WELCOME.trim());
  s.write('PING\n');
  assert.equal(await reader.next(), 'PONG');
  s.end();
  await until('the TCP line', () => lines.lines().length >= 1);
  const sent = Buffer.byteLength(TCP_ECHO_WELCOME) + 'PONG\n'.length;
  assert.deepEqual(lines.lines(), [
    `- 5 ${sent} 127.0.0.1:${echo.port} ${ok.name} Service/default/echo:3000 - 127.0.0.1`,
  ]);

  const d = await connectTcp(pDead);
  await closedByPeer(d);
  d.destroy();
  await until('the UF line', () => lines.lines().length >= 2);
  assert.equal(lines.lines()[1], `UF 0 0 127.0.0.1:${dead} ${broken.name} Service/default/dead:3000 - 127.0.0.1`);

  const m = dp.metrics!();
  const series = (backendName: string): number[] => {
    const i = m.l4Series!.findIndex((l) => l[4] === backendName);
    assert.ok(i >= 0, backendName);
    return m.l4!.slice(i * 5, i * 5 + 5);
  };
  const okS = series('Service/default/echo:3000');
  assert.equal(okS[L4Counter.Sessions], 1);
  assert.equal(okS[L4Counter.Active], 0);
  assert.equal(okS[L4Counter.ReceivedBytes], 5);
  assert.equal(okS[L4Counter.SentBytes], sent);
  assert.equal(okS[L4Counter.ConnectFailures], 0);
  const i = m.l4Series!.findIndex((l) => l[4] === 'Service/default/echo:3000');
  assert.deepEqual(m.l4Series![i], [
    'tcp',
    'default/l4',
    'tcp',
    `default/${ok.route.name}`,
    'Service/default/echo:3000',
  ]);
  assert.equal(series('Service/default/dead:3000')[L4Counter.ConnectFailures], 1);
});

test('UDP sessions: a line when the session idles out, Route-type settings leave L4 sessions out', async (t) => {
  const echo = await startUdpEcho();
  t.after(() => echo.close());
  const dir = tmp(t);
  const path = join(dir, 'sessions.log');
  const port = await freeUdpPort();
  const r = l4Route([l4Backend('udp', [echo.port], { protocol: 'udp' })], 'UDPRoute');
  const text = (path: string, type?: 'Route'): AccessLogIR['settings'][number] => ({
    format: { type: 'Text', text: '%BYTES_RECEIVED% %BYTES_SENT% %ROUTE_NAME%' },
    matches: [],
    ...(type ? { type } : {}),
    sinks: [{ type: 'File', path }],
  });
  const ir: IR = {
    gateways: [
      gw(
        'udp',
        [udpListener('dns', [r], { port })],
        withLog({ disabled: false, settings: [text(path), text(path, 'Route')] }),
      ),
    ],
  };
  const dp = await plane(t, ir);
  const client = dgram.createSocket('udp4');
  t.after(() => client.close());
  const reply = new Promise<Buffer>((resolve) => client.once('message', resolve));
  client.send(Buffer.from('ping'), port, LOOPBACK);
  const answer = await Promise.race([
    reply,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no UDP reply')), 5000)),
  ]);
  await until('the session line', () => fileLines(path).length >= 1);
  // Both settings write to one file through one buffer: the Route-type one took no line.
  assert.deepEqual(fileLines(path), [`4 ${answer.length} ${r.name}`]);
  const m = dp.metrics!();
  const i = m.l4Series!.findIndex((l) => l[0] === 'udp' && l[4] !== '');
  assert.equal(m.l4![i * 5 + L4Counter.Sessions], 1);
  assert.equal(m.l4![i * 5 + L4Counter.Active], 0);
  assert.equal(m.l4![i * 5 + L4Counter.ReceivedBytes], 4);
});

test(
  'TLS passthrough sessions are logged like TCP ones; a route with nothing to send to gives a UH line',
  { skip: !hasOpenssl && 'openssl CLI not available' },
  async (t) => {
    const cert = selfSigned('pass.example.com');
    const echo = await startTcpEcho({ tls: { cert: cert.cert, key: cert.key } });
    t.after(() => echo.close());
    const lines = new Collector();
    const port = await freeTcpPort();
    const through = tlsRoute(['pass.example.com'], [l4Backend('secure', [echo.tlsPort!])]);
    const empty = tlsRoute(['empty.example.com'], [l4Backend('none', [], { weight: 0 })]);
    const ir: IR = {
      gateways: [gw('tls', [tlsListener('tls', PASSTHROUGH, [through, empty], { port })])],
    };
    await plane(
      t,
      ir,
      new AccessLogger(compileTextFormat('%RESPONSE_FLAGS% %UPSTREAM_HOST% %ROUTE_NAME% %BYTES_SENT%'), lines),
    );
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const c = tls.connect(
        { host: LOOPBACK, port, servername: 'pass.example.com', ca: cert.cert, minVersion: 'TLSv1.2' },
        () => resolve(c),
      );
      c.once('error', reject);
    });
    const reader = new LineReader(s);
    assert.equal(await reader.next(), TCP_ECHO_WELCOME.trim());
    s.end();
    await until('the passthrough line', () => lines.lines().length >= 1);
    const [flags, upstream, routeName, sent] = lines.lines()[0].split(' ');
    assert.equal(flags, '-');
    assert.equal(upstream, `127.0.0.1:${echo.tlsPort}`);
    assert.equal(routeName, through.name);
    assert.ok(Number(sent) > TCP_ECHO_WELCOME.length, `TLS records carry more than the plain text: ${sent}`);

    const refused = tls.connect({ host: LOOPBACK, port, servername: 'empty.example.com', rejectUnauthorized: false });
    refused.on('error', () => {});
    await closedByPeer(refused);
    refused.destroy();
    await until('the UH line', () => lines.lines().length >= 2);
    assert.equal(lines.lines()[1], `UH - ${empty.name} 0`);
  },
);
