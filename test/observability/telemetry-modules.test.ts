/**
 * The OpenTelemetry SDKs and the CEL interpreter load only when a
 * configuration uses them (src/observability/telemetry-modules.ts): a data
 * plane in a fresh process records every module it resolves, through a
 * module resolve hook, and reports the telemetry packages among them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { IR, OtlpEndpointIR, TelemetryIR } from '../../src/ir/types.ts';

const run = promisify(execFile);
const SRC = resolve(import.meta.dirname, '../../src');

/** Packages under @opentelemetry/, @bufbuild/ and @grpc/ that a data plane resolved while applying `ir`. */
async function telemetryPackagesLoaded(ir: IR): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-modules-'));
  try {
    const script = join(dir, 'probe.mjs');
    writeFileSync(
      script,
      `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on('message', (u) => seen.push(u));
const hook = 'let port; export function initialize(d) { port = d.port; } ' +
  'export async function resolve(s, c, n) { const r = await n(s, c); port.postMessage(r.url); return r; }';
register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
const { createDataPlane } = await import(${JSON.stringify(join(SRC, 'proxy/index.ts'))});
const { createLogger } = await import(${JSON.stringify(join(SRC, 'observability/logger.ts'))});
const dp = createDataPlane({ portOffset: 0, log: createLogger('silent') });
await dp.apply(${JSON.stringify(ir)});
await dp.close(10);
// Messages of one port arrive in order: once the sentinel's resolve is seen, every earlier one is.
await import('data:text/javascript,export default "sentinel"');
const deadline = Date.now() + 10000;
while (!seen.some((u) => u.includes('sentinel')) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
port1.close();
const packages = seen.filter((u) => /node_modules\\/@(opentelemetry|bufbuild|grpc)\\//.test(u))
  .map((u) => u.replace(/.*node_modules\\//, '').split('/').slice(0, 2).join('/'));
console.log(JSON.stringify({ sentinel: seen.some((u) => u.includes('sentinel')), packages: [...new Set(packages)].sort() }));
`,
    );
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { sentinel: boolean; packages: string[] };
    assert.ok(out.sentinel, 'the probe saw its own resolves');
    return out.packages;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const endpoint: OtlpEndpointIR = { url: 'http://127.0.0.1:9' };
const grpc: OtlpEndpointIR = { url: 'http://127.0.0.1:9', protocol: 'grpc' };

/** An IR of one Gateway without listeners, with `telemetry` (none when absent). */
function gatewayWith(telemetry?: Omit<TelemetryIR, 'source'>): IR {
  return {
    gateways: [
      {
        namespace: 'ns',
        name: 'gw',
        addresses: [],
        listeners: [],
        ...(telemetry ? { telemetry: { source: 'ns/proxy', ...telemetry } } : {}),
      },
    ],
  };
}

const tracingTo = (e: OtlpEndpointIR): IR =>
  gatewayWith({
    tracing: { samplingPercent: 100, provider: { type: 'OpenTelemetry', endpoint: e, serviceName: 'gw.ns' }, tags: {} },
  });

const logsTo = (e: OtlpEndpointIR, matches: string[]): IR =>
  gatewayWith({
    accessLog: {
      disabled: false,
      settings: [{ format: { type: 'Text' }, matches, sinks: [{ type: 'OpenTelemetry', endpoint: e }] }],
    },
  });

test('without EnvoyProxy telemetry, no OpenTelemetry or CEL package is loaded', async () => {
  assert.deepEqual(await telemetryPackagesLoaded(gatewayWith()), []);
});

test('tracing loads the OpenTelemetry trace SDK; access-log matches and OTLP sinks load CEL and the logs SDK', async () => {
  const tracing = await telemetryPackagesLoaded(tracingTo(endpoint));
  assert.ok(tracing.includes('@opentelemetry/sdk-trace-base'), tracing.join(', '));
  assert.ok(!tracing.includes('@bufbuild/cel') && !tracing.includes('@opentelemetry/sdk-logs'), tracing.join(', '));
  assert.ok(!tracing.some((p) => p.startsWith('@grpc/') || p.endsWith('-grpc')), `no gRPC: ${tracing.join(', ')}`);

  const logs = await telemetryPackagesLoaded(logsTo(endpoint, ['response.code >= 500']));
  assert.ok(logs.includes('@bufbuild/cel') && logs.includes('@opentelemetry/sdk-logs'), logs.join(', '));
  assert.ok(!logs.includes('@opentelemetry/sdk-trace-base'), logs.join(', '));
  assert.ok(!logs.some((p) => p.startsWith('@grpc/') || p.endsWith('-grpc')), `no gRPC: ${logs.join(', ')}`);
});

test('a gRPC tracing endpoint loads @grpc/grpc-js and the gRPC span exporter, a gRPC log sink the gRPC log exporter', async () => {
  const tracing = await telemetryPackagesLoaded(tracingTo(grpc));
  assert.ok(tracing.includes('@grpc/grpc-js'), tracing.join(', '));
  assert.ok(tracing.includes('@opentelemetry/exporter-trace-otlp-grpc'), tracing.join(', '));
  assert.ok(!tracing.includes('@opentelemetry/exporter-logs-otlp-grpc'), tracing.join(', '));

  const logs = await telemetryPackagesLoaded(logsTo(grpc, []));
  assert.ok(logs.includes('@grpc/grpc-js'), logs.join(', '));
  assert.ok(logs.includes('@opentelemetry/exporter-logs-otlp-grpc'), logs.join(', '));
  assert.ok(!logs.includes('@opentelemetry/exporter-trace-otlp-grpc'), logs.join(', '));
});
