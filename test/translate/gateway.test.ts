import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotFromYaml } from '../support/snapshot.ts';
import { defaultOptions, TranslationContext } from '../../src/translate/context.ts';
import { translateGatewayClasses } from '../../src/translate/gatewayclass.ts';
import { translateGateways } from '../../src/translate/gateway.ts';
import {
  CLASS,
  caConfigMap,
  docs,
  expectCondition,
  gatewayYaml,
  pem,
  run,
  tlsSecret,
} from './fixtures/gateway-fixtures.ts';

const HTTP = { name: 'http', protocol: 'HTTP', port: 80 };
const httpsListener = (name: string, port: number, hostname?: string) => ({
  name,
  protocol: 'HTTPS',
  port,
  ...(hostname ? { hostname } : {}),
  tls: { certificateRefs: [{ group: '', kind: 'Secret', name: 'cert' }] },
});

function contexts(yaml: string) {
  const ctx = new TranslationContext(snapshotFromYaml(yaml), defaultOptions({ now: '2026-01-01T00:00:00Z' }));
  return translateGateways(ctx, translateGatewayClasses(ctx));
}

describe('Gateway conditions and IR', () => {
  test('a valid Gateway is Accepted, Programmed, ResolvedRefs, with its generation and IR', () => {
    const yaml = docs(
      CLASS,
      JSON.stringify({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'gw', namespace: 'infra', generation: 7 },
        spec: { gatewayClassName: 'sluice', listeners: [HTTP] },
      }),
    );
    const r = run(yaml);
    const g = r.gateway('infra', 'gw');
    expectCondition(g.conditions, 'Accepted', 'True', 'Accepted', 7);
    expectCondition(g.conditions, 'Programmed', 'True', 'Programmed', 7);
    expectCondition(g.conditions, 'ResolvedRefs', 'True', 'ResolvedRefs', 7);
    expectCondition(r.listener('infra', 'gw', 'http').conditions, 'Programmed', 'True', 'Programmed', 7);
    assert.deepEqual(g.addresses, [{ type: 'IPAddress', value: '0.0.0.0' }]);
    assert.equal(g.attachedListenerSets, 0);
    assert.deepEqual(r.result.ir.gateways, [
      {
        namespace: 'infra',
        name: 'gw',
        addresses: ['0.0.0.0'],
        listeners: [{ name: 'infra/gw/http', sectionName: 'http', port: 80, protocol: 'HTTP', virtualHosts: [] }],
      },
    ]);
    const [ctxGw] = contexts(yaml);
    assert.equal(ctxGw.accepted, true);
    assert.equal(ctxGw.gatewayClass.metadata.name, 'sluice');
    assert.deepEqual(ctxGw.ir, r.result.ir.gateways[0]);
  });

  test('infrastructure.parametersRef must name an existing EnvoyProxy in the namespace (InvalidParameters)', () => {
    const proxy = `{apiVersion: gateway.envoyproxy.io/v1alpha1, kind: EnvoyProxy, metadata: {name: proxy, namespace: infra}, spec: {}}`;
    const r = run(
      docs(
        CLASS,
        proxy,
        gatewayYaml('bad', {
          listeners: [HTTP],
          infrastructure: { parametersRef: { group: 'invalid.io', kind: 'InvalidParameters', name: 'invalid' } },
        }),
        gatewayYaml('missing', {
          listeners: [HTTP],
          infrastructure: { parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'nope' } },
        }),
        gatewayYaml('good', {
          listeners: [HTTP],
          infrastructure: {
            labels: { key2: 'value2' },
            parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'proxy' },
          },
        }),
      ),
    );
    for (const name of ['bad', 'missing']) {
      const g = r.gateway('infra', name);
      expectCondition(g.conditions, 'Accepted', 'False', 'InvalidParameters');
      expectCondition(g.conditions, 'Programmed', 'False', 'Invalid');
      assert.equal(g.addresses, undefined);
      expectCondition(r.listener('infra', name, 'http').conditions, 'Programmed', 'False', 'Invalid');
      assert.equal(r.irGateway('infra', name), undefined);
    }
    expectCondition(r.gateway('infra', 'good').conditions, 'Accepted', 'True', 'Accepted');
    assert.ok(r.irGateway('infra', 'good'));
  });

  test('a not accepted Gateway is handed to route translation with no route-accepting listener', () => {
    const [g] = contexts(docs(CLASS, gatewayYaml('gw', { listeners: [{ name: 'x', protocol: 'SCTP', port: 1 }] })));
    assert.equal(g.accepted, false);
    assert.equal(g.ir, undefined);
    assert.deepEqual(
      g.listeners.map((l) => l.acceptsRoutes),
      [false],
    );
  });
});

