import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { parseClientHello } from '../../../src/proxy/l4/client-hello.ts';
import { LOOPBACK, hasOpenssl, selfSigned, withTimeout } from './l4-helpers.ts';

/** The first flight of a real node TLS client, captured by a plain TCP server. */
async function captureClientHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await withTimeout(
      new Promise<Buffer>((resolve) => {
        server.once('connection', (s) => {
          let data = Buffer.alloc(0);
          s.on('data', (d: Buffer) => {
            data = Buffer.concat([data, d]);
            // Done once the first record is whole.
            if (data.length >= 5 && data.length >= 5 + data.readUInt16BE(3)) {
              resolve(data);
              s.destroy();
            }
          });
        });
        const c = tls.connect({ host: LOOPBACK, port, ...opts });
        c.on('error', () => {});
      }),
      3000,
      'a ClientHello',
    );
  } finally {
    server.close();
  }
}

/** The same handshake message cut into records of at most `size` bytes. */
function refragment(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const chunk = body.subarray(off, off + size);
    const h = Buffer.from([22, 3, 1, 0, 0]);
    h.writeUInt16BE(chunk.length, 3);
    out.push(h, chunk);
  }
  return Buffer.concat(out);
}

describe('ClientHello parsing (SNI for TLS listeners)', () => {
  test('reads the SNI and ALPN of a real client, lower-cased', async () => {
    const hello = await captureClientHello({ servername: 'Abc.Example.COM', ALPNProtocols: ['h2', 'http/1.1'] });
    const r = parseClientHello(hello);
    assert.deepEqual(r, { status: 'ok', sni: 'abc.example.com', alpn: ['h2', 'http/1.1'] });
  });

  test('no server_name extension: ok without SNI', async () => {
    // node sends no SNI when connecting to an IP address without `servername`.
    const hello = await captureClientHello({});
    const r = parseClientHello(hello);
    assert.equal(r.status, 'ok');
    assert.equal(r.status === 'ok' && r.sni, undefined);
  });

  test('every prefix is incomplete, the whole is ok (a ClientHello split across TCP segments)', async () => {
    const hello = await captureClientHello({ servername: 'split.example.com' });
    for (let n = 0; n < hello.length; n++) {
      assert.equal(parseClientHello(hello.subarray(0, n)).status, 'incomplete', `prefix of ${n} bytes`);
    }
    const r = parseClientHello(hello);
    assert.equal(r.status === 'ok' && r.sni, 'split.example.com');
  });

  test('a ClientHello spread over several TLS records', async () => {
    const hello = await captureClientHello({ servername: 'records.example.com' });
    for (const size of [1, 7, 100]) {
      const data = refragment(hello, size);
      const r = parseClientHello(data);
      assert.equal(r.status === 'ok' && r.sni, 'records.example.com', `records of ${size} bytes`);
      assert.equal(parseClientHello(data.subarray(0, data.length - 1)).status, 'incomplete');
    }
  });

  test('bytes after the ClientHello (early data) do not matter', async () => {
    const hello = await captureClientHello({ servername: 'a.example.com' });
    const r = parseClientHello(Buffer.concat([hello, Buffer.from([23, 3, 3, 0, 1, 0])]));
    assert.equal(r.status === 'ok' && r.sni, 'a.example.com');
  });

  test('garbage is invalid as soon as it can be told', () => {
    assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')).status, 'invalid');
    assert.equal(parseClientHello(Buffer.from([0x16, 0x02, 0x00, 0x00, 0x10])).status, 'invalid'); // SSL 2 version
    assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])).status, 'invalid'); // empty record
    assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0])).status, 'invalid'); // ServerHello
    assert.equal(parseClientHello(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 2, 40])).status, 'invalid'); // alert
    assert.equal(parseClientHello(Buffer.alloc(0)).status, 'incomplete');
  });

  test('a ClientHello whose inner lengths overrun its message is invalid', async () => {
    const hello = Buffer.from(await captureClientHello({ servername: 'x.example.com' }));
    // Claim a longer extensions block than the message holds.
    const corrupt = Buffer.from(hello);
    const sessionLen = corrupt[5 + 4 + 34];
    const suitesAt = 5 + 4 + 35 + sessionLen;
    const compAt = suitesAt + 2 + corrupt.readUInt16BE(suitesAt);
    const extAt = compAt + 1 + corrupt[compAt];
    corrupt.writeUInt16BE(0xffff, extAt);
    assert.equal(parseClientHello(corrupt).status, 'invalid');
  });

  test(
    'the key name of an offered session ticket (TLS 1.2 session_ticket, TLS 1.3 pre_shared_key)',
    {
      skip: !hasOpenssl && 'openssl CLI not available',
    },
    async () => {
      const pem = selfSigned('tickets.example');
      const ticketKeys = Buffer.alloc(48, 9);
      ticketKeys.write('sixteen-byte-nam', 'latin1');
      const server = tls.createServer({ ...pem, ticketKeys }, (s) => s.end('x'));
      await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
      const port = (server.address() as net.AddressInfo).port;
      try {
        for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
          const session = await withTimeout(
            new Promise<Buffer>((resolve, reject) => {
              const c = tls.connect({
                host: LOOPBACK,
                port,
                servername: 'tickets.example',
                rejectUnauthorized: false,
                maxVersion,
              });
              c.on('session', (sess: Buffer) => resolve(sess));
              c.on('error', reject);
              c.resume();
            }),
            3000,
            'a session',
          );
          const r = parseClientHello(await captureClientHello({ servername: 'tickets.example', session, maxVersion }));
          assert.equal(r.status, 'ok');
          assert.equal(r.status === 'ok' && r.ticketName?.toString('latin1'), 'sixteen-byte-nam', maxVersion);
        }
        const none = parseClientHello(await captureClientHello({ servername: 'tickets.example' }));
        assert.equal(none.status === 'ok' && none.ticketName, undefined);
      } finally {
        server.close();
      }
    },
  );

  test('a malformed host name in server_name is invalid', () => {
    const name = Buffer.from('bad name\x00', 'latin1');
    const sni = Buffer.alloc(9 + name.length);
    sni.writeUInt16BE(0, 0); // extension type server_name
    sni.writeUInt16BE(5 + name.length, 2);
    sni.writeUInt16BE(3 + name.length, 4);
    sni[6] = 0;
    sni.writeUInt16BE(name.length, 7);
    name.copy(sni, 9);
    const body = Buffer.concat([
      Buffer.from([3, 3]),
      Buffer.alloc(32),
      Buffer.from([0]), // session id
      Buffer.from([0, 2, 0x13, 0x01]), // one suite
      Buffer.from([1, 0]), // null compression
      Buffer.from([sni.length >> 8, sni.length & 0xff]),
      sni,
    ]);
    const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
    const rec = Buffer.concat([Buffer.from([22, 3, 1, hs.length >> 8, hs.length & 0xff]), hs]);
    assert.equal(parseClientHello(rec).status, 'invalid');
  });
});
