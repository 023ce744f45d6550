import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import type { IR } from '../../../src/ir/types.ts';
import { buildDnsQuery, parseDnsReply, startDnsResponder } from '../../support/dns-responder.ts';
import { bindUdp, startUdpEcho, type RunningUdp, type UdpEchoReply } from '../../support/udp-echo.ts';
import {
  freeUdpPort,
  irOf,
  l4Backend,
  l4Route,
  startL4Plane,
  udpExchange,
  udpListener,
  type L4Plane,
} from './l4-helpers.ts';

const udp = (name: string, ports: number[], weight = 1): ReturnType<typeof l4Backend> =>
  l4Backend(name, ports, { protocol: 'udp', weight });

describe('UDP listeners (UDPRoute)', () => {
  const echoes: RunningUdp[] = [];
  let dns: RunningUdp;
  let plane: L4Plane;
  let ir: IR;

  before(async () => {
    for (const pod of ['v1-a-b', 'v2-a-b']) {
      echoes.push(await startUdpEcho({ pod, namespace: 'default', service: 'udp-echo' }));
    }
    dns = await startDnsResponder();
    const [v1, v2] = echoes.map((e) => e.port);
    ir = irOf(
      udpListener('echo', [l4Route([udp('v1', [v1])], 'UDPRoute'), l4Route([udp('v2', [v2])], 'UDPRoute')]),
      udpListener('dns', [l4Route([udp('coredns', [dns.port])], 'UDPRoute')]),
      udpListener('dead', [l4Route([udp('dead', [await freeUdpPort()])], 'UDPRoute')]),
    );
    plane = await startL4Plane(ir);
    assert.deepEqual(plane.errors, []);
  });
  after(async () => {
    await plane.close();
    await Promise.all([...echoes, dns].map((e) => e.close()));
  });

  test('a datagram is echoed back through the listener socket (first route only)', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = JSON.parse(
        (await udpExchange(plane.port('echo'), 'gateway-api-conformance-udp-echo')).toString(),
      ) as UdpEchoReply;
      assert.equal(reply.request, 'gateway-api-conformance-udp-echo');
      assert.equal(reply.service, 'udp-echo');
      assert.equal(reply.namespace, 'default');
      assert.equal(reply.pod, 'v1-a-b');
    }
  });

  test('the listener sockets are reported as udp; applying the same IR again keeps them', async () => {
    const result = await plane.dp.apply(ir);
    assert.deepEqual(
      result.bound.map((b) => b.protocol),
      ['udp', 'udp', 'udp'],
    );
    assert.equal(result.bound[0].boundPort, plane.port('echo'));
  });

  test('a DNS query through the gateway gets an answer', async () => {
    const id = 0x1234;
    const raw = await udpExchange(plane.port('dns'), buildDnsQuery('foo.bar.com.', id));
    const reply = parseDnsReply(raw);
    assert.ok(reply, 'a DNS response');
    assert.equal(reply.id, id);
    assert.equal(reply.rcode, 0);
    // whoami-style: the address the responder saw, i.e. the gateway's upstream socket.
    assert.deepEqual(reply.addresses, ['127.0.0.1']);
  });

  test('a backend port with nobody behind it: no reply, and the listener keeps serving', async () => {
    await assert.rejects(udpExchange(plane.port('dead'), 'x', undefined, 300), /timed out/);
    const reply = await udpExchange(plane.port('dns'), buildDnsQuery('foo.bar.com', 7));
    assert.equal(parseDnsReply(reply)?.id, 7);
  });
});