describe('spec.tls.backend.clientCertificateRef', () => {
  const backend = (name: string, ref: Record<string, string>) =>
    gatewayYaml(name, { listeners: [HTTP], tls: { backend: { clientCertificateRef: ref } } });
  const yaml = docs(
    CLASS,
    tlsSecret('infra', 'client', { cert: pem('client.crt'), key: pem('client.key') }),
    tlsSecret('web', 'certificate'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'empty', namespace: 'infra' },
      type: 'Opaque',
      data: {},
    }),
    backend('ok', { group: '', kind: 'Secret', name: 'client' }),
    backend('nonexistent', { group: '', kind: 'Secret', name: 'nonexistent-certificate' }),
    backend('wrong-group', { group: 'wrong.group.company.io', kind: 'Secret', name: 'client' }),
    backend('wrong-kind', { group: '', kind: 'WrongKind', name: 'client' }),
    backend('malformed', { group: '', kind: 'Secret', name: 'empty' }),
    backend('no-grant', { group: '', kind: 'Secret', name: 'certificate', namespace: 'web' }),
  );

  test('a valid client certificate resolves and is handed to route translation', () => {
    expectCondition(run(yaml).gateway('infra', 'ok').conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
    const g = contexts(yaml).find((c) => c.gateway.metadata.name === 'ok')!;
    assert.deepEqual(g.backendClientCertificate, {
      secret: 'infra/client',
      certPem: pem('client.crt'),
      keyPem: pem('client.key'),
    });
  });

  test('invalid refs set the Gateway ResolvedRefs False but keep it Accepted', () => {
    const r = run(yaml);
    for (const name of ['nonexistent', 'wrong-group', 'wrong-kind', 'malformed']) {
      const g = r.gateway('infra', name);
      expectCondition(g.conditions, 'ResolvedRefs', 'False', 'InvalidClientCertificateRef');
      expectCondition(g.conditions, 'Accepted', 'True', 'Accepted');
      expectCondition(g.conditions, 'Programmed', 'True', 'Programmed');
    }
    expectCondition(r.gateway('infra', 'no-grant').conditions, 'ResolvedRefs', 'False', 'RefNotPermitted');
    assert.equal(
      contexts(yaml).find((c) => c.gateway.metadata.name === 'nonexistent')!.backendClientCertificate,
      undefined,
    );
  });
});

