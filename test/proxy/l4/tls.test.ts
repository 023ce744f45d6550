import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { BackendTLSIR } from '../../../src/ir/types.ts';
import { startTcpEcho, type RunningTcpEcho, type TcpEchoTestReply } from '../../support/tcp-echo.ts';
import { closeServer } from '../helpers.ts';
import {
  LOOPBACK,
  LineReader,
  PASSTHROUGH,
  closedByPeer,
  connectTcp,
  freeTcpPort,
  hasOpenssl,
  irOf,
  l4Backend,
  l4Route,
  selfSigned,
  startL4Plane,
  terminate,
  tlsListener,
  tlsRoute,
  withTimeout,
  type L4Plane,
} from './l4-helpers.ts';

/** A TLS client that trusts only `ca` and checks the certificate names `sni`. */
function tlsConnect(port: number, sni: string, ca: string, socket?: Socket): Promise<TLSSocket> {
  return withTimeout(
    new Promise<TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: LOOPBACK, port, servername: sni, ca, minVersion: 'TLSv1.2', socket }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
      s.once('close', () => reject(new Error('closed before the handshake completed')));
    }),
    3000,
    `TLS handshake for ${sni}`,
  );
}

/** The full echo exchange of TRANSPORT-KINDS §6.2 over `s`. */
async function fullExchange(s: Socket): Promise<{ isTls: string | null; reply: TcpEchoTestReply }> {
  const lines = new LineReader(s);
  assert.equal(await lines.next(), 'Gateway API Test TCP Server');
  s.write('PING\n');
  assert.equal(await lines.next(), 'PONG');
  s.write('IS_TLS\n');
  const isTls = await lines.next();
  s.write('TEST\n');
  const reply = JSON.parse((await lines.next()) ?? 'null') as TcpEchoTestReply;
  return { isTls, reply };
}

/** What a TLS client sees when the gateway cuts its handshake: closed or reset before it completes. */
async function rejected(port: number, sni: string, ca: string): Promise<void> {
  await assert.rejects(tlsConnect(port, sni, ca), (err: NodeJS.ErrnoException) => {
    assert.ok(
      err.code === 'ECONNRESET' || /closed before|socket disconnected|hang up/i.test(err.message),
      `unexpected: ${err.code} ${err.message}`,
    );
    return true;
  });
}

