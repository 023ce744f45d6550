import assert from 'node:assert/strict';
import tls, { type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startTcpEcho, type RunningTcpEcho } from '../../support/tcp-echo.ts';
import { CertKit, type Pem } from '../tls-kit.ts';
import {
  LOOPBACK,
  LineReader,
  hasOpenssl,
  irOf,
  l4Backend,
  startL4Plane,
  terminate,
  tlsListener,
  tlsRoute,
  withTimeout,
  type L4Plane,
} from './l4-helpers.ts';

/**
 * A TLS listener in Terminate mode with ClientTrafficPolicy client
 * validation (VerifyIfGiven and a SAN matcher; plain AllowValidOnly): the
 * verdict is taken after the handshake and a refused client never reaches
 * the backend.
 */
describe('TLS Terminate listeners: client validation', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  const kit = new CertKit();
  let echo: RunningTcpEcho;
  let plane: L4Plane;
  let server: Pem;
  let ca: Pem;
  let good: Pem;
  let bad: Pem;
  let untrusted: Pem;

  before(async () => {
    server = kit.leaf(null, { cn: 'tls.example.com', dns: ['tls.example.com'] });
    ca = kit.ca('ca');
    good = kit.leaf(ca, { cn: 'good', usage: 'client', san: ['URI:spiffe://td/ns/a'] });
    bad = kit.leaf(ca, { cn: 'bad', usage: 'client', san: ['URI:spiffe://other/ns/a'] });
    untrusted = kit.leaf(null, { cn: 'self', usage: 'client', san: ['URI:spiffe://td/ns/a'] });
    echo = await startTcpEcho({ pod: 'echo', namespace: 'infra' });
    const t = terminate(server);
    t.clientValidation = {
      caPems: [ca.cert],
      mode: 'AllowInsecureFallback',
      verification: 'VerifyIfGiven',
      subjectAltNames: [{ type: 'URI', match: 'Prefix', value: 'spiffe://td/' }],
    };
    const strict = terminate(server);
    strict.clientValidation = { caPems: [ca.cert], mode: 'AllowValidOnly' };
    plane = await startL4Plane(
      irOf(
        tlsListener('mtls', t, [tlsRoute(['tls.example.com'], [l4Backend('echo', [echo.port])])]),
        tlsListener('strict', strict, [tlsRoute(['tls.example.com'], [l4Backend('echo', [echo.port])])]),
      ),
    );
    assert.deepEqual(plane.errors, []);
  });
  after(async () => {
    await plane?.close();
    await echo?.close();
    kit.cleanup();
  });

  /** The backend's greeting line, or null when the gateway closed the connection instead. */
  async function greeting(client: Pem | null, listener = 'mtls'): Promise<string | null> {
    const s = await withTimeout(
      new Promise<TLSSocket>((resolve, reject) => {
        const c = tls.connect(
          {
            host: LOOPBACK,
            port: plane.port(listener),
            servername: 'tls.example.com',
            ca: server.cert,
            ...(client ? { cert: client.cert, key: client.key } : {}),
          },
          () => resolve(c),
        );
        c.once('error', reject);
      }),
      3000,
      'handshake',
    ).catch(() => null);
    if (s === null) return null;
    try {
      return await new LineReader(s).next();
    } finally {
      s.destroy();
    }
  }

  test('no certificate and a matching one reach the backend; a non-matching or untrusted one does not', async () => {
    assert.equal(await greeting(null), 'Gateway API Test TCP Server');
    assert.equal(await greeting(good), 'Gateway API Test TCP Server');
    assert.equal(await greeting(bad), null);
    assert.equal(await greeting(untrusted), null);
  });

  test('AllowValidOnly: only a certificate from the CA reaches the backend (OpenSSL alone would let any through)', async () => {
    assert.equal(await greeting(good, 'strict'), 'Gateway API Test TCP Server');
    assert.equal(await greeting(untrusted, 'strict'), null);
    assert.equal(await greeting(null, 'strict'), null);
  });
});
