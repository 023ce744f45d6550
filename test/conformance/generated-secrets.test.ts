import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { GeneratedSecretSpec } from './case-types.ts';
import {
  findSecretSpec,
  opensslSubject,
  SecretFactory,
  secretsReferencedBy,
  subjectAltNames,
} from './generated-secrets.ts';

describe('certificate parameters', () => {
  test('subjects are written in sequence order for openssl', () => {
    assert.equal(
      opensslSubject('CN=gatewayapi, O=Kubernetes Gateway API, C=US'),
      '/C=US/O=Kubernetes Gateway API/CN=gatewayapi',
    );
  });
  test('hosts split as upstream: IP, DNS (leading *. allowed), else URI', () => {
    const spec = {
      kind: 'Secret',
      name: 's',
      namespace: 'n',
      hosts: ['*', '*.org', '10.0.0.1', 'spiffe://a/b'],
    } as GeneratedSecretSpec;
    assert.deepEqual(subjectAltNames(spec), ['DNS:*.org', 'IP:10.0.0.1', 'URI:*', 'URI:spiffe://a/b']);
    assert.deepEqual(subjectAltNames({ ...spec, dnsNames: ['a.b'], uriSANs: [], ipSANs: [] }), ['DNS:a.b']);
  });
  test('base references: Gateway certificateRefs and pod secret volumes', () => {
    const refs = secretsReferencedBy([
      {
        kind: 'Gateway',
        metadata: { namespace: 'infra' },
        spec: {
          listeners: [
            {
              tls: {
                certificateRefs: [
                  { kind: 'Secret', name: 'a' },
                  { name: 'b', namespace: 'o' },
                ],
              },
            },
          ],
        },
      },
      {
        kind: 'Deployment',
        metadata: { namespace: 'infra' },
        spec: { template: { spec: { volumes: [{ secret: { secretName: 'c' } }] } } },
      },
    ]);
    assert.deepEqual(refs, ['infra/a', 'o/b', 'infra/c']);
  });
  test('objects the manifests define themselves are not generated', () => {
    const refs = secretsReferencedBy([
      { kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'infra' } },
      {
        kind: 'Deployment',
        metadata: { namespace: 'infra' },
        spec: { template: { spec: { volumes: [{ configMap: { name: 'cfg' } }] } } },
      },
    ]);
    assert.deepEqual(refs, []);
  });
  test('a secret described only in another namespace reuses that recipe', () => {
    const spec = { kind: 'Secret', name: 's', namespace: 'a', dnsNames: ['x'] } as GeneratedSecretSpec;
    const catalog = new Map([['a/s', spec]]);
    assert.equal(findSecretSpec(catalog, 'a/s'), spec);
    assert.deepEqual(findSecretSpec(catalog, 'b/s'), { ...spec, namespace: 'b' });
    assert.equal(findSecretSpec(catalog, 'b/t'), undefined);
  });
});

describe('SecretFactory (openssl)', () => {
  const ca: GeneratedSecretSpec = {
    kind: 'ConfigMap',
    name: 'ca',
    namespace: 'n',
    keys: ['ca.crt'],
    isCA: true,
    selfSigned: true,
    subject: 'CN=gatewayapi, O=Kubernetes Gateway API, C=US',
    serial: 2024,
  };
  const leaf: GeneratedSecretSpec = {
    kind: 'Secret',
    name: 'leaf',
    namespace: 'n',
    type: 'kubernetes.io/tls',
    keys: ['tls.crt', 'tls.key'],
    signedBy: { kind: 'ConfigMap', namespace: 'n', name: 'ca' },
    dnsNames: ['abc.example.com'],
    uriSANs: ['spiffe://abc.example.com/id'],
    ipSANs: [],
    subject: 'CN=default, O=Acme Co',
    key: 'RSA 2048, PKCS#1 PEM (BEGIN RSA PRIVATE KEY)',
  };
  const factory = new SecretFactory(new Map([['n/ca', ca]]));
  after(() => factory.dispose());

  test('a leaf brings its CA first; the CA signs it; PKCS#1 key; SANs as listed', () => {
    const objects = factory.objectsFor([leaf]);
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      ['ConfigMap/ca', 'Secret/leaf'],
    );
    const caCert = new X509Certificate((objects[0].data as Record<string, string>)['ca.crt']);
    const data = objects[1].data as Record<string, string>;
    const cert = new X509Certificate(Buffer.from(data['tls.crt'], 'base64'));
    assert.ok(caCert.ca);
    assert.equal(caCert.serialNumber.replace(/^0+/, ''), (2024).toString(16).toUpperCase());
    assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
    assert.ok(!cert.ca);
    assert.equal(cert.subjectAltName, 'DNS:abc.example.com, URI:spiffe://abc.example.com/id');
    assert.match(Buffer.from(data['tls.key'], 'base64').toString(), /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.equal(objects[1].type, 'kubernetes.io/tls');
  });
  test('material is generated once per secret per run', () => {
    const a = factory.objectsFor([leaf])[1].data as Record<string, string>;
    const b = factory.objectsFor([leaf])[1].data as Record<string, string>;
    assert.equal(a['tls.crt'], b['tls.crt']);
  });
});