describe('UDP sessions', () => {
  const echoes: RunningUdp[] = [];
  let sourcePort: RunningUdp;
  let plane: L4Plane;

  before(async () => {
    for (const pod of ['v1-a-b', 'v2-a-b', 'v3-a-b']) echoes.push(await startUdpEcho({ pod }));
    sourcePort = await bindUdp(undefined, undefined, (s, _msg, rinfo) =>
      s.send(String(rinfo.port), rinfo.port, rinfo.address),
    );
    const [v1, v2, v3] = echoes.map((e) => e.port);
    plane = await startL4Plane(
      irOf(
        udpListener('weighted', [l4Route([udp('v1', [v1], 7), udp('v2', [v2], 3), udp('v3', [v3], 0)], 'UDPRoute')]),
        udpListener('sessions', [l4Route([udp('source', [sourcePort.port])], 'UDPRoute')]),
      ),
      { udpSessionIdleMs: 300 },
    );
  });
  after(async () => {
    await plane.close();
    await Promise.all([...echoes, sourcePort].map((e) => e.close()));
  });

  test('weighted per session: 7:3:0 over 500 client sockets', async () => {
    const counts = new Map<string, number>();
    for (let batch = 0; batch < 50; batch++) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => udpExchange(plane.port('weighted'), 'w')));
      for (const r of replies) {
        const pod = (JSON.parse(r.toString()) as UdpEchoReply).pod;
        counts.set(pod, (counts.get(pod) ?? 0) + 1);
      }
    }
    assert.equal(counts.get('v3-a-b'), undefined, 'weight 0 gets nothing');
    const v1 = counts.get('v1-a-b') ?? 0;
    assert.ok(Math.abs(v1 / 500 - 0.7) < 0.1, `v1 got ${v1}/500`);
  });

  test('one client keeps its session; after udpSessionIdleMs of silence it gets a new one', async () => {
    const client = await boundClient();
    try {
      const port = plane.port('sessions');
      const first = (await udpExchange(port, 'a', client)).toString();
      // Within the idle time: the same upstream socket (same source port at the backend).
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 100));
        assert.equal((await udpExchange(port, 'b', client)).toString(), first);
      }
      await new Promise((r) => setTimeout(r, 600));
      const after = (await udpExchange(port, 'c', client)).toString();
      assert.notEqual(after, first, 'the idle session expired and a new upstream socket was opened');
    } finally {
      client.close();
    }
  });

  test('sessions are bounded per listener: datagrams that would open one more are dropped', async () => {
    const small = await startL4Plane(irOf(udpListener('small', [l4Route([udp('v1', [echoes[0].port])], 'UDPRoute')])), {
      udpMaxSessions: 2,
    });
    const clients = await Promise.all([0, 1, 2].map(() => boundClient()));
    try {
      const port = small.port('small');
      await udpExchange(port, 'a', clients[0]);
      await udpExchange(port, 'b', clients[1]);
      await assert.rejects(udpExchange(port, 'c', clients[2], 300), /timed out/);
      // Known clients still get through.
      await udpExchange(port, 'd', clients[0]);
    } finally {
      for (const c of clients) c.close();
      await small.close();
    }
  });
});

describe('UDP and configuration changes', () => {
  test('a session whose endpoint a new IR no longer has ends; its client moves to the new backend', async () => {
    const [a, b] = [await startUdpEcho({ pod: 'a-x-y' }), await startUdpEcho({ pod: 'b-x-y' })];
    const ir = (port: number): IR => irOf(udpListener('swap', [l4Route([udp('x', [port])], 'UDPRoute')]));
    const first = ir(a.port);
    const plane = await startL4Plane(first);
    const client = await boundClient();
    try {
      const port = plane.port('swap');
      const pod = async (): Promise<string> =>
        (JSON.parse((await udpExchange(port, 'p', client)).toString()) as UdpEchoReply).pod;
      assert.equal(await pod(), 'a-x-y');
      const next = ir(b.port);
      next.gateways[0].listeners[0].port = first.gateways[0].listeners[0].port;
      await plane.dp.apply(next);
      assert.equal(await pod(), 'b-x-y');
    } finally {
      client.close();
      await plane.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

async function boundClient(): Promise<dgram.Socket> {
  const c = dgram.createSocket('udp4');
  await new Promise<void>((r) => c.bind(0, '127.0.0.1', r));
  return c;
}
