/**
 * End to end: `sluice serve` (one and two workers) and a Gateway given an
 * EnvoyProxy. Its access log goes to a file, and logrotate's move + SIGUSR1
 * to the gateway's process makes every worker write to a new file by that
 * path; its metrics go to an OTLP/gRPC receiver instead of `/metrics`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, serveQuickstart, until, type Serve } from '../support/serve.ts';
import { metricValue } from '../support/metrics.ts';
import { startGrpcReceiver } from '../support/otlp-grpc-receiver.ts';

function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** Gives the quickstart's Gateway an EnvoyProxy with this `spec.telemetry` (YAML, indented 4) and waits until it serves it. */
async function withEnvoyProxy(dir: string, serve: Serve, telemetry: string): Promise<string> {
  writeFileSync(
    join(dir, 'envoyproxy.yaml'),
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: logs, namespace: default}
spec:
  telemetry:
${telemetry}`,
  );
  const gatewayFile = join(dir, 'gateway.yaml');
  writeFileSync(
    gatewayFile,
    readFileSync(gatewayFile, 'utf8').replace(
      '  gatewayClassName: sluice\n',
      '  gatewayClassName: sluice\n  infrastructure:\n    parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: logs}\n',
    ),
  );
  await until('the telemetry in the served config', async () => (await serve.config()).gateways[0]?.telemetry);
  const { sockets } = await serve.status();
  return `http://${sockets[0].address}:${sockets[0].boundPort}`;
}

for (const workers of [1, 2]) {
  test(
    `an EnvoyProxy File sink is reopened on SIGUSR1 after a rename (${workers} worker${workers > 1 ? 's' : ''})`,
    { timeout: 90_000 },
    async (t) => {
      const { dir, serve } = await serveQuickstart(t, workers);
      await serve.waitReady();
      const logs = mkdtempSync(join(tmpdir(), 'sluice-rotate-'));
      t.after(() => rmSync(logs, { recursive: true, force: true }));
      const path = join(logs, 'access.log');
      const gateway = await withEnvoyProxy(
        dir,
        serve,
        `    accessLog:
      settings:
        - format: {type: Text, text: "%REQ(:PATH)% %RESPONSE_CODE%\\n"}
          sinks: [{type: File, file: {path: ${JSON.stringify(path)}}}]
`,
      );
      const get = async (p: string): Promise<void> => {
        assert.equal((await httpGet(gateway + p, { host: 'app.example.com' })).status, 200);
      };

      // Both workers apply the new configuration; ask until a line shows up.
      let n = 0;
      await until('a line in the access log', async () => {
        await get(`/before-${n++}`);
        return lines(path).length > 0;
      });
      renameSync(path, `${path}.1`);
      assert.ok(serve.proc.kill('SIGUSR1'));
      let m = 0;
      await until('a new file after SIGUSR1', async () => {
        await get(`/after-${m++}`);
        return lines(path).length > 0;
      });
      // From now on every worker writes to the new file: ten more requests all land there.
      for (let i = 0; i < 10; i++) await get(`/late-${i}`);
      await until('the ten late lines', () => lines(path).filter((l) => l.startsWith('/late-')).length === 10);
      assert.deepEqual(
        lines(`${path}.1`).filter((l) => l.startsWith('/late-')),
        [],
      );
      assert.ok(
        lines(`${path}.1`).every((l) => /^\/(before|after)-\d+ 200$/.test(l)),
        lines(`${path}.1`).join('\n'),
      );
      // The gateway keeps its stdout for people: no access line went there.
      assert.doesNotMatch(serve.stdout(), /\/late-/);
    },
  );
}

test(
  'EnvoyProxy metrics: pushed over OTLP/gRPC to the sink, left out of /metrics with prometheus.disable',
  { timeout: 90_000 },
  async (t) => {
    const receiver = await startGrpcReceiver();
    t.after(() => receiver.close());
    process.env.SLUICE_METRICS_PUSH_INTERVAL_MS = '200'; // read by the serve process started below
    t.after(() => delete process.env.SLUICE_METRICS_PUSH_INTERVAL_MS);
    const { dir, serve } = await serveQuickstart(t, 2);
    await serve.waitReady();
    // Envoy Gateway's host/port: OTLP over gRPC.
    const gateway = await withEnvoyProxy(
      dir,
      serve,
      `    metrics:
      prometheus: {disable: true}
      sinks:
        - type: OpenTelemetry
          openTelemetry: {host: 127.0.0.1, port: ${receiver.port}}
`,
    );
    assert.equal((await httpGet(gateway + '/', { host: 'app.example.com' })).status, 200);
    await receiver.waitForMetrics(
      'a push counting the request',
      (ms) =>
        ms.filter(
          (m) =>
            m.name === 'sluice_http_requests_total' &&
            m.points.some((p) => p.attributes.gateway === 'default/web' && (p.value ?? 0) >= 1),
        ),
      30_000,
    );
    const text = (await httpGet(serve.admin + '/metrics')).body;
    assert.equal(metricValue(text, 'sluice_http_requests_total', { gateway: 'default/web' }), undefined);
    assert.match(text, /sluice_config_reloads_total/); // the rest of /metrics is still there
  },
);