describe('TLS listeners', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  const backendCert = hasOpenssl ? selfSigned('abc.example.com') : { cert: '', key: '' };
  const gatewayCert = hasOpenssl ? selfSigned('tls.example.com') : { cert: '', key: '' };
  const wildCert = hasOpenssl ? selfSigned('wild.example.org') : { cert: '', key: '' };
  const otherCert = hasOpenssl ? selfSigned('other.example.com') : { cert: '', key: '' };
  let tcpBackend: RunningTcpEcho;
  let otherBackend: RunningTcpEcho;
  let plane: L4Plane;
  let shared: number;

  before(async () => {
    tcpBackend = await startTcpEcho({
      pod: 'tcp-backend-a-b',
      namespace: 'infra',
      tls: { cert: backendCert.cert, key: backendCert.key },
    });
    otherBackend = await startTcpEcho({ pod: 'other-a-b', namespace: 'infra' });
    shared = await freeTcpPort();
    const tlsPort = tcpBackend.tlsPort!;
    const backendTls: BackendTLSIR = {
      sni: 'abc.example.com',
      caPems: [backendCert.cert],
      systemCAs: false,
      subjectAltNames: [],
    };
    plane = await startL4Plane(
      irOf(
        tlsListener('passthrough', PASSTHROUGH, [
          tlsRoute(['abc.example.com'], [l4Backend('tcp-backend', [tlsPort])]),
          tlsRoute(['invalid.example.com'], [l4Backend('nope', [tlsPort], { invalid: true })]),
        ]),
        tlsListener('terminate', terminate(gatewayCert), [
          tlsRoute(['tls.example.com'], [l4Backend('tcp-backend', [tcpBackend.port])]),
        ]),
        tlsListener('reencrypt', terminate(gatewayCert), [
          tlsRoute(['tls.example.com'], [l4Backend('tcp-backend', [tlsPort], { tls: backendTls })]),
        ]),
        // One port, three listeners: Terminate for tls.example.com, Passthrough for
        // abc.example.com, Terminate with a wildcard for *.example.org.
        tlsListener(
          'mixed-terminate',
          terminate(gatewayCert),
          [tlsRoute(['tls.example.com'], [l4Backend('tcp-backend', [tcpBackend.port])])],
          { port: shared, hostname: 'tls.example.com' },
        ),
        tlsListener(
          'mixed-passthrough',
          PASSTHROUGH,
          [tlsRoute(['abc.example.com'], [l4Backend('tcp-backend', [tlsPort])])],
          { port: shared, hostname: 'abc.example.com' },
        ),
        tlsListener(
          'mixed-wildcard',
          terminate(wildCert),
          [tlsRoute(['*.example.org'], [l4Backend('other', [otherBackend.port])])],
          { port: shared, hostname: '*.example.org', tcpRoutes: [] },
        ),
        // Two certificates on one Terminate listener: the one naming the SNI is presented.
        tlsListener('two-certs', terminate(gatewayCert, otherCert), [
          tlsRoute(['tls.example.com', 'other.example.com'], [l4Backend('tcp-backend', [tcpBackend.port])]),
        ]),
        // A Terminate listener with only a TCPRoute: every decrypted connection goes there.
        tlsListener('terminate-tcp', terminate(gatewayCert), [], {
          tcpRoutes: [l4Route([l4Backend('other', [otherBackend.port])])],
        }),
        tlsListener('proxied', PASSTHROUGH, [tlsRoute(['abc.example.com'], [l4Backend('tcp-backend', [tlsPort])])], {
          enableProxyProtocol: true,
        }),
      ),
      { l4PreambleTimeoutMs: 500 },
    );
    assert.deepEqual(plane.errors, []);
  });
  after(async () => {
    await plane.close();
    await tcpBackend.close();
    await otherBackend.close();
  });

  test('passthrough: routed by SNI; the client verifies the BACKEND certificate', async () => {
    const s = await tlsConnect(plane.port('passthrough'), 'abc.example.com', backendCert.cert);
    assert.equal(s.getPeerCertificate().subject.CN, 'abc.example.com');
    const { isTls, reply } = await fullExchange(s);
    assert.equal(isTls, 'true');
    assert.equal(reply.pod, 'tcp-backend-a-b');
    assert.equal(reply.tls?.serverName, 'abc.example.com');
    assert.match(reply.tls?.version ?? '', /^TLS 1\.[23]$/);
    s.destroy();
  });

  test('passthrough: a ClientHello trickling in a few bytes at a time still routes', async () => {
    const port = plane.port('passthrough');
    // A relay that forwards the client's bytes in small pieces with pauses in between: 3-byte pieces
    // across the record and handshake headers, then 100-byte pieces (Node 24's ClientHello is ~1.8 KB
    // with its post-quantum key share; 3-byte pieces all the way would outlast the preamble timeout).
    const relay = net.createServer((c) => {
      const up = net.connect(port, LOOPBACK);
      up.setNoDelay(true);
      up.pipe(c);
      c.on('data', (d: Buffer) => {
        c.pause();
        void (async () => {
          for (let i = 0; i < d.length;) {
            const size = i < 60 ? 3 : 100;
            up.write(d.subarray(i, i + size));
            i += size;
            await new Promise((r) => setTimeout(r, 1));
          }
          c.resume();
        })();
      });
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, LOOPBACK, r));
    try {
      const s = await tlsConnect((relay.address() as net.AddressInfo).port, 'abc.example.com', backendCert.cert);
      const { isTls } = await fullExchange(s);
      assert.equal(isTls, 'true');
      s.destroy();
    } finally {
      await closeServer(relay);
    }
  });

  test('passthrough: unknown SNI, no SNI, invalid backend → closed before the handshake completes', async () => {
    const port = plane.port('passthrough');
    await rejected(port, 'unknown.example.com', backendCert.cert);
    await rejected(port, 'invalid.example.com', backendCert.cert);
    // No SNI (an IP literal as servername sends none).
    await assert.rejects(
      withTimeout(
        new Promise((resolve, reject) => {
          const s = tls.connect({ host: LOOPBACK, port, ca: backendCert.cert, checkServerIdentity: () => undefined });
          s.once('secureConnect', resolve);
          s.once('error', reject);
          s.once('close', () => reject(new Error('closed before the handshake completed')));
        }),
        3000,
        'no-SNI handshake',
      ),
    );
  });

  test('garbage or silence instead of a ClientHello: the connection is closed', async () => {
    const port = plane.port('passthrough');
    const garbage = await connectTcp(port);
    garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closedByPeer(garbage);
    const silent = await connectTcp(port);
    const t0 = Date.now();
    await closedByPeer(silent, 3000);
    assert.ok(Date.now() - t0 >= 400, 'closed by the preamble timeout');
  });

  test('passthrough behind a PROXY header: the header is consumed, then SNI routes as usual', async () => {
    const raw = await connectTcp(plane.port('proxied'));
    raw.write('PROXY TCP4 203.0.113.7 198.51.100.9 40000 443\r\n');
    const s = await tlsConnect(plane.port('proxied'), 'abc.example.com', backendCert.cert, raw);
    const { isTls, reply } = await fullExchange(s);
    assert.equal(isTls, 'true');
    assert.equal(reply.tls?.serverName, 'abc.example.com');
    s.destroy();
  });

  test('terminate: the gateway presents the listener certificate, the backend sees plain TCP', async () => {
    const s = await tlsConnect(plane.port('terminate'), 'tls.example.com', gatewayCert.cert);
    assert.equal(s.getPeerCertificate().subject.CN, 'tls.example.com');
    const { isTls, reply } = await fullExchange(s);
    assert.equal(isTls, 'false');
    assert.equal(reply.pod, 'tcp-backend-a-b');
    assert.equal(reply.tls, undefined);
    s.destroy();
  });

  test('terminate: a half-close crosses the TLS layer', async () => {
    const s = await tlsConnect(plane.port('terminate'), 'tls.example.com', gatewayCert.cert);
    const lines = new LineReader(s);
    assert.equal(await lines.next(), 'Gateway API Test TCP Server');
    s.end('PING\n');
    assert.equal(await lines.next(), 'PONG');
    assert.equal(await lines.next(), null, 'the backend closes after our FIN');
  });

  test('terminate: the certificate is chosen by SNI among the listener certificates', async () => {
    for (const [sni, ca] of [
      ['tls.example.com', gatewayCert.cert],
      ['other.example.com', otherCert.cert],
    ] as const) {
      const s = await tlsConnect(plane.port('two-certs'), sni, ca);
      assert.equal(s.getPeerCertificate().subject.CN, sni);
      assert.equal((await fullExchange(s)).reply.pod, 'tcp-backend-a-b');
      s.destroy();
    }
  });

  test('terminate with a TCPRoute: the decrypted stream goes to its backend', async () => {
    const s = await tlsConnect(plane.port('terminate-tcp'), 'tls.example.com', gatewayCert.cert);
    const { isTls, reply } = await fullExchange(s);
    assert.equal(isTls, 'false');
    assert.equal(reply.pod, 'other-a-b');
    s.destroy();
  });

  test('terminate: unknown SNI is refused before the handshake', async () => {
    await rejected(plane.port('terminate'), 'other.example.com', gatewayCert.cert);
  });

  test('terminate + BackendTLSPolicy: TLS again towards the backend, with the policy SNI', async () => {
    const s = await tlsConnect(plane.port('reencrypt'), 'tls.example.com', gatewayCert.cert);
    assert.equal(s.getPeerCertificate().subject.CN, 'tls.example.com');
    const { isTls, reply } = await fullExchange(s);
    assert.equal(isTls, 'true');
    assert.equal(reply.tls?.serverName, 'abc.example.com');
    s.destroy();
  });

  test('mixed termination on one port: each listener by SNI', async () => {
    const port = plane.port('mixed-terminate');
    assert.equal(plane.port('mixed-passthrough'), port);

    const term = await tlsConnect(port, 'tls.example.com', gatewayCert.cert);
    assert.equal((await fullExchange(term)).isTls, 'false');
    term.destroy();

    const pass = await tlsConnect(port, 'abc.example.com', backendCert.cert);
    const r = await fullExchange(pass);
    assert.equal(r.isTls, 'true');
    assert.equal(r.reply.tls?.serverName, 'abc.example.com');
    pass.destroy();

    // The wildcard listener's certificate names wild.example.org only: check the routing, not the name.
    const loose = await withTimeout(
      new Promise<TLSSocket>((resolve, reject) => {
        const s = tls.connect(
          {
            host: LOOPBACK,
            port,
            servername: 'a.example.org',
            ca: wildCert.cert,
            checkServerIdentity: () => undefined,
          },
          () => resolve(s),
        );
        s.once('error', reject);
      }),
      3000,
      'wildcard handshake',
    );
    assert.equal(loose.getPeerCertificate().subject.CN, 'wild.example.org');
    assert.equal((await fullExchange(loose)).reply.pod, 'other-a-b');
    loose.destroy();

    await rejected(port, 'example.org', wildCert.cert);
  });
});
