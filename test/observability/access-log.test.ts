/** Access logs: the formatters on their own, then real requests through a data plane in both formats. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccessLogger,
  ENVOY_DEFAULT_TEXT_FORMAT,
  ENVOY_GATEWAY_JSON_FORMAT,
  ResponseFlag,
  compileJsonFormat,
  compileTextFormat,
  type AccessLogEntry,
  type LineSink,
} from '../../src/observability/access-log.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createDataPlane } from '../../src/proxy/index.ts';
import { backend, deadPort, endpointsOf, request, route, simpleIR, startOrigin } from '../proxy/helpers.ts';

function entry(partial: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    method: 'GET',
    url: '/a?b=1',
    path: '/a',
    host: 'app.example.com',
    rawHeaders: ['X-Request-Id', 'rid-1', 'User-Agent', 'curl/8'],
    authority: 'app.example.com',
    status: 200,
    requestBytes: 3,
    responseBytes: 12,
    startMs: performance.now() - 5,
    responseFlags: 0,
    requestHeader: (n) => ({ 'x-request-id': 'rid-1', 'user-agent': 'curl/8', 'x-forwarded-for': '10.0.0.1' })[n],
    protocol: () => 'HTTP/1.1',
    upstreamHost: () => '127.0.0.1:9001',
    upstreamCluster: () => 'Service/default/app:80',
    routeName: () => 'httproute/default/app/rule/0/match/0/*',
    downstreamRemoteAddress: () => '127.0.0.1:5555',
    downstreamLocalAddress: () => '127.0.0.1:8080',
    ...partial,
  };
}

test("Envoy's default text format", () => {
  const f = compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT);
  const e = entry();
  const line = f(e, e.startMs + 5.4);
  assert.match(
    line,
    /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/a\?b=1 HTTP\/1\.1" 200 - 3 12 5 - "10\.0\.0\.1" "curl\/8" "rid-1" "app\.example\.com" "127\.0\.0\.1:9001"\n$/,
  );
  const failed = f(
    entry({
      status: 503,
      responseFlags: ResponseFlag.UpstreamConnectionFailure | ResponseFlag.UpstreamRetryLimitExceeded,
      upstreamHost: () => null,
    }),
    0,
  );
  assert.match(failed, /" 503 UF,URX 3 12 /);
  assert.match(failed, /"-"\n$/);
});

test('operators: %% escapes, header fallback and truncation, unknown operators refused at compile time', () => {
  const f = compileTextFormat('%% %REQ(X-MISSING?:AUTHORITY)% %REQ(USER-AGENT):3% %ROUTE_NAME% %UPSTREAM_CLUSTER%');
  const e = entry();
  assert.equal(f(e, 0), '% app.example.com cur httproute/default/app/rule/0/match/0/* Service/default/app:80\n');
  assert.throws(() => compileTextFormat('%NOPE%'), /unknown command operator %NOPE%/);
});

test('JSON format: numbers stay numbers, missing values are null, one object per line', () => {
  const f = compileJsonFormat(ENVOY_GATEWAY_JSON_FORMAT);
  const e = entry({ requestHeader: () => undefined });
  const line = f(e, e.startMs + 2);
  assert.ok(line.endsWith('}\n'));
  const o = JSON.parse(line) as Record<string, unknown>;
  assert.equal(o.method, 'GET');
  assert.equal(o['x-envoy-origin-path'], '/a?b=1');
  assert.equal(o.protocol, 'HTTP/1.1');
  assert.equal(o.response_code, 200);
  assert.equal(o.response_flags, null);
  assert.equal(o.bytes_received, 3);
  assert.equal(o.bytes_sent, 12);
  assert.equal(o.duration, 2);
  assert.equal(o['x-request-id'], null);
  assert.equal(o[':authority'], 'app.example.com');
  assert.equal(o.upstream_host, '127.0.0.1:9001');
  assert.equal(o.route_name, 'httproute/default/app/rule/0/match/0/*');
  assert.match(String(o.start_time), /^\d{4}-\d\d-\d\dT/);
});

class Collector implements LineSink {
  chunks: string[] = [];
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  lines(): string[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '');
  }
}

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a data plane logs one line per request, buffered per event-loop turn, in both formats', async (t) => {
  const origin = await startOrigin('a');
  t.after(() => origin.close());
  const dead = await deadPort();
  const ir = simpleIR([
    route({ path: { type: 'PathPrefix', value: '/dead' }, backends: [backend('dead', endpointsOf(dead))] }),
    route({ backends: [backend('a', endpointsOf(origin.port))] }),
  ]);
  for (const format of ['text', 'json'] as const) {
    const sink = new Collector();
    const formatter =
      format === 'json' ? compileJsonFormat(ENVOY_GATEWAY_JSON_FORMAT) : compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT);
    const dp = createDataPlane({
      portOffset: 0,
      log: createLogger('silent'),
      accessLog: new AccessLogger(formatter, sink),
    });
    t.after(() => dp.close(200));
    const port = (await dp.apply(ir)).bound[0].boundPort;
    const ok = await request(port, {
      method: 'POST',
      path: '/hello?x=1',
      host: 'app.example.com',
      headers: { 'x-request-id': 'req-42', 'user-agent': 'test/1' },
      body: 'abc',
    });
    assert.equal(ok.status, 200);
    assert.equal((await request(port, { path: '/dead', host: 'app.example.com' })).status, 503);
    await until('two lines', () => sink.lines().length >= 2);
    const [first, second] = sink.lines();
    assert.equal(sink.lines().length, 2, sink.lines().join('\n'));
    if (format === 'text') {
      assert.match(
        first,
        new RegExp(
          `^\\[[^\\]]+\\] "POST /hello\\?x=1 HTTP/1\\.1" 200 - 3 ${ok.body.length} \\d+ - "127\\.0\\.0\\.1" "test/1" "req-42" "app\\.example\\.com" "127\\.0\\.0\\.1:${origin.port}"$`,
        ),
      );
      assert.match(
        second,
        new RegExp(
          `"GET /dead HTTP/1\\.1" 503 UF 0 \\d+ \\d+ - "127\\.0\\.0\\.1" "-" "[0-9a-f-]{36}" "app\\.example\\.com" "127\\.0\\.0\\.1:${dead}"$`,
        ),
      );
    } else {
      const a = JSON.parse(first) as Record<string, unknown>;
      assert.equal(a.method, 'POST');
      assert.equal(a['x-envoy-origin-path'], '/hello?x=1');
      assert.equal(a.response_code, 200);
      assert.equal(a.response_flags, null);
      assert.equal(a.bytes_received, 3);
      assert.equal(a.bytes_sent, ok.body.length);
      assert.equal(a['x-request-id'], 'req-42');
      assert.equal(a.upstream_host, `127.0.0.1:${origin.port}`);
      assert.equal(a.upstream_cluster, 'Service/default/a:8080');
      assert.match(String(a.route_name), /^httproute\/default\/r\d+\//);
      const b = JSON.parse(second) as Record<string, unknown>;
      assert.equal(b.response_code, 503);
      assert.equal(b.response_flags, 'UF');
      assert.equal(b.upstream_host, `127.0.0.1:${dead}`);
    }
  }
});

test('no route: NR and a 404 line', async (t) => {
  const sink = new Collector();
  const dp = createDataPlane({
    portOffset: 0,
    log: createLogger('silent'),
    accessLog: new AccessLogger(compileTextFormat('%RESPONSE_CODE% %RESPONSE_FLAGS% %ROUTE_NAME%'), sink),
  });
  t.after(() => dp.close(200));
  const port = (await dp.apply(simpleIR([route({ hostname: 'only.example.com' })]))).bound[0].boundPort;
  assert.equal((await request(port, { host: 'other.example.com' })).status, 404);
  await until('a line', () => sink.lines().length >= 1);
  assert.deepEqual(sink.lines(), ['404 NR -']);
});
