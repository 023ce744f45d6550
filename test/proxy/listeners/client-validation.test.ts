import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ClientValidationIR, ListenerIR } from '../../../src/ir/types.ts';
import { spkiHash } from '../../../src/proxy/tls/client-validation.ts';
import {
  backend,
  endpointsOf,
  gateway,
  listener,
  route,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';
import { CertKit, certificateIR, hasOpenssl, tlsRequest, type Pem } from '../tls-kit.ts';

/**
 * ClientTrafficPolicy client validation in the data plane: modes (optional
 * certificate, unverified certificate), SAN matchers, SPKI pins, certificate
 * hashes and allowExpiredCertificate, each on its own listener of one port
 * (selected by SNI). Every refusal is also checked to have reached no route.
 */
describe(
  'client certificate validation: modes and matchers',
  { skip: !hasOpenssl && 'openssl CLI not available' },
  () => {
    const kit = new CertKit();
    let origin: Origin;
    let plane: RunningPlane;
    let ca: Pem;
    let otherCa: Pem;
    const c: Record<string, Pem> = {};

    function validating(name: string, v: Omit<ClientValidationIR, 'caPems' | 'mode'>): ListenerIR {
      const server = kit.leaf(null, { cn: name, dns: [`${name}.example`] });
      return listener(name, [route({ backends: [backend('o', endpointsOf(origin.port))] })], {
        protocol: 'HTTPS',
        port: 0,
        hostname: `${name}.example`,
        tls: {
          mode: 'Terminate',
          certificates: [certificateIR(server, `default/${name}`)],
          clientValidation: {
            caPems: [ca.cert],
            mode:
              v.verification === 'RequireAndVerify' || v.verification === undefined
                ? 'AllowValidOnly'
                : 'AllowInsecureFallback',
            ...v,
          },
        },
      });
    }

    before(async () => {
      ca = kit.ca('ca');
      otherCa = kit.ca('other-ca');
      const client = (cn: string, san: string[] = [], signer: Pem = ca, days?: number): Pem =>
        kit.leaf(signer, { cn, usage: 'client', san, ...(days === undefined ? {} : { days }) });
      c.plain = client('plain');
      c.goodDns = client('good-dns', ['DNS:svc.good.example']);
      c.badDns = client('bad-dns', ['DNS:svc.bad.example']);
      c.wildDns = client('wild-dns', ['DNS:*.wild.example']);
      c.uri = client('uri', ['URI:spiffe://td/ns/prod/sa/web']);
      c.otherUri = client('other-uri', ['URI:spiffe://other/ns/prod/sa/web']);
      c.email = client('email', ['email:bob@corp.example']);
      c.ip6 = client('ip6', ['IP:::1']);
      c.ip4 = client('ip4', ['IP:10.0.0.1']);
      c.goodDnsOtherCa = client('good-dns-other-ca', ['DNS:svc.good.example'], otherCa);
      c.expired = client('expired', [], ca, -1);
      c.expiredOtherCa = client('expired-other-ca', [], otherCa, -1);
      c.selfSigned = kit.leaf(null, { cn: 'self', usage: 'client' });
      c.otherCa = client('other', [], otherCa);
      origin = await startOrigin('o');
      const pinned = new X509Certificate(c.plain.cert);
      const certHash = createHash('sha256').update(pinned.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
      plane = await startPlane({
        gateways: [
          gateway(
            [
              validating('san', {
                verification: 'RequireAndVerify',
                subjectAltNames: [
                  { type: 'DNS', match: 'Suffix', value: '.good.example' },
                  { type: 'DNS', match: 'Exact', value: 'api.wild.example' },
                  { type: 'URI', match: 'Prefix', value: 'spiffe://td/' },
                  { type: 'Email', match: 'RegularExpression', value: '[a-z]+@corp\\.example' },
                  { type: 'IPAddress', match: 'Exact', value: '0:0::1' },
                ],
              }),
              validating('spki', { verification: 'RequireAndVerify', spkiHashes: [spkiHash(pinned)] }),
              validating('hash', { verification: 'RequireAndVerify', certificateHashes: [certHash] }),
              validating('pins', {
                verification: 'RequireAndVerify',
                spkiHashes: [spkiHash(new X509Certificate(c.email.cert))],
                certificateHashes: [certHash],
              }),
              validating('strict', { verification: 'RequireAndVerify' }),
              validating('expired', { verification: 'RequireAndVerify', allowExpiredCertificate: true }),
              validating('optional', { verification: 'VerifyIfGiven' }),
              validating('any', { verification: 'RequireAny' }),
              validating('request', { verification: 'Request' }),
            ],
            { addresses: ['127.0.0.1'] },
          ),
        ],
      });
    });
    after(async () => {
      await plane?.close();
      await origin?.close();
      kit.cleanup();
    });

    /** 200 when served; 0 when the connection was refused. */
    async function status(name: string, client: Pem | null): Promise<number> {
      const opts = { servername: `${name}.example`, ...(client ? { cert: client.cert, key: client.key } : {}) };
      try {
        return (await tlsRequest(plane.port, opts)).status;
      } catch {
        return 0;
      }
    }

    async function expect(name: string, cases: Array<[string, Pem | null, number]>): Promise<void> {
      const before = origin.seen.length;
      let served = 0;
      for (const [what, client, want] of cases) {
        assert.equal(await status(name, client), want, `${name}: ${what}`);
        if (want === 200) served++;
      }
      assert.equal(origin.seen.length - before, served, `${name}: refused connections reached no route`);
    }

    test('subjectAltNames: a verified certificate with a matching SAN is accepted, any other refused', async () => {
      await expect('san', [
        ['DNS suffix', c.goodDns, 200],
        ['DNS no match', c.badDns, 0],
        ['wildcard DNS SAN covers the exact name', c.wildDns, 200],
        ['URI prefix', c.uri, 200],
        ['URI no match', c.otherUri, 0],
        ['email regex', c.email, 200],
        ['IPv6 exact, whatever its spelling', c.ip6, 200],
        ['IPv4 no match', c.ip4, 0],
        ['no SAN', c.plain, 0],
        ['matching SAN from an untrusted CA', c.goodDnsOtherCa, 0],
        ['no certificate', null, 0],
      ]);
    });

    test('spkiHashes and certificateHashes (hex with colons, upper case) pin certificates; either list will do', async () => {
      await expect('spki', [
        ['pinned key', c.plain, 200],
        ['another key from the same CA', c.goodDns, 0],
        ['no certificate', null, 0],
      ]);
      await expect('hash', [
        ['pinned certificate', c.plain, 200],
        ['another certificate', c.email, 0],
      ]);
      // Both lists: a pin from either will do (Envoy's rule).
      await expect('pins', [
        ['certificate hash', c.plain, 200],
        ['SPKI pin', c.email, 200],
        ['neither', c.uri, 0],
      ]);
    });

    test('expired certificates: refused by default, accepted with allowExpiredCertificate when they chain', async () => {
      await expect('strict', [
        ['valid', c.plain, 200],
        ['expired', c.expired, 0],
      ]);
      await expect('expired', [
        ['valid', c.plain, 200],
        ['expired', c.expired, 200],
        ['expired from an untrusted CA', c.expiredOtherCa, 0],
        ['untrusted', c.otherCa, 0],
        ['self-signed', c.selfSigned, 0],
        ['no certificate', null, 0],
      ]);
    });

    test('VerifyIfGiven (optional): no certificate is accepted, an invalid one refused', async () => {
      await expect('optional', [
        ['no certificate', null, 200],
        ['valid', c.plain, 200],
        ['untrusted', c.otherCa, 0],
        ['expired', c.expired, 0],
      ]);
    });

    test('RequireAny needs a certificate but does not verify it; Request accepts any client', async () => {
      await expect('any', [
        ['no certificate', null, 0],
        ['self-signed', c.selfSigned, 200],
        ['valid', c.plain, 200],
      ]);
      await expect('request', [
        ['no certificate', null, 200],
        ['self-signed', c.selfSigned, 200],
      ]);
    });
  },
);
