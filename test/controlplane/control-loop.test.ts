/**
 * The control loop around a fake data plane (in process): what goes to the
 * workers, readiness, status as bound, and last-good handling of broken files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import pino from 'pino';
import type { KubeObject } from '../../src/api/object.ts';
import type { Condition } from '../../src/translate/conditions.ts';
import { ControlLoop, type ConfigLoad } from '../../src/controlplane/control-loop.ts';
import { InProcessRunner } from '../../src/controlplane/runner.ts';
import { buildSnapshot } from '../../src/providers/build-snapshot.ts';
import { fakeDataPlaneFactory, type FakeDataPlane } from './fixtures/fake-dataplane.ts';

const log = pino({ level: 'silent' });

const CLASS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
`;
const gateway = (port: number, name = 'web'): string => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: default}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: http, protocol: HTTP, port: ${port}}
`;

function objects(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml).map((d) => {
    const o = d.toJS() as KubeObject;
    o.metadata.generation ??= 1;
    return o;
  });
}

/** A clean load of `files` (name -> yaml). */
function load(files: Record<string, string>): ConfigLoad {
  return { snapshot: buildSnapshot(objects(Object.values(files).join('\n---\n'))).snapshot, problems: [], kept: [] };
}

function setup(failPorts: number[] = []): { loop: ControlLoop; dp: () => FakeDataPlane } {
  let dp: FakeDataPlane | undefined;
  const factory = fakeDataPlaneFactory(failPorts);
  const runner = new InProcessRunner((o) => (dp = factory(o)), { portOffset: 10000, log });
  const loop = new ControlLoop({ runner, translate: { defaultAddress: '127.0.0.1' }, log });
  return { loop, dp: () => dp! };
}

interface GatewayStatus {
  addresses: Array<{ type: string; value: string }>;
  listeners: Array<{ name: string; conditions: Condition[] }>;
}

function gatewayStatus(loop: ControlLoop, name = 'web'): GatewayStatus {
  return loop.status().resources.find((r) => r.kind === 'Gateway' && r.metadata.name === name)!.status as GatewayStatus;
}

function programmed(st: GatewayStatus): Condition {
  return st.listeners[0].conditions.find((c) => c.type === 'Programmed')!;
}

test('a configuration goes to the data plane; ready once applied; status shows what was bound', async () => {
  const { loop, dp } = setup();
  assert.equal(loop.readiness().ready, false);
  assert.equal(loop.config(), undefined);
  await loop.reload(load({ 'class.yaml': CLASS, 'gw.yaml': gateway(8080) }));

  assert.deepEqual(loop.readiness(), { ready: true });
  assert.equal(dp().applied.length, 1);
  assert.deepEqual(loop.config(), dp().applied[0]);
  const st = gatewayStatus(loop);
  assert.deepEqual(st.addresses, [{ type: 'IPAddress', value: '127.0.0.1' }]);
  assert.equal(programmed(st).status, 'True');
  assert.equal(programmed(st).message, 'Listening on 127.0.0.1:18080');
  const doc = loop.status();
  assert.equal(doc.version, 1);
  assert.deepEqual(doc.sockets, [
    { address: '127.0.0.1', port: 8080, boundPort: 18080, protocol: 'tcp', listeners: ['default/web/http'] },
  ]);
  assert.equal(doc.reloads.count, 1);
  assert.equal(doc.reloads.last?.result, 'ok');
});

test('a listener the data plane cannot bind keeps the gateway unready and shows in its status', async () => {
  const { loop } = setup([8081]);
  await loop.reload(load({ 'class.yaml': CLASS, 'a.yaml': gateway(8080, 'a'), 'b.yaml': gateway(8081, 'b') }));
  const r = loop.readiness();
  assert.equal(r.ready, false);
  assert.match(r.reason!, /default\/b\/http: listen EADDRINUSE 127\.0\.0\.1:18081/);
  const b = programmed(gatewayStatus(loop, 'b'));
  assert.equal(b.status, 'False');
  assert.equal(b.reason, 'Pending');
  assert.match(b.message, /EADDRINUSE/);
  // The other Gateway is unaffected.
  assert.equal(programmed(gatewayStatus(loop, 'a')).status, 'True');
});

test('a load with problems is applied as given, and the problems are reported until fixed', async () => {
  const { loop, dp } = setup();
  await loop.reload(load({ 'class.yaml': CLASS, 'gw.yaml': gateway(8080) }));
  // The provider kept gw.yaml at its last good version: same snapshot, plus the problem.
  const broken = load({ 'class.yaml': CLASS, 'gw.yaml': gateway(8080) });
  broken.problems = [{ file: 'gw.yaml', doc: 0, path: 'spec.listeners[1].port', message: 'must be <= 65535' }];
  broken.kept = ['gw.yaml'];
  await loop.reload(broken);
  assert.equal(dp().applied.length, 1, 'the IR did not change, so the data plane was not asked again');
  const doc = loop.status();
  assert.equal(doc.version, 1);
  assert.equal(doc.reloads.last?.result, 'partial');
  assert.deepEqual(doc.reloads.last?.kept, ['gw.yaml']);
  assert.deepEqual(doc.problems, ['gw.yaml#0: spec.listeners[1].port: must be <= 65535']);
  assert.equal(doc.reloads.errors, 1);
  assert.equal(loop.readiness().ready, true);

  await loop.reload(load({ 'class.yaml': CLASS, 'gw.yaml': gateway(9090) }));
  assert.equal(dp().applied.length, 2);
  assert.equal(loop.config()!.gateways[0].listeners[0].port, 9090);
  assert.equal(loop.status().version, 2);
  assert.deepEqual(loop.status().problems, []);
  assert.equal(loop.status().reloads.last?.result, 'ok');
});

test('a failed reload is counted and the current configuration keeps serving', async () => {
  const { loop } = setup();
  await loop.reload(load({ 'class.yaml': CLASS, 'gw.yaml': gateway(8080) }));
  loop.reloadFailed(new Error('ENOENT: no such file or directory'));
  const doc = loop.status();
  assert.equal(doc.reloads.count, 2);
  assert.equal(doc.reloads.errors, 1);
  assert.equal(doc.reloads.last?.result, 'failed');
  assert.equal(doc.reloads.last?.version, 1);
  assert.equal(loop.readiness().ready, true);
});
