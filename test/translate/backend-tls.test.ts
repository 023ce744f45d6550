/**
 * Envoy Gateway Backend `spec.tls` beyond the golden file: L4 routes,
 * passthrough (no TLS origination), values Sluice refuses, and which
 * Backends get a status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASS, docs, gatewayYaml, run } from './fixtures/gateway-fixtures.ts';

function backend(name: string, tls?: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'Backend',
    metadata: { name, namespace: 'infra', generation: 2 },
    spec: { endpoints: [{ ip: { address: '192.0.2.1', port: 443 } }], ...(tls ? { tls } : {}), ...extra },
  });
}

const ref = (name: string) => ({ group: 'gateway.envoyproxy.io', kind: 'Backend', name });

function l4Route(kind: 'TCPRoute' | 'TLSRoute', name: string, sectionName: string, backendName: string): string {
  return JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind,
    metadata: { name, namespace: 'infra', generation: 1 },
    spec: { parentRefs: [{ name: 'l4', sectionName }], rules: [{ backendRefs: [ref(backendName)] }] },
  });
}

test('TCPRoutes originate TLS towards a TLS Backend; a passthrough TLSRoute forwards the client TLS untouched', () => {
  const gw = gatewayYaml('l4', {
    listeners: [
      { name: 'tcp', protocol: 'TCP', port: 9000 },
      { name: 'tls', protocol: 'TLS', port: 8443, tls: { mode: 'Passthrough' } },
    ],
  });
  const r = run(
    docs(
      CLASS,
      gw,
      backend('secure', { wellKnownCACertificates: 'System', sni: 'db.example.com' }),
      l4Route('TCPRoute', 'db', 'tcp', 'secure'),
      l4Route('TLSRoute', 'pass', 'tls', 'secure'),
    ),
  );
  const listeners = r.irGateway('infra', 'l4')!.listeners;
  const tcp = listeners.find((l) => l.sectionName === 'tcp')!.tcpRoutes![0].backends[0];
  assert.deepEqual(tcp.tls, { sni: 'db.example.com', caPems: [], systemCAs: true, subjectAltNames: [] });
  const pass = listeners.find((l) => l.sectionName === 'tls')!.tlsRoutes![0].backends[0];
  assert.equal(pass.tls, undefined);
});

test('values Sluice cannot serve make the Backend not Accepted; unused Backends get no status', () => {
  const gw = gatewayYaml('web', { listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] });
  const route = JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'app', namespace: 'infra', generation: 1 },
    spec: {
      parentRefs: [{ name: 'web' }],
      rules: [{ backendRefs: [ref('plain'), ref('custom-ca-set'), ref('auto-sni')] }],
    },
  });
  const r = run(
    docs(
      CLASS,
      gw,
      route,
      backend('plain'),
      backend('custom-ca-set', { wellKnownCACertificates: 'example.com/corporate' }),
      backend(
        'auto-sni',
        { wellKnownCACertificates: 'System', autoSNIFromEndpointHostname: true },
        { endpoints: [{ ip: { address: '192.0.2.1', port: 443 }, hostname: 'db.example.com' }] },
      ),
      backend('unused', { sni: 'nothing' }),
    ),
  );
  const accepted = (name: string) => {
    const s = r.status('Backend', 'infra', name) as unknown as
      | { conditions: Array<{ status: string; reason: string; message: string; observedGeneration: number }> }
      | undefined;
    return s && { ...s.conditions[0], lastTransitionTime: undefined };
  };
  assert.deepEqual(accepted('plain'), {
    type: 'Accepted',
    status: 'True',
    reason: 'Accepted',
    message: 'The Backend was accepted',
    observedGeneration: 2,
    lastTransitionTime: undefined,
  });
  assert.match(accepted('custom-ca-set')!.message, /wellKnownCACertificates: unsupported value example.com\/corporate/);
  assert.match(accepted('auto-sni')!.message, /autoSNIFromEndpointHostname is not supported/);
  assert.equal(accepted('unused'), undefined);
  const backends = r.irGateway('infra', 'web')!.listeners[0].virtualHosts![0].routes[0].backends;
  assert.deepEqual(
    backends.map((b) => [b.ref.name, b.invalid === true, b.tls === undefined]),
    [
      ['plain', false, true],
      ['custom-ca-set', true, true],
      ['auto-sni', true, true],
    ],
  );
});
