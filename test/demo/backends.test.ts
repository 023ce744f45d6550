/** Demo backends follow the config: one per loopback endpoint of each Service. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import pino from 'pino';
import { DemoBackends, demoEndpoints } from '../../src/demo/backends.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** GET with an explicit Host header (fetch does not allow one). */
function get(port: number, path: string, host: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const backend = (name: string, port: number, address = '127.0.0.1', version = ''): string => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ${version ? `selector: {version: ${version}}` : 'selector: {}'}
  ports: [{port: 80, targetPort: ${port}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: default
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
ports: [{port: ${port}, protocol: TCP}]
endpoints: [{addresses: ["${address}"]}]
---
`;

test('only loopback endpoints get a demo backend', () => {
  const snap = snapshotFromYaml(backend('here', 9001) + backend('remote', 9002, '10.0.0.5'));
  assert.deepEqual(
    demoEndpoints(snap).map((w) => [w.service.metadata.name, w.address, w.port]),
    [['here', '127.0.0.1', 9001]],
  );
});

test('backends answer with who they are, and follow the config', async (t) => {
  const [p1, p2] = [await freePort(), await freePort()];
  const demo = new DemoBackends(pino({ level: 'silent' }));
  t.after(() => demo.close());
  await demo.sync(snapshotFromYaml(backend('app-v1', p1, '127.0.0.1', 'v1') + backend('app-v2', p2)));

  const r = await get(p1, '/hello?x=1', 'app.example.com');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, {
    service: 'app-v1',
    namespace: 'default',
    version: 'v1',
    method: 'GET',
    path: '/hello?x=1',
    host: 'app.example.com',
  });
  assert.equal((await get(p2, '/', 'x')).json.version, 'app-v2');

  // app-v2 leaves the config: its backend stops; app-v1 keeps running.
  await demo.sync(snapshotFromYaml(backend('app-v1', p1, '127.0.0.1', 'v1')));
  await assert.rejects(get(p2, '/', 'x'), /ECONNREFUSED/);
  assert.equal((await get(p1, '/', 'x')).status, 200);
});