describe('spec.tls.frontend client certificate validation', () => {
  const caRef = (name: string, extra: Record<string, string> = {}) => ({
    group: '',
    kind: 'ConfigMap',
    name,
    ...extra,
  });

  test('default applies to HTTPS listeners, perPort overrides it; HTTP listeners are untouched', () => {
    const r = run(
      docs(
        CLASS,
        tlsSecret('infra', 'cert'),
        caConfigMap('infra', 'default-ca'),
        caConfigMap('infra', 'port-ca', pem('client.crt')),
        gatewayYaml('gw', {
          listeners: [HTTP, httpsListener('https', 443), httpsListener('https-8443', 8443, 'second-example.org')],
          tls: {
            frontend: {
              default: { validation: { caCertificateRefs: [caRef('default-ca')] } },
              perPort: [{ port: 8443, tls: { validation: { caCertificateRefs: [caRef('port-ca')] } } }],
            },
          },
        }),
      ),
    );
    for (const name of ['http', 'https', 'https-8443']) {
      const l = r.listener('infra', 'gw', name);
      expectCondition(l.conditions, 'Accepted', 'True', 'Accepted');
      expectCondition(l.conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
      expectCondition(l.conditions, 'Programmed', 'True', 'Programmed');
    }
    const [http, https, https8443] = r.irGateway('infra', 'gw')!.listeners;
    assert.equal(http.tls, undefined);
    assert.deepEqual(https.tls!.clientValidation, { caPems: [pem('ca.crt')], mode: 'AllowValidOnly' });
    assert.deepEqual(https8443.tls!.clientValidation, { caPems: [pem('client.crt')], mode: 'AllowValidOnly' });
    assert.equal(
      r.gateway('infra', 'gw').conditions.find((c) => c.type === 'InsecureFrontendValidationMode'),
      undefined,
    );
  });

  test('broken CA refs affect only the listeners they apply to', () => {
    const r = run(
      docs(
        CLASS,
        tlsSecret('infra', 'cert'),
        caConfigMap('infra', 'good-ca'),
        caConfigMap('web', 'web-backend-cm'),
        gatewayYaml('gw', {
          listeners: [
            httpsListener('https', 443),
            httpsListener('https-unresolved', 7443, 'first-example.org'),
            httpsListener('https-invalid-kind', 8443, 'second-example.org'),
            httpsListener('https-grant-missing', 6443, 'fourth-example.org'),
            httpsListener('https-bad-pem', 5443),
          ],
          tls: {
            frontend: {
              default: { validation: { caCertificateRefs: [caRef('good-ca')] } },
              perPort: [
                { port: 7443, tls: { validation: { caCertificateRefs: [caRef('non-exisitng-cm')] } } },
                {
                  port: 8443,
                  tls: { validation: { caCertificateRefs: [{ group: '', kind: 'Service', name: 'svc' }] } },
                },
                {
                  port: 6443,
                  tls: { validation: { caCertificateRefs: [caRef('web-backend-cm', { namespace: 'web' })] } },
                },
                { port: 5443, tls: { validation: { caCertificateRefs: [caRef('cert')] } } },
              ],
            },
          },
        }),
      ),
    );
    expectCondition(r.listener('infra', 'gw', 'https').conditions, 'Programmed', 'True', 'Programmed');
    const cases: Array<[string, string]> = [
      ['https-unresolved', 'InvalidCACertificateRef'],
      ['https-invalid-kind', 'InvalidCACertificateKind'],
      ['https-grant-missing', 'RefNotPermitted'],
      ['https-bad-pem', 'InvalidCACertificateRef'],
    ];
    for (const [name, reason] of cases) {
      const l = r.listener('infra', 'gw', name);
      expectCondition(l.conditions, 'ResolvedRefs', 'False', reason);
      expectCondition(l.conditions, 'Accepted', 'False', 'NoValidCACertificate');
      expectCondition(l.conditions, 'Programmed', 'False', 'Invalid');
    }
    expectCondition(r.gateway('infra', 'gw').conditions, 'Accepted', 'True', 'ListenersNotValid');
    assert.deepEqual(
      r.irGateway('infra', 'gw')!.listeners.map((l) => l.sectionName),
      ['https'],
    );
  });

  test('a CA in another namespace is usable with a ReferenceGrant; Secrets can hold CAs too', () => {
    const r = run(
      docs(
        CLASS,
        tlsSecret('infra', 'cert'),
        caConfigMap('web', 'ca'),
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'ca-secret', namespace: 'infra' },
          data: { 'ca.crt': Buffer.from(pem('ca.crt')).toString('base64') },
        }),
        `{apiVersion: gateway.networking.k8s.io/v1beta1, kind: ReferenceGrant, metadata: {name: g, namespace: web},
          spec: {from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}], to: [{group: "", kind: ConfigMap}]}}`,
        gatewayYaml('gw', {
          listeners: [httpsListener('https', 443)],
          tls: {
            frontend: {
              default: {
                validation: {
                  caCertificateRefs: [
                    caRef('ca', { namespace: 'web' }),
                    { group: '', kind: 'Secret', name: 'ca-secret' },
                  ],
                },
              },
            },
          },
        }),
      ),
    );
    expectCondition(r.listener('infra', 'gw', 'https').conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
    assert.equal(r.irGateway('infra', 'gw')!.listeners[0].tls!.clientValidation!.caPems.length, 2);
  });

  test('one unusable CA among usable ones: ResolvedRefs False, listener still Accepted', () => {
    const r = run(
      docs(
        CLASS,
        tlsSecret('infra', 'cert'),
        caConfigMap('infra', 'ca'),
        gatewayYaml('gw', {
          listeners: [httpsListener('https', 443)],
          tls: { frontend: { default: { validation: { caCertificateRefs: [caRef('ca'), caRef('missing')] } } } },
        }),
      ),
    );
    const l = r.listener('infra', 'gw', 'https');
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidCACertificateRef');
    expectCondition(l.conditions, 'Accepted', 'True', 'Accepted');
    expectCondition(l.conditions, 'Programmed', 'True', 'Programmed');
  });

  test('AllowInsecureFallback is carried to the IR and flagged on the Gateway', () => {
    const r = run(
      docs(
        CLASS,
        tlsSecret('infra', 'cert'),
        caConfigMap('infra', 'ca'),
        gatewayYaml('gw', {
          listeners: [httpsListener('https', 443), httpsListener('https-8443', 8443)],
          tls: {
            frontend: {
              default: { validation: { caCertificateRefs: [caRef('ca')], mode: 'AllowInsecureFallback' } },
              perPort: [
                {
                  port: 8443,
                  tls: { validation: { caCertificateRefs: [caRef('ca')], mode: 'AllowInsecureFallback' } },
                },
              ],
            },
          },
        }),
      ),
    );
    const c = expectCondition(
      r.gateway('infra', 'gw').conditions,
      'InsecureFrontendValidationMode',
      'True',
      'ConfigurationChanged',
    );
    assert.match(c.message, /default, port 8443/);
    for (const l of r.irGateway('infra', 'gw')!.listeners) {
      assert.equal(l.tls!.clientValidation!.mode, 'AllowInsecureFallback');
    }
  });

  test('a missing default with a valid per-port entry for another port only breaks the HTTPS listener', () => {
    const r = run(
      docs(
        CLASS,
        tlsSecret('infra', 'cert'),
        caConfigMap('infra', 'port-ca'),
        gatewayYaml('gw', {
          listeners: [HTTP, httpsListener('https', 443)],
          tls: {
            frontend: {
              default: { validation: { caCertificateRefs: [caRef('missing')] } },
              perPort: [{ port: 80, tls: { validation: { caCertificateRefs: [caRef('port-ca')] } } }],
            },
          },
        }),
      ),
    );
    expectCondition(r.listener('infra', 'gw', 'http').conditions, 'Programmed', 'True', 'Programmed');
    const https = r.listener('infra', 'gw', 'https');
    expectCondition(https.conditions, 'ResolvedRefs', 'False', 'InvalidCACertificateRef');
    expectCondition(https.conditions, 'Accepted', 'False', 'NoValidCACertificate');
  });
});
