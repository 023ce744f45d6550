import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { IR, ListenerIR } from '../../../src/ir/types.ts';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  gateway,
  listener,
  route,
  startOrigin,
  startPlane,
  withTimeout,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';
import { CertKit, certificateIR, h2Connect, h2Request, tlsRefused, tlsRequest, type Pem } from '../tls-kit.ts';

/**
 * One port, four HTTPS listeners as in the conformance case
 * HTTPRouteHTTPSListenerDetectMisdirectedRequests: catch-all, an exact
 * name, a wildcard and an exact name under that wildcard, each with its
 * own certificate (CN = listener) and origin.
 */
describe('HTTPS listeners', () => {
  const kit = new CertKit();
  const origins: Record<string, Origin> = {};
  let certs: Record<string, Pem>;
  let plane: RunningPlane;

  function httpsListener(name: string, hostname: string | undefined, pems: Pem[], routeHost: string): ListenerIR {
    return listener(
      name,
      [route({ hostname: routeHost, backends: [backend(name, endpointsOf(origins[name].port))] })],
      {
        protocol: 'HTTPS',
        hostname,
        tls: { mode: 'Terminate', certificates: pems.map((p) => certificateIR(p, `default/${name}`)) },
      },
    );
  }

  function ir(extra: ListenerIR[] = []): IR {
    return {
      gateways: [
        gateway([
          httpsListener('any', undefined, [certs.any, certs.anyRsa], 'example.org'),
          httpsListener('second', 'second-example.org', [certs.second, certs.secondRsa], '*'),
          httpsListener('wild', '*.wildcard.org', [certs.wild], '*.wildcard.org'),
          httpsListener('fourth', 'fourth-example.wildcard.org', [certs.fourth], 'fourth-example.wildcard.org'),
          ...extra,
        ]),
      ],
    };
  }

  before(async () => {
    certs = {
      any: kit.leaf(null, { cn: 'any', dns: ['*.org'] }),
      anyRsa: kit.leaf(null, { cn: 'any-rsa', dns: ['*.org'], rsa: true }),
      second: kit.leaf(null, { cn: 'second', dns: ['second-example.org'] }),
      secondRsa: kit.leaf(null, { cn: 'second-rsa', dns: ['second-example.org'], rsa: true }),
      wild: kit.leaf(null, { cn: 'wild', dns: ['*.wildcard.org'] }),
      fourth: kit.leaf(null, { cn: 'fourth', dns: ['fourth-example.wildcard.org'] }),
    };
    for (const name of ['any', 'second', 'wild', 'fourth']) origins[name] = await startOrigin(name);
    plane = await startPlane(ir());
  });
  after(async () => {
    await plane.close();
    for (const o of Object.values(origins)) await o.close();
    kit.cleanup();
  });

  test('the certificate is chosen by SNI: exact before wildcard, the catch-all listener otherwise and without SNI', async () => {
    const cases: Array<[string, string]> = [
      ['second-example.org', 'second'],
      ['fourth-example.wildcard.org', 'fourth'],
      ['third.wildcard.org', 'wild'],
      ['THIRD.Wildcard.org.', 'wild'],
      ['example.org', 'any'],
      ['unknown.test', 'any'],
    ];
    for (const [sni, cn] of cases) {
      const r = await tlsRequest(plane.port, { servername: sni, host: 'example.org' });
      assert.equal(r.peerCN, cn, `SNI ${sni}`);
    }
    const noSni = await tlsRequest(plane.port, { servername: '', host: 'example.org' });
    assert.equal(noSni.peerCN, 'any');
    assert.equal(noSni.status, 200);
  });

  test('HTTP/1.1 over TLS reaches the route of the listener, with x-forwarded-proto https', async () => {
    const r = await tlsRequest(plane.port, { servername: 'second-example.org', path: '/p?q=1' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { origin: string; url: string; headers: Record<string, string> };
    assert.equal(seen.origin, 'second');
    assert.equal(seen.url, '/p?q=1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(r.alpn, 'http/1.1');
  });

  test('ALPN: h2 and http/1.1 on the same port; a client without ALPN gets HTTP/1.1', async () => {
    const h2 = await h2Connect(`https://${LOOPBACK}:${plane.port}`, { servername: 'second-example.org' });
    try {
      assert.equal(h2.alpnProtocol, 'h2');
      const r = await h2Request(h2, { ':path': '/h2', ':authority': 'second-example.org' });
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body) as { origin: string; headers: Record<string, string> };
      assert.equal(seen.origin, 'second');
      assert.equal(seen.headers.host, 'second-example.org');
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
    } finally {
      h2.close();
    }
    const h1 = await tlsRequest(plane.port, { servername: 'second-example.org', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(h1.alpn, 'h2', 'h2 preferred when offered');
    const none = await tlsRequest(plane.port, { servername: 'second-example.org', ALPNProtocols: [] });
    assert.equal(none.alpn, false);
    assert.equal(none.status, 200);
  });

  test('421 when Host belongs to another listener than the SNI selected; 404 on the catch-all listener', async () => {
    // [sni, host, expected status, origin]: the checks of HTTPRouteHTTPSListenerDetectMisdirectedRequests.
    const cases: Array<[string, string, number, string?]> = [
      ['example.org', 'example.org', 200, 'any'],
      ['example.org', 'second-example.org', 421],
      ['example.org', 'unknown-example.org', 404],
      ['second-example.org', 'second-example.org', 200, 'second'],
      ['second-example.org', 'example.org', 421],
      ['second-example.org', 'unknown-example.org', 421],
      ['third-example.wildcard.org', 'third-example.wildcard.org', 200, 'wild'],
      ['third-example.wildcard.org', 'fith-example.wildcard.org', 200, 'wild'],
      ['third-example.wildcard.org', 'fourth-example.wildcard.org', 421],
      ['third-example.wildcard.org', 'second-example.org', 421],
      ['third-example.wildcard.org', 'unknown-example.org', 421],
      ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', 200, 'fourth'],
      ['fourth-example.wildcard.org', 'fith-example.wildcard.org', 421],
      ['unknown-example.org', 'example.org', 200, 'any'],
      ['unknown-example.org', 'unknown-example.org', 404],
    ];
    const sessions = new Map<string, Awaited<ReturnType<typeof h2Connect>>>();
    try {
      for (const [sni, host, status, origin] of cases) {
        let s = sessions.get(sni);
        if (s === undefined) {
          s = await h2Connect(`https://${LOOPBACK}:${plane.port}`, { servername: sni });
          sessions.set(sni, s);
        }
        const r = await h2Request(s, { ':path': '/detect-misdirected-requests', ':authority': host });
        assert.equal(r.status, status, `h2 SNI ${sni} Host ${host}`);
        if (origin !== undefined) assert.equal((JSON.parse(r.body) as { origin: string }).origin, origin);
        // HTTP/1.1 over TLS follows the same rule.
        const h1 = await tlsRequest(plane.port, { servername: sni, host, path: '/x' });
        assert.equal(h1.status, status, `h1 SNI ${sni} Host ${host}`);
      }
    } finally {
      for (const s of sessions.values()) s.close();
    }
  });

  test('RSA and ECDSA certificates on any listener: the client gets the one its ciphers allow', async () => {
    for (const servername of ['example.org', '']) {
      const ec = await tlsRequest(plane.port, {
        servername,
        host: 'example.org',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      });
      assert.equal(ec.peerCN, 'any');
      const rsa = await tlsRequest(plane.port, {
        servername,
        host: 'example.org',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      });
      assert.equal(rsa.peerCN, 'any-rsa');
    }
    // A listener reached by SNI gets the same choice: its handshake starts with its own context.
    for (const [ciphers, cn] of [
      ['ECDHE-ECDSA-AES128-GCM-SHA256', 'second'],
      ['ECDHE-RSA-AES128-GCM-SHA256', 'second-rsa'],
    ]) {
      const r = await tlsRequest(plane.port, { servername: 'second-example.org', maxVersion: 'TLSv1.2', ciphers });
      assert.equal(r.peerCN, cn);
    }
  });

  test('TLS 1.2 is limited to AEAD ciphers; TLS 1.1 and CBC suites are refused', async () => {
    assert.ok(await tlsRefused(plane.port, { servername: 'example.org', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }));
    assert.ok(
      await tlsRefused(plane.port, {
        servername: 'example.org',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA',
      }),
    );
    const ok = await tlsRequest(plane.port, { servername: 'example.org', maxVersion: 'TLSv1.2' });
    assert.equal(ok.status, 200);
  });

  test('session resumption: a second connection with the session is resumed (TLS 1.3 and 1.2)', async () => {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = await tlsRequest(plane.port, { servername: 'second-example.org', maxVersion });
      assert.ok(first.session, `${maxVersion}: a session was issued`);
      assert.equal(first.reused, false);
      const second = await tlsRequest(plane.port, {
        servername: 'second-example.org',
        maxVersion,
        session: first.session,
      });
      assert.equal(second.reused, true, `${maxVersion}: resumed`);
      assert.equal(second.status, 200);
    }
  });

  test('a listener whose key does not match its certificate is reported; the others still serve', async () => {
    const broken = httpsListener('fourth', 'broken.example.net', [{ cert: certs.wild.cert, key: certs.any.key }], '*');
    const result = await plane.dp.apply(ir([{ ...broken, name: 'default/gw/broken', sectionName: 'broken' }]));
    assert.equal(result.errors.length, 1);
    assert.match(result.errors[0], /listener default\/gw\/broken: certificates default\/fourth cannot be used/);
    assert.equal((await tlsRequest(plane.port, { servername: 'second-example.org' })).status, 200);
    await plane.dp.apply(ir());
  });
});

describe('TLS handshake timeout', () => {
  const kit = new CertKit();
  let plane: RunningPlane;

  before(async () => {
    const pem = kit.leaf(null, { cn: 'slow', dns: ['example.com'] });
    const l = listener('https', [route()], {
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificates: [certificateIR(pem)] },
    });
    plane = await startPlane({ gateways: [gateway([l])] }, { tlsHandshakeTimeoutMs: 200 });
  });
  after(async () => {
    await plane.close();
    kit.cleanup();
  });

  test('a client that never finishes its handshake is disconnected', async () => {
    const started = Date.now();
    const closed = await withTimeout(
      new Promise<boolean>((resolve) => {
        const s = net.connect(plane.port, LOOPBACK);
        s.on('connect', () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))); // a ClientHello that never comes
        s.on('close', () => resolve(true));
        s.on('error', () => undefined);
        s.resume();
      }),
      3000,
      'handshake timeout',
    );
    assert.ok(closed);
    assert.ok(Date.now() - started < 2000);
  });
});
