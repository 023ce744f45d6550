import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { IR, ListenerIR, TLSSettingsIR } from '../../../src/ir/types.ts';
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
import {
  CertKit,
  certificateIR,
  h2Connect,
  h2Request,
  hasOpenssl,
  tlsRefused,
  tlsRequest,
  type Pem,
} from '../tls-kit.ts';

/**
 * Two HTTPS listeners on one port: A is the catch-all with defaults, B
 * (b.example) has an RSA and an ECDSA certificate and TLS 1.3 only (as a
 * listener-level ClientTrafficPolicy sets it). The listener is picked from
 * the ClientHello before TLS, so B's handshakes run with B's own settings.
 */
describe('per-listener TLS on a shared HTTPS port', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  const kit = new CertKit();
  let origin: Origin;
  let plane: RunningPlane;
  let certs: Record<string, Pem>;

  function https(name: string, hostname: string | undefined, pems: Pem[], settings?: TLSSettingsIR): ListenerIR {
    return listener(name, [route({ backends: [backend(name, endpointsOf(origin.port))] })], {
      protocol: 'HTTPS',
      hostname,
      tls: {
        mode: 'Terminate',
        certificates: pems.map((p, i) => certificateIR(p, `default/${name}-${i}`)),
        ...(settings ? { settings } : {}),
      },
    });
  }

  function ir(bSettings: TLSSettingsIR): IR {
    return {
      gateways: [
        gateway([https('a', undefined, [certs.a]), https('b', 'b.example', [certs.bRsa, certs.bEc], bSettings)]),
      ],
    };
  }

  before(async () => {
    certs = {
      a: kit.leaf(null, { cn: 'a', dns: ['a.example'] }),
      bRsa: kit.leaf(null, { cn: 'b-rsa', dns: ['b.example'], rsa: true }),
      bEc: kit.leaf(null, { cn: 'b-ec', dns: ['b.example'] }),
    };
    origin = await startOrigin('o');
    plane = await startPlane(ir({ minVersion: '1.3' }));
  });
  after(async () => {
    await plane?.close();
    await origin?.close();
    kit.cleanup();
  });

  test("RSA and ECDSA on a non-default listener: the client's signature algorithms choose", async () => {
    const ec = await tlsRequest(plane.port, { servername: 'b.example', sigalgs: 'ecdsa_secp256r1_sha256' });
    assert.deepEqual([ec.status, ec.peerCN], [200, 'b-ec']);
    const rsa = await tlsRequest(plane.port, {
      servername: 'b.example',
      sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256',
    });
    assert.deepEqual([rsa.status, rsa.peerCN], [200, 'b-rsa']);
  });

  test("B's minimum version is its own: TLS 1.2 is refused on B and accepted on A of the same port", async () => {
    assert.ok(await tlsRefused(plane.port, { servername: 'b.example', maxVersion: 'TLSv1.2' }));
    const a = await tlsRequest(plane.port, { servername: 'a.example', maxVersion: 'TLSv1.2' });
    assert.deepEqual([a.status, a.peerCN], [200, 'a']);
    // Without SNI the handshake is A's; B's host is then misdirected, so leaving SNI out cannot skip B's floor.
    const noSni = await tlsRequest(plane.port, { servername: '', host: 'b.example', maxVersion: 'TLSv1.2' });
    assert.equal(noSni.status, 421);
  });

  test('ciphers per listener: a new IR restricting B to one TLS 1.2 suite applies to new handshakes on B only', async () => {
    await plane.dp.apply(ir({ minVersion: '1.2', maxVersion: '1.2', ciphers: ['ECDHE-ECDSA-AES256-GCM-SHA384'] }));
    try {
      const b = await tlsRequest(plane.port, { servername: 'b.example' });
      assert.equal(b.status, 200);
      assert.ok(
        await tlsRefused(plane.port, { servername: 'b.example', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }),
        'a suite outside B’s list is refused',
      );
      const a = await tlsRequest(plane.port, { servername: 'a.example', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
      assert.equal(a.status, 200);
    } finally {
      await plane.dp.apply(ir({ minVersion: '1.3' }));
    }
  });

  test('on B: session resumption, and HTTP/2 by ALPN', async () => {
    const first = await tlsRequest(plane.port, { servername: 'b.example' });
    assert.ok(first.session);
    const second = await tlsRequest(plane.port, { servername: 'b.example', session: first.session });
    assert.deepEqual([second.reused, second.status], [true, 200]);
    const session = await h2Connect(`https://${LOOPBACK}:${plane.port}`, { servername: 'b.example' });
    try {
      assert.equal(session.alpnProtocol, 'h2');
      const r = await h2Request(session, { ':path': '/', ':authority': 'b.example' });
      assert.equal(r.status, 200);
    } finally {
      session.close();
    }
  });

  test('a ClientHello sent a few bytes at a time still selects the listener', async () => {
    // A relay that forwards the client's bytes to the gateway in 7-byte writes.
    const relay = net.createServer((inbound) => {
      const out = net.connect(plane.port, LOOPBACK);
      out.setNoDelay(true);
      inbound.on('data', (chunk: Buffer) => {
        inbound.pause();
        const parts: Buffer[] = [];
        for (let i = 0; i < chunk.length; i += 7) parts.push(chunk.subarray(i, i + 7));
        const next = (): void => {
          const p = parts.shift();
          if (p === undefined) inbound.resume();
          else out.write(p, () => setImmediate(next));
        };
        next();
      });
      out.pipe(inbound);
      const end = (): void => {
        inbound.destroy();
        out.destroy();
      };
      inbound.on('error', end).on('close', end);
      out.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => relay.listen(0, LOOPBACK, r));
    try {
      const port = (relay.address() as net.AddressInfo).port;
      const r = await withTimeout(
        tlsRequest(port, { servername: 'b.example', sigalgs: 'ecdsa_secp256r1_sha256' }),
        8000,
        'relayed request',
      );
      assert.deepEqual([r.status, r.peerCN], [200, 'b-ec']);
    } finally {
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});
