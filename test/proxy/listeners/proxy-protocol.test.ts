import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { IR, ListenerIR } from '../../../src/ir/types.ts';
import { encodeV1, encodeV2 } from '../../../src/proxy/l4/proxy-protocol.ts';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  gateway,
  listener,
  rawExchange,
  route,
  startOrigin,
  withTimeout,
  type Origin,
} from '../helpers.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createDataPlane, type DataPlane } from '../../../src/proxy/index.ts';
import { certificateIR, h2Request, hasOpenssl, selfSigned, tlsRequest } from '../tls-kit.ts';

const CLIENT = { family: 'IPv4', source: { address: '203.0.113.7', port: 40000 } } as const;

function header(version: 1 | 2, port: number): Buffer {
  const addresses = { ...CLIENT, destination: { address: '198.51.100.9', port } };
  return version === 1 ? encodeV1(addresses) : encodeV2({ addresses });
}

/** A TCP connection to the gateway that starts with `head` (a PROXY header, or nothing). */
function dial(address: string, port: number, head: Buffer | null): net.Socket {
  const s = net.connect(port, address);
  if (head !== null) s.write(head);
  return s;
}

/**
 * PROXY protocol on HTTP and HTTPS listeners (ClientTrafficPolicy
 * `enableProxyProtocol`, `proxyProtocol.optional`): the header is read before
 * HTTP or TLS, and its client address is the one X-Forwarded-For carries.
 * One address per case: cleartext required / optional, TLS required / optional.
 */
describe('PROXY protocol on HTTP and HTTPS listeners', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  let origin: Origin;
  let dp: DataPlane;
  const ports: Record<string, number> = {};
  const ADDR = { http: '127.0.0.1', httpOptional: '127.0.0.2', https: '127.0.0.3', httpsOptional: '127.0.0.4' };

  function l(name: string, https: boolean, optional: boolean): ListenerIR {
    return listener(name, [route({ backends: [backend('o', endpointsOf(origin.port))] })], {
      protocol: https ? 'HTTPS' : 'HTTP',
      port: 0,
      enableProxyProtocol: true,
      ...(optional ? { proxyProtocolOptional: true } : {}),
      ...(https
        ? { tls: { mode: 'Terminate' as const, certificates: [certificateIR(selfSigned('pp.example'))] } }
        : {}),
    });
  }

  before(async () => {
    origin = await startOrigin('o');
    const ir: IR = {
      gateways: [
        gateway([l('http', false, false)], { name: 'a', addresses: [ADDR.http] }),
        gateway([l('http-optional', false, true)], { name: 'b', addresses: [ADDR.httpOptional] }),
        gateway([l('https', true, false)], { name: 'c', addresses: [ADDR.https] }),
        gateway([l('https-optional', true, true)], { name: 'd', addresses: [ADDR.httpsOptional] }),
      ],
    };
    dp = createDataPlane({ portOffset: 0, log: createLogger('silent') });
    const r = await dp.apply(ir);
    assert.deepEqual(r.errors, []);
    for (const b of r.bound) ports[b.address] = b.boundPort;
  });
  after(async () => {
    await dp?.close(200);
    await origin?.close();
  });

  /** X-Forwarded-For the origin saw for one HTTP/1.1 request; null when the gateway answered nothing. */
  async function xffHttp(address: string, head: Buffer | null): Promise<string | null> {
    const before = origin.seen.length;
    const status = await withTimeout(
      new Promise<number>((resolve) => {
        const req = http.request(
          { createConnection: () => dial(address, ports[address], head), path: '/', headers: { host: 'pp.example' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', () => resolve(0));
        req.end();
      }),
      5000,
      'HTTP request',
    );
    if (status === 0) return null;
    assert.equal(status, 200);
    return String(origin.seen.slice(before).at(-1)?.headers['x-forwarded-for']);
  }

  async function xffHttps(address: string, head: Buffer | null): Promise<string | null> {
    const before = origin.seen.length;
    try {
      const r = await tlsRequest(ports[address], {
        servername: 'pp.example',
        socket: dial(address, ports[address], head),
      });
      assert.equal(r.status, 200);
    } catch {
      return null;
    }
    return String(origin.seen.slice(before).at(-1)?.headers['x-forwarded-for']);
  }

  test('HTTP, required: the header’s client is X-Forwarded-For (v1 and v2); no header, no response', async () => {
    const port = ports[ADDR.http];
    assert.equal(await xffHttp(ADDR.http, header(1, port)), CLIENT.source.address);
    assert.equal(await xffHttp(ADDR.http, header(2, port)), CLIENT.source.address);
    const before = origin.seen.length;
    const r = await rawExchange(port, 'GET / HTTP/1.1\r\nhost: pp.example\r\n\r\n', 3000); // dials 127.0.0.1
    assert.deepEqual([r.closed, r.text], [true, '']);
    assert.equal(origin.seen.length, before);
  });

  test('HTTP, optional: with a header its client, without one the socket’s', async () => {
    assert.equal(await xffHttp(ADDR.httpOptional, header(2, ports[ADDR.httpOptional])), CLIENT.source.address);
    assert.equal(await xffHttp(ADDR.httpOptional, null), LOOPBACK);
  });

  test('HTTPS, required: the header comes before the ClientHello; without it the handshake never starts', async () => {
    const port = ports[ADDR.https];
    assert.equal(await xffHttps(ADDR.https, header(1, port)), CLIENT.source.address);
    assert.equal(await xffHttps(ADDR.https, null), null);
  });

  test('HTTPS, optional: both; HTTP/2 requests carry the header’s client too', async () => {
    const port = ports[ADDR.httpsOptional];
    assert.equal(await xffHttps(ADDR.httpsOptional, null), LOOPBACK);
    assert.equal(await xffHttps(ADDR.httpsOptional, header(2, port)), CLIENT.source.address);
    const session = await withTimeout(
      new Promise<http2.ClientHttp2Session>((resolve, reject) => {
        const s = http2.connect(`https://pp.example:${port}`, {
          rejectUnauthorized: false,
          servername: 'pp.example',
          createConnection: () => tlsSocketOver(dial(ADDR.httpsOptional, port, header(2, port))),
        });
        s.once('remoteSettings', () => resolve(s));
        s.once('error', reject);
      }),
      5000,
      'h2 connect',
    );
    try {
      const before = origin.seen.length;
      const r = await h2Request(session, { ':path': '/', ':authority': 'pp.example' });
      assert.equal(r.status, 200);
      assert.equal(origin.seen.slice(before).at(-1)?.headers['x-forwarded-for'], CLIENT.source.address);
    } finally {
      session.close();
    }
  });
});

function tlsSocketOver(raw: net.Socket): tls.TLSSocket {
  return tls.connect({ socket: raw, servername: 'pp.example', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
}
