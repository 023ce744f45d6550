/**
 * BackendTLSPolicy: TLS attached to Service backends, CA validation, the
 * conflict rules, ancestor status per Gateway, and what routes see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateIR } from '../../src/ir/types.ts';
import { defaultOptions, TranslationContext } from '../../src/translate/context.ts';
import { translateRoutes } from '../../src/translate/route/index.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';
import {
  conditionsOf,
  fixtureGateways,
  gatewayYaml,
  httpEntries,
  listenerOf,
  NOW,
  routeParents,
  runRoutes,
  serviceYaml,
  type RouteRun,
} from './route-fixtures.ts';

// A self-signed EC test CA (sluice-test-ca); only its parsing matters here.
const CA = `-----BEGIN CERTIFICATE-----
MIIBiDCCAS+gAwIBAgIUSoNmbPv5c+iehtP1XPwPgLUym1YwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOc2x1aWNlLXRlc3QtY2EwIBcNMjYxMTI3MDIxNDM0WhgPMjEy
NjExMDMwMjE0MzRaMBkxFzAVBgNVBAMMDnNsdWljZS10ZXN0LWNhMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEn2OxlWaO+jcc1AlnwR9UBFFV0lAPnelNe6igGI5k
XzpDmuWycvKglHFj7ikIbz4Wzdj/zBp5y4xV7y/UTQJZJ6NTMFEwHQYDVR0OBBYE
FHoDdYmgi567PRGp24csco0gOKK+MB8GA1UdIwQYMBaAFHoDdYmgi567PRGp24cs
co0gOKK+MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgZB4DoehC
QgKUHRKhakkqDG3XgYHix1mINZzwZo+cPIwCIAktbAwJOExLsG4RYWSxb9l1ZSub
iPdlfCTYuBxe5VVJ
-----END CERTIFICATE-----`;

const base =
  gatewayYaml(`
  - {name: http, port: 80, protocol: HTTP}
`) +
  '---' +
  gatewayYaml(
    `
  - {name: http, port: 80, protocol: HTTP}
`,
    { name: 'gw2' },
  ) +
  `
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: infra}
spec:
  ports:
  - {name: https-1, port: 443, targetPort: 8443}
  - {name: https-2, port: 8443, targetPort: 8443}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ca, namespace: infra}
data:
  ca.crt: |
    -----BEGIN CERTIFICATE-----
    MIIBiDCCAS+gAwIBAgIUSoNmbPv5c+iehtP1XPwPgLUym1YwCgYIKoZIzj0EAwIw
    GTEXMBUGA1UEAwwOc2x1aWNlLXRlc3QtY2EwIBcNMjYxMTI3MDIxNDM0WhgPMjEy
    NjExMDMwMjE0MzRaMBkxFzAVBgNVBAMMDnNsdWljZS10ZXN0LWNhMFkwEwYHKoZI
    zj0CAQYIKoZIzj0DAQcDQgAEn2OxlWaO+jcc1AlnwR9UBFFV0lAPnelNe6igGI5k
    XzpDmuWycvKglHFj7ikIbz4Wzdj/zBp5y4xV7y/UTQJZJ6NTMFEwHQYDVR0OBBYE
    FHoDdYmgi567PRGp24csco0gOKK+MB8GA1UdIwQYMBaAFHoDdYmgi567PRGp24cs
    co0gOKK+MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgZB4DoehC
    QgKUHRKhakkqDG3XgYHix1mINZzwZo+cPIwCIAktbAwJOExLsG4RYWSxb9l1ZSub
    iPdlfCTYuBxe5VVJ
    -----END CERTIFICATE-----
---
apiVersion: v1
kind: ConfigMap
metadata: {name: empty-ca, namespace: infra}
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: garbage-ca, namespace: infra}
data: {ca.crt: "-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: ca-secret, namespace: infra}
data: {ca.crt: ${Buffer.from(CA).toString('base64')}}
` +
  '---' +
  serviceYaml('plain');

function policy(name: string, spec: string, meta = ''): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: ${name}, namespace: infra, generation: 2${meta}}
spec:
${spec}
`;
}

function route(name: string, gateway: string, port = 443, service = 'secure'): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: infra}
spec:
  parentRefs: [{name: ${gateway}}]
  rules:
  - backendRefs: [{name: ${service}, port: ${port}}]
`;
}

interface Ancestor {
  ancestorRef: Record<string, unknown>;
  controllerName: string;
  conditions: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }>;
}

function ancestors(run: { status: RouteRun['status'] }, name: string): Ancestor[] {
  const e = run.status.find((s) => s.kind === 'BackendTLSPolicy' && s.name === name);
  return (e?.status.ancestors as Ancestor[] | undefined) ?? [];
}

function summary(a: Ancestor | undefined): string[] {
  return (a?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

test('a valid policy: TLS on the backend, one ancestor per Gateway that uses the Service', () => {
  const r = runRoutes(
    base +
      policy(
        'p',
        `
  targetRefs: [{group: "", kind: Service, name: secure}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]
    hostname: abc.example.com
    subjectAltNames: [{type: Hostname, hostname: abc.example.com}, {type: URI, uri: "spiffe://x/y"}]
  options: {example.com/min-version: "1.3"}
`,
      ) +
      route('a', 'gw') +
      route('b', 'gw2') +
      route('c', 'gw2'),
  );
  const [entry] = httpEntries(r, 'infra/gw', 'http');
  assert.deepEqual(entry.backends[0].tls, {
    sni: 'abc.example.com',
    caPems: [CA],
    systemCAs: false,
    subjectAltNames: [
      { type: 'Hostname', value: 'abc.example.com' },
      { type: 'URI', value: 'spiffe://x/y' },
    ],
    options: { 'example.com/min-version': '1.3' },
  });
  const anc = ancestors(r, 'p');
  assert.deepEqual(
    anc.map((a) => a.ancestorRef),
    [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw2' },
    ],
  );
  assert.deepEqual(summary(anc[0]), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  assert.equal(anc[0].controllerName, 'sluice.dev/gateway-controller');
  assert.ok(anc[0].conditions.every((c) => c.observedGeneration === 2));
});

test('a policy no attached route uses has no status', () => {
  const r = runRoutes(
    base +
      policy(
        'p',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  validation: {wellKnownCACertificates: System, hostname: x}`,
      ),
  );
  assert.equal(
    r.status.find((s) => s.kind === 'BackendTLSPolicy'),
    undefined,
  );
});

test('CA from a Secret, and well-known System CAs', () => {
  const r = runRoutes(
    base +
      policy(
        'secret',
        `  targetRefs: [{group: "", kind: Service, name: secure, sectionName: https-1}]\n  validation: {caCertificateRefs: [{group: "", kind: Secret, name: ca-secret}], hostname: s.example.com}`,
      ) +
      policy(
        'system',
        `  targetRefs: [{group: "", kind: Service, name: secure, sectionName: https-2}]\n  validation: {wellKnownCACertificates: System, hostname: sys.example.com}`,
      ) +
      route('a', 'gw') +
      route('b', 'gw', 8443),
  );
  const tls = httpEntries(r, 'infra/gw', 'http').flatMap((e) => e.backends.map((b) => b.tls));
  assert.deepEqual(
    tls.map((t) => [t?.sni, t?.caPems.length, t?.systemCAs]),
    [
      ['s.example.com', 1, false],
      ['sys.example.com', 0, true],
    ],
  );
});

test('invalid CA references: NoValidCACertificate with InvalidCACertificateRef or InvalidKind; the backend fails', () => {
  const r = runRoutes(
    base +
      policy(
        'missing',
        `  targetRefs: [{group: "", kind: Service, name: secure, sectionName: https-1}]\n  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: nope}], hostname: x}`,
      ) +
      policy(
        'kind',
        `  targetRefs: [{group: "", kind: Service, name: secure, sectionName: https-2}]\n  validation: {caCertificateRefs: [{group: invalid.io, kind: InvalidKind, name: x}], hostname: x}`,
      ) +
      policy(
        'malformed',
        `  targetRefs: [{group: "", kind: Service, name: plain}]\n  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: empty-ca}, {group: "", kind: ConfigMap, name: garbage-ca}], hostname: x}`,
      ) +
      route('a', 'gw') +
      route('b', 'gw', 8443) +
      route('c', 'gw', 8080, 'plain'),
  );
  assert.deepEqual(summary(ancestors(r, 'missing')[0]), [
    'Accepted=False/NoValidCACertificate',
    'ResolvedRefs=False/InvalidCACertificateRef',
  ]);
  assert.deepEqual(summary(ancestors(r, 'kind')[0]), [
    'Accepted=False/NoValidCACertificate',
    'ResolvedRefs=False/InvalidKind',
  ]);
  assert.deepEqual(summary(ancestors(r, 'malformed')[0]), [
    'Accepted=False/NoValidCACertificate',
    'ResolvedRefs=False/InvalidCACertificateRef',
  ]);
  // Routes stay accepted; their backend is unusable, so the rule answers 500.
  for (const name of ['a', 'b', 'c']) {
    assert.deepEqual(conditionsOf(routeParents(r, 'HTTPRoute', 'infra', name)[0]), [
      'Accepted=True/Accepted',
      'ResolvedRefs=False/InvalidBackendTLS',
    ]);
  }
  assert.ok(httpEntries(r, 'infra/gw', 'http').every((e) => e.directResponse?.statusCode === 500));
});

test('one valid CA among invalid ones: Accepted, ResolvedRefs False, TLS with the valid CA', () => {
  const r = runRoutes(
    base +
      policy(
        'p',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: nope}, {group: "", kind: ConfigMap, name: ca}], hostname: x}`,
      ) +
      route('a', 'gw'),
  );
  assert.deepEqual(summary(ancestors(r, 'p')[0]), [
    'Accepted=True/Accepted',
    'ResolvedRefs=False/InvalidCACertificateRef',
  ]);
  assert.deepEqual(httpEntries(r, 'infra/gw', 'http')[0].backends[0].tls!.caPems, [CA]);
});

test('conflicts: the oldest (then first by name) wins per target; a port policy beats a whole-Service one', () => {
  const valid = (host: string) =>
    `validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: ${host}}`;
  const r = runRoutes(
    base +
      policy(
        'b-whole-old',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  ${valid('old.example.com')}`,
        ', creationTimestamp: "2024-01-01T00:00:00Z"',
      ) +
      policy(
        'a-whole-new',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  ${valid('new.example.com')}`,
        ', creationTimestamp: "2024-01-02T00:00:00Z"',
      ) +
      policy(
        'y-port',
        `  targetRefs: [{group: "", kind: Service, name: secure, sectionName: https-1}]\n  ${valid('port.example.com')}`,
      ) +
      policy(
        'z-port',
        `  targetRefs: [{group: "", kind: Service, name: secure, sectionName: https-1}]\n  ${valid('z.example.com')}`,
      ) +
      route('a', 'gw') +
      route('b', 'gw', 8443),
  );
  assert.deepEqual(summary(ancestors(r, 'b-whole-old')[0])[0], 'Accepted=True/Accepted');
  assert.deepEqual(summary(ancestors(r, 'a-whole-new')[0])[0], 'Accepted=False/Conflicted');
  assert.deepEqual(summary(ancestors(r, 'y-port')[0])[0], 'Accepted=True/Accepted');
  assert.deepEqual(summary(ancestors(r, 'z-port')[0])[0], 'Accepted=False/Conflicted');
  const sni = Object.fromEntries(httpEntries(r, 'infra/gw', 'http').map((e) => [e.route.name, e.backends[0].tls?.sni]));
  assert.deepEqual(sni, { a: 'port.example.com', b: 'old.example.com' });
});

test('status keeps other controllers, and an unchanged condition keeps its transition time', () => {
  const snapshot = snapshotFromYaml(
    base +
      policy(
        'p',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  validation: {wellKnownCACertificates: System, hostname: x}`,
      ) +
      route('a', 'gw'),
  );
  snapshot.backendTLSPolicies[0].status = {
    ancestors: [
      {
        ancestorRef: { name: 'gw', namespace: 'infra' },
        controllerName: 'sluice.dev/gateway-controller',
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: 'm',
            lastTransitionTime: '2020-01-01T00:00:00Z',
          },
        ],
      },
      { ancestorRef: { name: 'x' }, controllerName: 'example.com/other', conditions: [] },
    ],
  };
  const ctx = new TranslationContext(snapshot, defaultOptions({ now: NOW }));
  translateRoutes(ctx, fixtureGateways(ctx));
  const anc = ancestors({ status: ctx.status.entries() }, 'p') as unknown as Array<{
    controllerName: string;
    conditions: Array<{ type: string; lastTransitionTime: string }>;
  }>;
  assert.deepEqual(
    anc.map((a) => a.controllerName),
    ['example.com/other', 'sluice.dev/gateway-controller'],
  );
  assert.equal(anc[1].conditions.find((c) => c.type === 'Accepted')!.lastTransitionTime, '2020-01-01T00:00:00Z');
});

test('the Gateway backend client certificate goes with backend TLS of that Gateway only', () => {
  const snapshot = snapshotFromYaml(
    base +
      policy(
        'p',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  validation: {wellKnownCACertificates: System, hostname: x}`,
      ) +
      route('a', 'gw') +
      route('b', 'gw2') +
      route('plain', 'gw', 8080, 'plain'),
  );
  const ctx = new TranslationContext(snapshot, defaultOptions({ now: NOW }));
  const gateways = fixtureGateways(ctx);
  const cert: CertificateIR = { secret: 'infra/client', certPem: 'CERT', keyPem: 'KEY' };
  gateways.find((g) => g.gateway.metadata.name === 'gw')!.backendClientCertificate = cert;
  translateRoutes(ctx, gateways);
  const run: RouteRun = { ctx, gateways, status: ctx.status.entries() };
  const onGw = httpEntries(run, 'infra/gw', 'http');
  assert.deepEqual(onGw.find((e) => e.route.name === 'a')!.backends[0].tls!.clientCertificate, cert);
  assert.equal(onGw.find((e) => e.route.name === 'plain')!.backends[0].tls, undefined);
  assert.equal(httpEntries(run, 'infra/gw2', 'http')[0].backends[0].tls!.clientCertificate, undefined);
  assert.equal(listenerOf(run, 'infra/gw', 'http').attachedRoutes, 2);
});

test('TLS passthrough forwards the client TLS: no backend TLS origination on that listener', () => {
  const r = runRoutes(
    base +
      '---' +
      gatewayYaml(
        `
  - {name: pass, port: 443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: term, port: 8443, protocol: TLS, tls: {mode: Terminate, certificateRefs: [{name: cert}]}}
`,
        { name: 'tls' },
      ) +
      policy(
        'p',
        `  targetRefs: [{group: "", kind: Service, name: secure}]\n  validation: {wellKnownCACertificates: System, hostname: x}`,
      ) +
      `
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: t, namespace: infra}
spec:
  parentRefs: [{name: tls}]
  hostnames: [a.example.com]
  rules: [{backendRefs: [{name: secure, port: 443}]}]
`,
  );
  assert.equal(listenerOf(r, 'infra/tls', 'pass').ir!.tlsRoutes![0].backends[0].tls, undefined);
  assert.equal(listenerOf(r, 'infra/tls', 'term').ir!.tlsRoutes![0].backends[0].tls!.sni, 'x');
  assert.deepEqual(summary(ancestors(r, 'p')[0])[0], 'Accepted=True/Accepted');
});
