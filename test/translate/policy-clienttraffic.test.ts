/**
 * ClientTrafficPolicy beyond the golden file: how `spec.tls` maps onto the
 * IR (settings, client validation modes, replacing the Gateway's frontend
 * validation), PROXY protocol fields, what fails closed and what does not,
 * and targets Sluice does not report on or does not support.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListenerIR } from '../../src/ir/types.ts';
import { tlsSettings } from '../../src/translate/clienttrafficpolicy/tls.ts';
import {
  CLASS,
  caConfigMap,
  docs,
  gatewayYaml,
  pem,
  run,
  tlsSecret,
  type Result,
} from './fixtures/gateway-fixtures.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function ctp(name: string, spec: Record<string, unknown>, namespace = 'infra'): string {
  return JSON.stringify({
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'ClientTrafficPolicy',
    metadata: { name, namespace, generation: 1 },
    spec,
  });
}

const target = (name: string, sectionName?: string): Record<string, unknown> => ({
  targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name, ...(sectionName ? { sectionName } : {}) }],
});

const HTTPS = {
  name: 'https',
  protocol: 'HTTPS',
  port: 443,
  tls: { certificateRefs: [{ name: 'cert' }] },
};

function listener(r: Result, gateway: string, name: string): ListenerIR {
  const l = r.irGateway('infra', gateway)?.listeners.find((x) => x.sectionName === name);
  assert.ok(l, `no listener ${name}`);
  return l;
}

interface Ancestor {
  ancestorRef: { name: string; kind: string; sectionName?: string };
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}

function ancestors(r: Result, name: string): Ancestor[] | undefined {
  return (r.status('ClientTrafficPolicy', 'infra', name) as { ancestors?: Ancestor[] } | undefined)?.ancestors;
}

function accepted(r: Result, name: string): string[] {
  return (ancestors(r, name) ?? []).map((a) => {
    const c = a.conditions.find((x) => x.type === 'Accepted');
    return `${a.ancestorRef.kind} ${a.ancestorRef.name}${a.ancestorRef.sectionName ? `/${a.ancestorRef.sectionName}` : ''}: ${c?.status} ${c?.reason}`;
  });
}

test('tls settings: only what is set; empty resumption turns it off; an empty ALPN list is kept', () => {
  assert.equal(tlsSettings(undefined), undefined);
  assert.equal(tlsSettings({ clientValidation: {} }), undefined);
  assert.deepEqual(tlsSettings({ session: { resumption: {} }, alpnProtocols: [] }), {
    alpnProtocols: [],
    session: { resumption: 'None' },
  });
  assert.deepEqual(tlsSettings({ session: { resumption: { stateless: {}, stateful: {} } } }), {
    session: { resumption: 'Stateful' },
  });
  assert.deepEqual(tlsSettings({ minVersion: '1.3', maxVersion: 'Auto', ecdhCurves: ['X25519'] }), {
    minVersion: '1.3',
    maxVersion: 'Auto',
    ecdhCurves: ['X25519'],
  });
});

const caSecret = (): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'client-ca', namespace: 'certs' },
    data: { 'ca.crt': b64(pem('ca.crt')) },
  });

test('client validation: Secret CAs by default, across namespaces with a ReferenceGrant, in every mode', () => {
  const grant = `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: ctp, namespace: certs}
spec:
  from: [{group: gateway.envoyproxy.io, kind: ClientTrafficPolicy, namespace: infra}]
  to: [{group: "", kind: Secret}]`;
  const validation = (extra: Record<string, unknown>) => ({
    tls: { clientValidation: { caCertificateRefs: [{ name: 'client-ca', namespace: 'certs' }], ...extra } },
  });
  const gateways = ['strict', 'optional', 'any'].map((g) => gatewayYaml(g, { listeners: [HTTPS] }));
  const r = run(
    docs(
      CLASS,
      tlsSecret('infra', 'cert'),
      caSecret(),
      grant,
      ...gateways,
      ctp('strict', { ...target('strict'), ...validation({}) }),
      ctp('optional', { ...target('optional'), ...validation({ optional: true }) }),
      ctp('any', { ...target('any'), ...validation({ mode: 'RequireAny', optional: true }) }),
    ),
  );
  const v = (g: string) => {
    const c = listener(r, g, 'https').tls?.clientValidation;
    return c && { mode: c.mode, verification: c.verification, cas: c.caPems.length };
  };
  assert.deepEqual(v('strict'), { mode: 'AllowValidOnly', verification: 'RequireAndVerify', cas: 1 });
  assert.deepEqual(accepted(r, 'strict'), ['Gateway strict: True Accepted']);
  // The data plane enforces the relaxed modes as asked (proxy/tls/client-validation.ts).
  assert.deepEqual(v('optional'), { mode: 'AllowInsecureFallback', verification: 'VerifyIfGiven', cas: 1 });
  assert.deepEqual(v('any'), { mode: 'AllowInsecureFallback', verification: 'Request', cas: 1 });
  for (const p of ['optional', 'any']) assert.deepEqual(accepted(r, p), [`Gateway ${p}: True Accepted`]);
});

test('client validation matchers are carried to the IR; a CRL or a matcher that can never be checked fails closed', () => {
  const grant = `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: ctp, namespace: certs}
spec:
  from: [{group: gateway.envoyproxy.io, kind: ClientTrafficPolicy, namespace: infra}]
  to: [{group: "", kind: Secret}]`;
  const validation = (extra: Record<string, unknown>) => ({
    tls: { clientValidation: { caCertificateRefs: [{ name: 'client-ca', namespace: 'certs' }], ...extra } },
  });
  const pin = Buffer.alloc(32, 7).toString('base64');
  const hash = 'AB:'.repeat(31) + 'AB';
  const gateways = ['match', 'crl', 'oid', 'regex'].map((g) => gatewayYaml(g, { listeners: [HTTPS] }));
  const r = run(
    docs(
      CLASS,
      tlsSecret('infra', 'cert'),
      caSecret(),
      grant,
      ...gateways,
      ctp('match', {
        ...target('match'),
        ...validation({
          subjectAltNames: {
            uris: [{ type: 'Prefix', value: 'spiffe://td/' }],
            otherNames: [{ oid: '1.3.6.1.4.1.311.20.2.3', value: 'u@corp' }],
          },
          spkiHashes: [pin],
          certificateHashes: [hash],
          allowExpiredCertificate: true,
        }),
      }),
      ctp('crl', { ...target('crl'), ...validation({ crl: { refs: [{ name: 'client-ca', namespace: 'certs' }] } }) }),
      ctp('oid', {
        ...target('oid'),
        ...validation({ subjectAltNames: { otherNames: [{ oid: '1.2.3.4', value: 'x' }] } }),
      }),
      ctp('regex', {
        ...target('regex'),
        ...validation({ subjectAltNames: { dnsNames: [{ type: 'RegularExpression', value: '(' }] } }),
      }),
    ),
  );
  assert.deepEqual(accepted(r, 'match'), ['Gateway match: True Accepted']);
  const c = listener(r, 'match', 'https').tls?.clientValidation;
  assert.deepEqual(c?.subjectAltNames, [
    { type: 'URI', match: 'Prefix', value: 'spiffe://td/' },
    { type: 'OtherName', oid: '1.3.6.1.4.1.311.20.2.3', match: 'Exact', value: 'u@corp' },
  ]);
  assert.deepEqual([c?.spkiHashes, c?.certificateHashes, c?.allowExpiredCertificate], [[pin], [hash], true]);
  for (const p of ['crl', 'oid', 'regex']) {
    assert.deepEqual(accepted(r, p), [`Gateway ${p}: False Invalid`]);
    assert.equal(listener(r, p, 'https').tls?.clientValidation, undefined);
  }
});

test("the policy's client validation replaces the Gateway's frontend validation on the listeners it wins", () => {
  const gw = gatewayYaml('web', {
    tls: {
      frontend: {
        default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'gateway-ca' }] } },
      },
    },
    listeners: [HTTPS, { ...HTTPS, name: 'https-alt', port: 8443 }],
  });
  const r = run(
    docs(
      CLASS,
      tlsSecret('infra', 'cert'),
      caConfigMap('infra', 'gateway-ca'),
      // Any parseable certificate will do as the policy's CA: only which one lands where matters.
      caConfigMap('infra', 'policy-ca', pem('server.crt')),
      gw,
      ctp('alt', {
        ...target('web', 'https-alt'),
        tls: { clientValidation: { caCertificateRefs: [{ kind: 'ConfigMap', name: 'policy-ca' }] } },
      }),
    ),
  );
  const ca = (name: string) => listener(r, 'web', name).tls?.clientValidation?.caPems.join('');
  assert.equal(ca('https')?.trim(), pem('ca.crt').trim());
  assert.equal(ca('https-alt')?.trim(), pem('server.crt').trim());
});

test('unusable CA references fail TLS-terminating listeners closed; plain listeners are unaffected', () => {
  const gw = gatewayYaml('web', {
    listeners: [
      { name: 'tls', protocol: 'TLS', port: 8443, tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] } },
      { name: 'tcp', protocol: 'TCP', port: 9000 },
    ],
  });
  const svc = `
apiVersion: v1
kind: Service
metadata: {name: db, namespace: infra}
spec: {ports: [{port: 5432}]}`;
  const route = `
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: infra}
spec:
  parentRefs: [{name: web, sectionName: tls}, {name: web, sectionName: tcp}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]`;
  const r = run(
    docs(
      CLASS,
      tlsSecret('infra', 'cert'),
      gw,
      svc,
      route,
      ctp('bad', {
        ...target('web'),
        enableProxyProtocol: true,
        tls: { clientValidation: { caCertificateRefs: [{ kind: 'ConfigMap', name: 'nope' }] } },
      }),
    ),
  );
  assert.deepEqual(listener(r, 'web', 'tls').tcpRoutes, []);
  assert.equal(listener(r, 'web', 'tcp').tcpRoutes?.length, 1);
  // What does not depend on TLS still applies to the plain listener.
  assert.equal(listener(r, 'web', 'tcp').enableProxyProtocol, true);
  const [a] = ancestors(r, 'bad') ?? [];
  assert.equal(a.conditions[0].reason, 'Invalid');
  assert.match(
    a.conditions[0].message,
    /^TLS: spec\.tls\.clientValidation\.caCertificateRefs\[0\]: ConfigMap infra\/nope not found$/,
  );
});

test('proxyProtocol takes precedence over enableProxyProtocol; UDP listeners never get it', () => {
  const gw = gatewayYaml('web', {
    listeners: [
      { name: 'tcp', protocol: 'TCP', port: 9000 },
      { name: 'udp', protocol: 'UDP', port: 5353 },
    ],
  });
  const r = run(docs(CLASS, gw, ctp('pp', { ...target('web'), enableProxyProtocol: false, proxyProtocol: {} })));
  assert.equal(listener(r, 'web', 'tcp').enableProxyProtocol, true);
  assert.equal(listener(r, 'web', 'tcp').proxyProtocolOptional, undefined);
  assert.equal(listener(r, 'web', 'udp').enableProxyProtocol, undefined);
});

test('a Gateway of another controller gets no status; ListenerSet targets are refused or not found', () => {
  const foreign = JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'foreign', namespace: 'infra', generation: 1 },
    spec: { gatewayClassName: 'someone-else', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
  });
  const gw = gatewayYaml('web', {
    allowedListeners: { namespaces: { from: 'Same' } },
    listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
  });
  const ls = `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: extra, namespace: infra}
spec:
  parentRef: {name: web}
  listeners: [{name: more, protocol: HTTP, port: 8080}]`;
  const lsTarget = (name: string) => ({
    targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name }],
  });
  const r = run(
    docs(
      CLASS,
      foreign,
      gw,
      ls,
      ctp('foreign', target('foreign')),
      ctp('ls', lsTarget('extra')),
      ctp('ls-missing', lsTarget('nope')),
      ctp('gateway', { ...target('web'), enableProxyProtocol: true }),
    ),
  );
  assert.equal(r.status('ClientTrafficPolicy', 'infra', 'foreign'), undefined);
  assert.deepEqual(accepted(r, 'ls'), ['ListenerSet extra: False Invalid']);
  assert.deepEqual(accepted(r, 'ls-missing'), ['ListenerSet nope: False TargetNotFound']);
  // A Gateway-level policy reaches the listeners a ListenerSet adds, too.
  assert.equal(listener(r, 'web', 'more').enableProxyProtocol, true);
});
