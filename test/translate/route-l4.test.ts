/**
 * TLSRoute, TCPRoute and UDPRoute: listener kinds, hostnames for TLS,
 * weighted backends across rules, route order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionsOf, gatewayYaml, listenerOf, routeParents, runRoutes, serviceYaml } from './route-fixtures.ts';

const base =
  gatewayYaml(`
  - {name: pass, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
  - {name: term, port: 8443, protocol: TLS, hostname: term.example.com, tls: {mode: Terminate, certificateRefs: [{name: cert}]}}
  - {name: tcp, port: 9000, protocol: TCP}
  - {name: udp, port: 5300, protocol: UDP}
`) +
  '---' +
  serviceYaml('tcp-a', 'infra', ['10.0.0.1']) +
  '---' +
  serviceYaml('tcp-b', 'infra', ['10.0.0.2']) +
  '---' +
  serviceYaml('udp-a', 'infra', ['10.0.1.1'], { protocol: 'UDP', port: 53, targetPort: 53, name: 'dns' });

function l4(kind: string, name: string, parentRefs: string, body: string, meta = ''): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: ${kind}
metadata: {name: ${name}, namespace: infra${meta}}
spec:
  parentRefs: ${parentRefs}
${body}
`;
}

test('TLSRoute: hostnames intersected with the listener; attaches to Passthrough and Terminate listeners', () => {
  const r = runRoutes(
    base +
      l4(
        'TLSRoute',
        't',
        '[{name: gw}]',
        `
  hostnames: [a.example.com, term.example.com, other.test]
  rules: [{backendRefs: [{name: tcp-a, port: 8080}]}]
`,
      ) +
      l4(
        'TLSRoute',
        'nomatch',
        '[{name: gw, sectionName: pass}]',
        `
  hostnames: [other.test]
  rules: [{backendRefs: [{name: tcp-a, port: 8080}]}]
`,
      ),
  );
  assert.deepEqual(conditionsOf(routeParents(r, 'TLSRoute', 'infra', 't')[0]), [
    'Accepted=True/Accepted',
    'ResolvedRefs=True/ResolvedRefs',
  ]);
  assert.deepEqual(listenerOf(r, 'infra/gw', 'pass').ir!.tlsRoutes, [
    {
      name: 'tlsroute/infra/t',
      route: { kind: 'TLSRoute', namespace: 'infra', name: 't' },
      hostnames: ['a.example.com', 'term.example.com'],
      backends: [
        {
          name: 'Service/infra/tcp-a:8080',
          ref: { kind: 'Service', namespace: 'infra', name: 'tcp-a', port: 8080 },
          protocol: 'tcp',
          endpoints: [{ address: '10.0.0.1', port: 3000, kind: 'ip' }],
          weight: 1,
          filters: [],
        },
      ],
    },
  ]);
  assert.deepEqual(
    listenerOf(r, 'infra/gw', 'term').ir!.tlsRoutes!.map((t) => t.hostnames),
    [['term.example.com']],
  );
  assert.equal(listenerOf(r, 'infra/gw', 'tcp').attachedRoutes, 0);
  assert.deepEqual(
    conditionsOf(routeParents(r, 'TLSRoute', 'infra', 'nomatch')[0])[0],
    'Accepted=False/NoMatchingListenerHostname',
  );
});

test('TCPRoute: every route attaches and counts; the oldest comes first; invalid refs keep their weight', () => {
  const r = runRoutes(
    base +
      l4(
        'TCPRoute',
        'newer',
        '[{name: gw, sectionName: tcp}]',
        `  rules: [{backendRefs: [{name: tcp-b, port: 8080}]}]`,
        ', creationTimestamp: "2024-01-02T00:00:00Z"',
      ) +
      l4(
        'TCPRoute',
        'older',
        '[{name: gw, port: 9000}]',
        `
  rules:
  - backendRefs: [{name: tcp-a, port: 8080, weight: 2}, {name: gone, port: 8080}]
  - backendRefs: [{name: tcp-b, port: 8080, weight: 0}]
`,
        ', creationTimestamp: "2024-01-01T00:00:00Z"',
      ),
  );
  const tcp = listenerOf(r, 'infra/gw', 'tcp');
  assert.equal(tcp.attachedRoutes, 2);
  assert.deepEqual(
    tcp.ir!.tcpRoutes!.map((t) => [t.name, t.backends.map((b) => [b.name, b.weight, b.invalid ?? false])]),
    [
      [
        'tcproute/infra/older',
        [
          ['Service/infra/tcp-a:8080', 2, false],
          ['Service/infra/gone:8080', 1, true],
        ],
      ],
      ['tcproute/infra/newer', [['Service/infra/tcp-b:8080', 1, false]]],
    ],
  );
  assert.deepEqual(conditionsOf(routeParents(r, 'TCPRoute', 'infra', 'older')[0]), [
    'Accepted=True/Accepted',
    'ResolvedRefs=False/BackendNotFound',
  ]);
  // A TCPRoute may also use a TLS listener that terminates.
  const term = runRoutes(
    base +
      l4('TCPRoute', 't', '[{name: gw, sectionName: term}]', `  rules: [{backendRefs: [{name: tcp-a, port: 8080}]}]`),
  );
  assert.equal(listenerOf(term, 'infra/gw', 'term').ir!.tcpRoutes!.length, 1);
  const pass = runRoutes(
    base +
      l4('TCPRoute', 't', '[{name: gw, sectionName: pass}]', `  rules: [{backendRefs: [{name: tcp-a, port: 8080}]}]`),
  );
  assert.deepEqual(
    conditionsOf(routeParents(pass, 'TCPRoute', 'infra', 't')[0])[0],
    'Accepted=False/NotAllowedByListeners',
  );
});

test('UDPRoute: udp backends on the UDP listener; a TCP Service port is the wrong protocol', () => {
  const r = runRoutes(
    base +
      l4('UDPRoute', 'u', '[{name: gw}]', `  rules: [{backendRefs: [{name: udp-a, port: 53}]}]`) +
      l4('UDPRoute', 'bad', '[{name: gw}]', `  rules: [{backendRefs: [{name: tcp-a, port: 8080}]}]`),
  );
  const udp = listenerOf(r, 'infra/gw', 'udp');
  assert.equal(udp.attachedRoutes, 2);
  assert.deepEqual(
    udp.ir!.udpRoutes!.map((u) => [
      u.name,
      u.backends.map((b) => [b.protocol, b.endpoints.map((e) => e.port), b.invalid ?? false]),
    ]),
    [
      ['udproute/infra/bad', [['udp', [], true]]],
      ['udproute/infra/u', [['udp', [53], false]]],
    ],
  );
  assert.deepEqual(
    conditionsOf(routeParents(r, 'UDPRoute', 'infra', 'bad')[0])[1],
    'ResolvedRefs=False/UnsupportedProtocol',
  );
});
