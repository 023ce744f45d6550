import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { IR } from '../../../src/ir/types.ts';
import { decodeProxyHeader, encodeV2, type ProxyHeader } from '../../../src/proxy/l4/proxy-protocol.ts';
import { startTcpEcho, type RunningTcpEcho, type TcpEchoTestReply } from '../../support/tcp-echo.ts';
import { closeServer, deadPort } from '../helpers.ts';
import {
  LOOPBACK,
  LineReader,
  closedByPeer,
  connectTcp,
  irOf,
  l4Backend,
  l4Route,
  startL4Plane,
  tcpListener,
  withTimeout,
  type L4Plane,
} from './l4-helpers.ts';

/** One `TEST` exchange through `port`: the pod that answered. */
async function whoAnswers(port: number): Promise<string> {
  const s = await connectTcp(port);
  try {
    const lines = new LineReader(s);
    assert.equal(await lines.next(), 'Gateway API Test TCP Server');
    s.write('TEST\n');
    return (JSON.parse((await lines.next()) ?? 'null') as TcpEchoTestReply).pod;
  } finally {
    s.destroy();
  }
}

/** A backend that records the PROXY header in front of each connection, then answers `ok`. */
async function proxyAwareBackend(): Promise<{ port: number; headers: ProxyHeader[]; server: net.Server }> {
  const headers: ProxyHeader[] = [];
  const server = net.createServer((s) => {
    let data = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const r = decodeProxyHeader(data);
      if (r.status === 'incomplete') return;
      if (r.status === 'ok') {
        headers.push(r.header);
        s.write(`ok ${data.subarray(r.length).toString()}`);
      }
      s.end();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  return { port: (server.address() as net.AddressInfo).port, headers, server };
}

function readAll(s: Socket): Promise<string> {
  return withTimeout(
    new Promise((resolve, reject) => {
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    }),
    3000,
    'the whole reply',
  );
}

describe('TCP listeners (TCPRoute)', () => {
  const echoes: RunningTcpEcho[] = [];
  let plane: L4Plane;
  let dead: number;
  let ir: IR;

  before(async () => {
    for (const pod of ['one-a-b', 'two-a-b', 'three-a-b']) {
      echoes.push(await startTcpEcho({ pod, namespace: 'default', service: pod.split('-')[0] }));
    }
    dead = await deadPort();
    const [one, two, three] = echoes.map((e) => e.port);
    ir = irOf(
      tcpListener('echo', [l4Route([l4Backend('one', [one])])]),
      // Only the first (oldest) route of a TCP listener carries traffic.
      tcpListener('first-route', [l4Route([l4Backend('two', [two])]), l4Route([l4Backend('three', [three])])]),
      tcpListener('weighted', [
        l4Route([
          l4Backend('one', [one], { weight: 3 }),
          l4Backend('two', [two], { weight: 1 }),
          l4Backend('three', [three], { weight: 0 }),
        ]),
      ]),
      tcpListener('dead', [l4Route([l4Backend('dead', [dead])])]),
      tcpListener('invalid', [l4Route([l4Backend('bad', [one], { invalid: true })])]),
      tcpListener('empty', [l4Route([l4Backend('none', [])])]),
      tcpListener('no-route', []),
    );
    plane = await startL4Plane(ir);
  });
  after(async () => {
    await plane.close();
    await Promise.all(echoes.map((e) => e.close()));
  });

  test('the TCP echo exchange through the gateway', async () => {
    const s = await connectTcp(plane.port('echo'));
    const lines = new LineReader(s);
    assert.equal(await lines.next(), 'Gateway API Test TCP Server');
    s.write('PING\n');
    assert.equal(await lines.next(), 'PONG');
    s.write('IS_TLS\n');
    assert.equal(await lines.next(), 'false');
    s.write('TEST\n');
    const reply = JSON.parse((await lines.next()) ?? '') as TcpEchoTestReply;
    assert.equal(reply.pod, 'one-a-b');
    assert.equal(reply.namespace, 'default');
    assert.equal(reply.isTLS, false);
    s.destroy();
  });

  test('the bound sockets are reported as tcp; applying the same IR again keeps them', async () => {
    const result = await plane.dp.apply(ir);
    assert.deepEqual(new Set(result.bound.map((b) => b.protocol)), new Set(['tcp']));
    assert.equal(result.bound.length, 7);
    assert.deepEqual(result.errors, []);
    assert.equal(await whoAnswers(plane.port('echo')), 'one-a-b');
  });

  test('a listener with two routes serves the first only', async () => {
    for (let i = 0; i < 10; i++) assert.equal(await whoAnswers(plane.port('first-route')), 'two-a-b');
  });

  test('weighted split per connection (3:1:0 over 400 connections)', async () => {
    const counts = new Map<string, number>();
    const port = plane.port('weighted');
    for (let batch = 0; batch < 40; batch++) {
      const pods = await Promise.all(Array.from({ length: 10 }, () => whoAnswers(port)));
      for (const p of pods) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const one = counts.get('one-a-b') ?? 0;
    const two = counts.get('two-a-b') ?? 0;
    assert.equal(counts.get('three-a-b'), undefined, 'a weight-0 backend gets nothing');
    assert.equal(one + two, 400);
    // 0.75 expected; ±0.1 is more than 5 standard deviations at n = 400.
    assert.ok(Math.abs(one / 400 - 0.75) < 0.1, `one got ${one}/400`);
  });

  test('connect failure, invalid backend, no endpoints, no route: the client is closed', async () => {
    for (const name of ['dead', 'invalid', 'empty', 'no-route']) {
      const s = await connectTcp(plane.port(name));
      const how = await closedByPeer(s);
      assert.ok(['end', 'reset', 'close'].includes(how), name);
      s.destroy();
    }
  });
});

describe('TCP half-close and idle timeout', () => {
  let backend: net.Server;
  let plane: L4Plane;

  before(async () => {
    // Answers only once the client has finished sending: a request/response over half-close.
    backend = net.createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('end', () => {
        setTimeout(() => s.end(`got ${got.length} bytes: ${got.slice(0, 5)}`), 50);
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => backend.listen(0, LOOPBACK, r));
    const port = (backend.address() as net.AddressInfo).port;
    plane = await startL4Plane(irOf(tcpListener('half', [l4Route([l4Backend('half', [port])])])), {
      tcpIdleTimeoutMs: 300,
    });
  });
  after(async () => {
    await plane.close();
    await closeServer(backend);
  });

  test("the client's FIN reaches the backend and the answer still comes back", async () => {
    const s = await connectTcp(plane.port('half'));
    const all = readAll(s);
    const big = 'hello'.repeat(200_000); // 1 MB: backpressure on the way in
    s.end(big);
    assert.equal(await all, `got ${big.length} bytes: hello`);
  });

  test('a connection idle in both directions is closed after tcpIdleTimeoutMs', async () => {
    const s = await connectTcp(plane.port('half'));
    const t0 = Date.now();
    await closedByPeer(s, 3000);
    const waited = Date.now() - t0;
    assert.ok(waited >= 250 && waited < 2500, `closed after ${waited} ms`);
  });
});

describe('TCP listeners and configuration changes', () => {
  test('a removed listener stops accepting; its connections get the grace period, then are cut', async () => {
    const echo = await startTcpEcho({ pod: 'drain-a-b' });
    const ir = irOf(tcpListener('drain', [l4Route([l4Backend('drain', [echo.port])])]));
    const plane = await startL4Plane(ir, { removedListenerGraceMs: 400 });
    try {
      const port = plane.port('drain');
      const s = await connectTcp(port);
      const lines = new LineReader(s);
      assert.equal(await lines.next(), 'Gateway API Test TCP Server');
      const t0 = Date.now();
      await plane.dp.apply(irOf());
      await assert.rejects(connectTcp(port), /ECONNREFUSED/);
      s.write('PING\n');
      assert.equal(await lines.next(), 'PONG', 'still served during the grace period');
      assert.equal(await lines.next(), null, 'cut when the grace period ends');
      assert.ok(Date.now() - t0 >= 350, `cut after ${Date.now() - t0} ms`);
    } finally {
      await plane.close();
      await echo.close();
    }
  });
});

describe('PROXY protocol on TCP listeners', () => {
  let backend: Awaited<ReturnType<typeof proxyAwareBackend>>;
  let plane: L4Plane;

  before(async () => {
    backend = await proxyAwareBackend();
    plane = await startL4Plane(
      irOf(
        tcpListener('v1', [l4Route([l4Backend('pp', [backend.port], { proxyProtocol: { version: 'V1' } })])]),
        tcpListener('v2', [l4Route([l4Backend('pp', [backend.port], { proxyProtocol: { version: 'V2' } })])]),
        tcpListener('from-client', [l4Route([l4Backend('pp', [backend.port], { proxyProtocol: { version: 'V1' } })])], {
          enableProxyProtocol: true,
        }),
        tcpListener('optional', [l4Route([l4Backend('pp', [backend.port], { proxyProtocol: { version: 'V1' } })])], {
          enableProxyProtocol: true,
          proxyProtocolOptional: true,
        }),
      ),
      { l4PreambleTimeoutMs: 500 },
    );
  });
  after(async () => {
    await plane.close();
    await closeServer(backend.server);
  });

  test('v1 and v2 headers towards the backend carry the client and gateway addresses', async () => {
    for (const v of ['v1', 'v2'] as const) {
      const s = await connectTcp(plane.port(v));
      const localPort = s.localPort;
      const reply = readAll(s);
      s.end('hi');
      assert.equal(await reply, 'ok hi');
      const h = backend.headers.at(-1)!;
      assert.equal(h.version, v === 'v1' ? 1 : 2);
      assert.equal(h.addresses?.source.address, LOOPBACK);
      assert.equal(h.addresses?.source.port, localPort);
      assert.equal(h.addresses?.destination.port, plane.port(v));
    }
  });

  test("a listener with enableProxyProtocol reads the client's header and passes its addresses on", async () => {
    const s = await connectTcp(plane.port('from-client'));
    const reply = readAll(s);
    const header = encodeV2({
      addresses: {
        family: 'IPv4',
        source: { address: '203.0.113.7', port: 40000 },
        destination: { address: '198.51.100.9', port: 9000 },
      },
    });
    // Header and payload in separate segments: the decoder must wait for the whole header.
    s.write(header.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    s.end(Buffer.concat([header.subarray(10), Buffer.from('payload')]));
    assert.equal(await reply, 'ok payload');
    const h = backend.headers.at(-1)!;
    assert.equal(h.version, 1);
    assert.deepEqual(h.addresses?.source, { address: '203.0.113.7', port: 40000 });
    assert.deepEqual(h.addresses?.destination, { address: '198.51.100.9', port: 9000 });
  });

  test('without a header, or with a bad one, the client is closed', async () => {
    const before = backend.headers.length;
    const bad = await connectTcp(plane.port('from-client'));
    bad.write('GET / HTTP/1.1\r\n\r\n');
    await closedByPeer(bad);
    const silent = await connectTcp(plane.port('from-client'));
    await closedByPeer(silent, 2000); // l4PreambleTimeoutMs
    assert.equal(backend.headers.length, before);
  });

  test("proxyProtocol.optional: with a header its addresses are used, without one the socket's; a bad one is refused", async () => {
    const withHeader = await connectTcp(plane.port('optional'));
    let reply = readAll(withHeader);
    withHeader.end('PROXY TCP4 203.0.113.8 198.51.100.9 40001 9000\r\nwith');
    assert.equal(await reply, 'ok with');
    assert.deepEqual(backend.headers.at(-1)!.addresses?.source, { address: '203.0.113.8', port: 40001 });

    const without = await connectTcp(plane.port('optional'));
    const localPort = without.localPort;
    reply = readAll(without);
    without.end('PRIVMSG without'); // starts like "PROXY " for two bytes only
    assert.equal(await reply, 'ok PRIVMSG without');
    assert.deepEqual(backend.headers.at(-1)!.addresses?.source, { address: LOOPBACK, port: localPort });

    const before = backend.headers.length;
    const bad = await connectTcp(plane.port('optional'));
    bad.write('PROXY TCP4 nonsense\r\n');
    await closedByPeer(bad);
    assert.equal(backend.headers.length, before);
  });
});
