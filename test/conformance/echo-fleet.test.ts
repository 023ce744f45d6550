/** Which Deployments become echo processes (in which mode), and the EndpointSlices the fleet publishes for them. */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import type { Service } from '../../src/api/core.ts';
import type { KubeObject } from '../../src/api/object.ts';
import { buildDnsQuery, parseDnsReply } from '../support/dns-responder.ts';
import { grpcUnary } from '../support/grpc-client.ts';
import { decodeEchoResponse } from '../support/grpc-echo/messages.ts';
import { DEFAULT_SUITE } from './args.ts';
import { resolveEchoSpec } from './echo-deployments.ts';
import { EchoFleet } from './echo-fleet.ts';
import { SecretFactory } from './generated-secrets.ts';
import { readManifest } from './suite.ts';
import { udpRoundTrip } from './traffic/l4-clients.ts';

const base = readManifest(DEFAULT_SUITE, 'base/manifests.yaml').map((d) => d.object as unknown as KubeObject);
const find = (kind: string, ns: string, name: string): KubeObject =>
  base.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name)!;
const INFRA = 'gateway-conformance-infra';

describe('resolveEchoSpec', () => {
  const none = (): undefined => undefined;
  test('HTTP-mode echo pods: replicas and the default container ports', () => {
    assert.deepEqual(resolveEchoSpec(find('Deployment', INFRA, 'infra-backend-v1'), none), {
      mode: 'http',
      replicas: 2,
      ports: { http: 3000, h2c: 3001, https: 8443 },
    });
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'infra-backend-v3'), none)?.replicas, 1);
  });
  test('the mode and its ports come from the env; CoreDNS is the DNS stand-in; other images are no echo', () => {
    const grpc = resolveEchoSpec(find('Deployment', INFRA, 'grpc-infra-backend-v2'), none);
    assert.deepEqual(grpc, { mode: 'grpc', replicas: 2, ports: { http: 3000 } });
    // Without its Secret the TLS pod cannot start (Kubernetes would not start it either).
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'grpc-infra-backend-v1'), none), undefined);
    assert.equal(resolveEchoSpec(find('Deployment', INFRA, 'tcp-backend'), none), undefined);
    assert.deepEqual(resolveEchoSpec(find('Deployment', INFRA, 'coredns'), none), {
      mode: 'dns',
      replicas: 1,
      ports: { http: 53 },
    });
    const other = structuredClone(find('Deployment', INFRA, 'infra-backend-v2')) as KubeObject & {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    other.spec.template.spec.containers[0].image = 'nginx:1';
    assert.equal(resolveEchoSpec(other, none), undefined);
  });
  test('TCP and gRPC TLS ports need TLS_SERVER_PRIV_KEY, the HTTP echo TLS_SERVER_PRIVKEY', () => {
    const secret = (name: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: INFRA, name },
      data: { 'tls.crt': Buffer.from('C').toString('base64'), 'tls.key': Buffer.from('K').toString('base64') },
    });
    const lookup = (kind: string, _ns: string, name: string): KubeObject | undefined =>
      kind === 'Secret' ? secret(name) : undefined;
    assert.deepEqual(resolveEchoSpec(find('Deployment', INFRA, 'tcp-backend'), lookup), {
      mode: 'tcp',
      replicas: 2,
      ports: { http: 3000, https: 8443 },
      tls: { cert: 'C', key: 'K' },
    });
    assert.deepEqual(resolveEchoSpec(find('Deployment', INFRA, 'grpc-infra-backend-v1'), lookup)?.ports, {
      http: 3000,
      https: 8443,
    });
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

test(
  'TCP, UDP, DNS and gRPC Deployments run in their modes; slices carry the bound ports and the Service protocols',
  { timeout: 60_000 },
  async () => {
    const secrets = new SecretFactory(new Map());
    const fleet = new EchoFleet({ podNet: `127.${randomInt(2, 250)}.${randomInt(0, 250)}` });
    try {
      const [secret] = secrets.objectsFor([
        { kind: 'Secret', namespace: INFRA, name: 'tls-passthrough-checks-certificate', selfSigned: true, key: 'EC' },
      ]);
      const udpDocs = readManifest(DEFAULT_SUITE, 'cases/other/UDPRouteWeightedRouting/udproute-weighted-routing.yaml');
      const udpObjects = udpDocs.map((d) => d.object as unknown as KubeObject);
      const udpFind = (kind: string, name: string): KubeObject =>
        udpObjects.find((o) => o.kind === kind && o.metadata.name === name)!;
      const tcp = find('Deployment', INFRA, 'tcp-backend');
      const dns = find('Deployment', INFRA, 'coredns');
      const grpc = find('Deployment', INFRA, 'grpc-infra-backend-v2');
      const udp = udpFind('Deployment', 'udp-backend-v1');
      await fleet.sync([secret, tcp, dns, grpc, udp]);

      const [tcpSlice] = fleet.slicesFor(find('Service', INFRA, 'tcp-backend') as unknown as Service, [tcp]);
      const [plain, tls] = tcpSlice.ports;
      assert.equal(tcpSlice.endpoints.length, 2);
      assert.ok(plain.port !== 3000 && tls.port !== 8443 && plain.port !== tls.port);
      const address = tcpSlice.endpoints[1].addresses[0];
      const line = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: address, port: plain.port! }, () => s.write('TEST\n'));
        let data = '';
        s.on('data', (c: Buffer) => {
          data += c.toString();
          const lines = data.split('\n');
          if (lines.length > 2) {
            s.destroy();
            resolve(lines[1]);
          }
        });
        s.on('error', reject);
      });
      assert.match((JSON.parse(line) as { pod: string }).pod, /^tcp-backend-[^-]+-[^-]+$/);

      const [dnsSlice] = fleet.slicesFor(find('Service', INFRA, 'coredns') as unknown as Service, [dns]);
      assert.equal(dnsSlice.ports[0].protocol, 'UDP');
      const dnsReply = await udpRoundTrip(
        dnsSlice.endpoints[0].addresses[0],
        dnsSlice.ports[0].port!,
        buildDnsQuery('foo.bar.com', 7),
        2000,
      );
      assert.equal(parseDnsReply(dnsReply!)?.id, 7);

      const [udpSlice] = fleet.slicesFor(udpFind('Service', 'udp-backend-v1') as unknown as Service, [udp]);
      assert.equal(udpSlice.ports[0].protocol, 'UDP');
      assert.notEqual(udpSlice.ports[0].port, 8080);
      const echo = await udpRoundTrip(
        udpSlice.endpoints[0].addresses[0],
        udpSlice.ports[0].port!,
        Buffer.from('hi'),
        2000,
      );
      assert.deepEqual(
        { ...(JSON.parse(echo!.toString()) as Record<string, string>), pod: 'x' },
        { request: 'hi', namespace: INFRA, ingress: '', service: 'udp-backend-v1', pod: 'x' },
      );

      const [grpcSlice] = fleet.slicesFor(find('Service', INFRA, 'grpc-infra-backend-v2') as unknown as Service, [
        grpc,
      ]);
      const ep = grpcSlice.endpoints[0].addresses[0];
      const call = await grpcUnary(
        `http://${ep}:${grpcSlice.ports[0].port}`,
        '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo',
        Buffer.alloc(0),
      );
      assert.equal(call.code, 0);
      assert.match(decodeEchoResponse(call.messages[0]).assertions?.context?.pod ?? '', /^grpc-infra-backend-v2-/);
    } finally {
      await fleet.close();
      secrets.dispose();
    }
  },
);
