/** Which Deployments become echo processes, and the EndpointSlices the fleet publishes for them. */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import type { Service } from '../../src/api/core.ts';
import type { KubeObject } from '../../src/api/object.ts';
import { DEFAULT_SUITE } from './args.ts';
import { resolveEchoSpec } from './echo-deployments.ts';
import { EchoFleet } from './echo-fleet.ts';
import { readManifest } from './suite.ts';

const base = readManifest(DEFAULT_SUITE, 'base/manifests.yaml').map((d) => d.object as unknown as KubeObject);
const find = (kind: string, ns: string, name: string): KubeObject =>
  base.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name)!;
const INFRA = 'gateway-conformance-infra';

describe('resolveEchoSpec', () => {
  const none = (): undefined => undefined;
  test('HTTP-mode echo pods: replicas and the default container ports', () => {
    assert.deepEqual(resolveEchoSpec(find('Deployment', INFRA, 'infra-backend-v1'), none), {
      replicas: 2,
      ports: { http: 3000, h2c: 3001, https: 8443 },
    });
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'infra-backend-v3'), none)?.replicas, 1);
  });
  test('other modes (gRPC, TCP) and non-echo images are not HTTP echo processes', () => {
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'grpc-infra-backend-v1'), none), undefined);
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'tcp-backend'), none), undefined);
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'coredns'), none), undefined);
  });
  test('TLS material comes through the volume mounts; a missing Secret means no pod', () => {
    const tls = find('Deployment', INFRA, 'tls-backend');
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: INFRA, name: 'tls-checks-certificate' },
      data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') },
    } as unknown as KubeObject;
    const lookup = (kind: string, ns: string, name: string): KubeObject | undefined =>
      kind === 'Secret' && ns === INFRA && name === 'tls-checks-certificate' ? secret : undefined;
    assert.deepEqual(resolveEchoSpec(tls, lookup)?.tls, { cert: 'CERT', key: 'KEY' });
    assert.equal(resolveEchoSpec(tls, none), undefined);
  });
});

function get(host: string, port: number): Promise<{ pod: string }> {
  return new Promise((resolve, reject) => {
    request({ host, port, path: '/counted', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { pod: string }));
    })
      .on('error', reject)
      .end();
  });
}

test(
  'the fleet runs a Deployment and publishes it with container ports mapped to the bound ones',
  { timeout: 60_000 },
  async () => {
    const fleet = new EchoFleet({ podNet: `127.${randomInt(2, 250)}.${randomInt(0, 250)}` });
    try {
      const deployment = find('Deployment', INFRA, 'infra-backend-v1');
      await fleet.sync([deployment]);
      const service = find('Service', INFRA, 'infra-backend-v1') as unknown as Service;
      const [slice] = fleet.slicesFor(service, [deployment]);
      assert.equal(slice.endpoints.length, 2);
      const addresses = fleet.addressesOf(deployment);
      assert.deepEqual(
        slice.endpoints.map((e) => e.addresses[0]),
        addresses,
      );
      const [first, second, third] = slice.ports;
      assert.equal(first.port, fleet.mapPort(deployment, 3000));
      assert.equal(second.port, fleet.mapPort(deployment, 3001));
      assert.equal(second.appProtocol, 'kubernetes.io/h2c');
      assert.equal(third.port, first.port, 'the ws port targets 3000 too');
      assert.notEqual(first.port, 3000);
      const pods = await Promise.all(addresses.map((a) => get(a, first.port!)));
      assert.ok(pods.every((p) => p.pod.startsWith('infra-backend-v1-')));
      assert.equal(await fleet.count(INFRA, 'infra-backend-v1', '/counted'), 2);

      // A Deployment no longer wanted stops; its Service then has a slice without endpoints.
      await fleet.sync([]);
      assert.deepEqual(fleet.slicesFor(service, [deployment])[0].endpoints, []);
    } finally {
      await fleet.close();
    }
  },
);
