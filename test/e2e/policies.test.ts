/**
 * End to end: ClientTrafficPolicy through `sluice serve --workers 1`.
 * A Gateway-level policy with `tls.minVersion: "1.3"` on an HTTPS listener:
 * a TLS 1.2-only client is refused, a TLS 1.3 client gets its answer. A
 * listener-level policy with `enableProxyProtocol` on a TCP listener: a
 * connection that opens with a PROXY v1 header reaches the backend, one
 * that does not is closed. Certificates come from openssl in a temp dir;
 * every wait has a deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { loopbackService, randomLoopbackPool, startBackend, startServe, until, type Serve } from '../support/serve.ts';

const HOST = 'app.example.com';

function certificate(dir: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${HOST}`,
      '-addext',
      `subjectAltName=DNS:${HOST}`,
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
    ],
    { stdio: 'ignore', timeout: 20_000 },
  );
  return { cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') };
}

/** Echoes every byte back; closed with the test. */
async function startEcho(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function config(pair: { cert: string; key: string }, httpPort: number, tcpPort: number): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: v1
kind: Secret
metadata: {name: app-cert, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(pair.cert)}
  tls.key: ${b64(pair.key)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  gatewayClassName: sluice
  listeners:
  - name: https
    protocol: HTTPS
    port: 8443
    tls:
      certificateRefs: [{name: app-cert}]
  - {name: tcp, protocol: TCP, port: 9000}
---
${loopbackService('web', httpPort)}
---
${loopbackService('echo', tcpPort)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: https}]
  hostnames: [${HOST}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: tcp}]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: modern-tls, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: edge}]
  tls: {minVersion: "1.3"}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: behind-balancer, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: edge, sectionName: tcp}]
  enableProxyProtocol: true
`;
}

/** The TLS handshake's outcome: the negotiated version, or the error that ended it. */
function handshake(address: string, port: number, maxVersion: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: address, port, servername: HOST, maxVersion, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 5000);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(s.getProtocol() ?? 'unknown');
      s.end();
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      resolve(`error: ${err.message}`);
    });
  });
}

function httpsGet(
  address: string,
  port: number,
  ca: string,
): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port,
        path: '/hello',
        servername: HOST,
        headers: { host: HOST },
        ca,
        minVersion: 'TLSv1.3',
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const protocol = (res.socket as tls.TLSSocket).getProtocol?.() ?? 'unknown';
          resolve({ status: res.statusCode!, body, protocol });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Writes `data` and collects what comes back until the connection closes or `ms` pass. */
function exchange(
  address: string,
  port: number,
  data: string,
  ms = 5000,
): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    const s = net.connect({ host: address, port });
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ received, closed });
    };
    const timer = setTimeout(() => done(false), ms);
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      received += c;
      if (received.includes('\n')) done(false);
    });
    s.on('close', () => done(true));
    s.on('error', () => undefined);
    s.write(data);
  });
}

interface PolicyStatus {
  kind: string;
  metadata: { name: string };
  status?: { ancestors?: Array<{ conditions: Array<{ type: string; status: string }> }> };
}

test('ClientTrafficPolicy: TLS 1.3 only on HTTPS, PROXY protocol required on TCP', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-policies-'));
  const web = await startBackend('web');
  const echo = await startEcho();
  const running: { serve?: Serve } = {};
  t.after(async () => {
    await running.serve?.stop('SIGKILL');
    await web.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pair = certificate(dir);
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'all.yaml'), config(pair, web.port, echo.port));
  const serve = (running.serve = await startServe([
    '--config',
    configDir,
    '--workers',
    '1',
    '--address-pool',
    randomLoopbackPool(),
    '--port-offset',
    '10000',
  ]));
  await serve.waitReady();
  const status = await serve.status();
  const socket = (port: number) => {
    const s = status.sockets.find((x) => x.port === port && x.protocol === 'tcp');
    assert.ok(s, `no socket for port ${port}: ${JSON.stringify(status.sockets)}`);
    return s;
  };
  const https = socket(8443);
  const tcp = socket(9000);

  const policies = status.resources.filter((r) => r.kind === 'ClientTrafficPolicy') as unknown as PolicyStatus[];
  for (const p of policies) {
    const accepted = p.status?.ancestors?.[0]?.conditions.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'True', `${p.metadata.name}: ${JSON.stringify(p.status)}`);
  }

  // TLS: 1.3 works end to end, 1.2 is refused in the handshake.
  const ok = await until('an HTTPS answer over TLS 1.3', () => httpsGet(https.address, https.boundPort, pair.cert));
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.protocol, 'TLSv1.3');
  assert.equal((JSON.parse(ok.body) as { version: string }).version, 'web');
  assert.equal(await handshake(https.address, https.boundPort, 'TLSv1.3'), 'TLSv1.3');
  assert.match(await handshake(https.address, https.boundPort, 'TLSv1.2'), /^error: .*(protocol|version)/i);

  // PROXY protocol: with the header the bytes reach the echo backend; without it the connection is closed.
  const proxied = await exchange(
    tcp.address,
    tcp.boundPort,
    `PROXY TCP4 192.0.2.7 ${tcp.address} 40000 9000\r\nhello\n`,
  );
  assert.deepEqual(proxied, { received: 'hello\n', closed: false });
  const bare = await exchange(tcp.address, tcp.boundPort, 'hello\n');
  assert.deepEqual(bare, { received: '', closed: true });
});
