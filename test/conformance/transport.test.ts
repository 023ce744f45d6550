/**
 * The runner's TLS, gRPC, TCP and UDP clients and their judging
 * (EXTRA-KINDS.md 1-2, TRANSPORT-KINDS.md 3.5, 6.1-6.4), on real sockets:
 * the echo servers of test/support stand in for the gateway (a fake status
 * document points the checks at them).
 */
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer, type SecureVersion, type Server as TlsServer } from 'node:tls';
import type { KubeObject } from '../../src/api/object.ts';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import { startDnsResponder } from '../support/dns-responder.ts';
import { startEchoServer, type EchoServer } from '../support/echo/server.ts';
import { startGrpcEchoServer, type GrpcEchoServer } from '../support/grpc-echo/server.ts';
import { startTcpEcho, type RunningTcpEcho } from '../support/tcp-echo.ts';
import { startUdpEcho, type RunningUdp } from '../support/udp-echo.ts';
import type { Check, GeneratedSecretSpec } from './case-types.ts';
import { SecretFactory } from './generated-secrets.ts';
import type { TrafficContext } from './traffic/context.ts';
import type { TryResult } from './traffic/eventually.ts';
import { sendHttp } from './traffic/http-client.ts';
import { runTrafficCheck } from './traffic/run-traffic.ts';
import {
  connectTls,
  goCheckServerIdentity,
  goMatchHostname,
  HandshakeProbe,
  parseSubjectAltNames,
} from './traffic/tls-client.ts';
import { hkdfExpandLabel, observeServerFlight } from './traffic/tls-handshake.ts';
import {
  judgeGrpc,
  judgeTcpExchange,
  judgeUdpReply,
  metadataMismatch,
  rejectedVerdict,
} from './traffic/transport-judge.ts';

const NS = 'gateway-conformance-infra';
const GW = { namespace: NS, name: 'gw' };
const EC = 'ECDSA P-256';

const SPECS: GeneratedSecretSpec[] = [
  { kind: 'ConfigMap', namespace: NS, name: 'ca', keys: ['ca.crt'], isCA: true, selfSigned: true, key: EC },
  { kind: 'ConfigMap', namespace: NS, name: 'other-ca', keys: ['ca.crt'], isCA: true, selfSigned: true, key: EC },
  {
    kind: 'Secret',
    namespace: NS,
    name: 'server',
    signedBy: { kind: 'ConfigMap', namespace: NS, name: 'ca' },
    dnsNames: ['abc.example.com'],
    key: EC,
  },
  { kind: 'Secret', namespace: NS, name: 'validity', selfSigned: true, hosts: ['*.org', '*'], key: EC },
  {
    kind: 'Secret',
    namespace: NS,
    name: 'client',
    signedBy: { kind: 'ConfigMap', namespace: NS, name: 'ca' },
    extKeyUsage: ['clientAuth'],
    key: EC,
  },
  {
    kind: 'Secret',
    namespace: NS,
    name: 'stranger',
    signedBy: { kind: 'ConfigMap', namespace: NS, name: 'other-ca' },
    extKeyUsage: ['clientAuth'],
    key: EC,
  },
];

let factory: SecretFactory;
let objects: KubeObject[];

function pem(name: string, key = 'tls.crt'): string {
  const o = objects.find((x) => x.metadata.name === name)!;
  const data = (o as unknown as { data: Record<string, string> }).data;
  return o.kind === 'Secret' ? Buffer.from(data[key], 'base64').toString('utf8') : data[key];
}

before(() => {
  factory = new SecretFactory(new Map());
  objects = factory.objectsFor(SPECS);
});
after(() => factory.dispose());

/** A context whose Gateway `gw` lives at `address`; listener ports are the real ports (offset 0). */
function ctxAt(address = '127.0.0.1'): TrafficContext {
  const doc = {
    resources: [{ kind: 'Gateway', metadata: GW, status: { addresses: [{ type: 'IPAddress', value: address }] } }],
  } as unknown as StatusDocument;
  return {
    status: () => Promise.resolve(doc),
    fleet: { count: () => Promise.resolve(0) },
    lookup: (kind, namespace, name) =>
      objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name),
    portOffset: 0,
    settleMs: 400,
  };
}

/** Runs a check; a pass reads `{ ok: true }` whatever else the last try carried. */
async function run(check: Record<string, unknown>, ctx = ctxAt()): Promise<TryResult> {
  const r = await runTrafficCheck({ gateway: GW, timeoutSeconds: 5, ...check } as unknown as Check, ctx);
  return r.ok ? { ok: true } : r;
}

function reason(r: TryResult): string {
  return r.ok ? '' : r.reason;
}

function port(server: NetServer | TlsServer): number {
  return (server.address() as AddressInfo).port;
}

function listen<S extends NetServer | TlsServer>(server: S): Promise<S> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// --- TLS ----------------------------------------------------------------------------------

describe('TLS handshake observation (expectCertificateRequest)', () => {
  test('HKDF-Expand-Label: the RFC 8448 server handshake key and iv', () => {
    const secret = Buffer.from('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38', 'hex');
    assert.equal(hkdfExpandLabel('sha256', secret, 'key', 16).toString('hex'), '3fce516009c21727d0f2e4e86ee403bc');
    assert.equal(hkdfExpandLabel('sha256', secret, 'iv', 12).toString('hex'), '5d313eb2671276ee13000b30');
  });

  test('no ServerHello, or an encrypted flight without its key, is "unknown", never a yes or no', () => {
    assert.match(observeServerFlight(Buffer.alloc(0), []).unknown ?? '', /no ServerHello/);
    assert.match(observeServerFlight(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), []).unknown ?? '', /ServerHello/);
  });

  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as SecureVersion[])
    for (const requestCert of [true, false])
      test(`${maxVersion}: a server that ${requestCert ? 'asks' : 'does not ask'} for a client certificate`, async () => {
        const server = await listen(
          createTlsServer(
            { cert: pem('server'), key: pem('server', 'tls.key'), maxVersion, requestCert, ca: pem('ca', 'ca.crt') },
            (s) => s.end('hi'),
          ),
        );
        try {
          for (const withCert of [true, false]) {
            const probe = new HandshakeProbe();
            const client = withCert ? { cert: pem('client'), key: pem('client', 'tls.key') } : {};
            try {
              const s = await connectTls(
                '127.0.0.1',
                port(server),
                { serverName: 'abc.example.com', ca: pem('ca', 'ca.crt'), probe, ...client },
                3000,
              );
              s.destroy();
            } catch {
              // Without a certificate the server may end the handshake: what it sent before still counts.
            }
            assert.deepEqual(probe.observe(), {
              version: maxVersion === 'TLSv1.3' ? 'TLS1.3' : 'TLS1.2',
              certificateRequested: requestCert,
            });
          }
        } finally {
          server.close();
        }
      });
});

describe("TLS client: Go's verification rules", () => {
  test('hostname patterns: `*` is a whole leftmost label, `*.org` allowed, label counts equal', () => {
    assert.equal(goMatchHostname('*.org', 'example.org'), true);
    assert.equal(goMatchHostname('*.org', 'a.example.org'), false);
    assert.equal(goMatchHostname('*.wildcard.org', 'Fourth.Wildcard.org.'), true);
    assert.equal(goMatchHostname('f*.wildcard.org', 'foo.wildcard.org'), false);
    assert.equal(goMatchHostname('abc.example.com', 'abc.example.com'), true);
  });

  test('SANs as Node prints them; IP hosts only match IP SANs; the CN is never used', () => {
    assert.deepEqual(parseSubjectAltNames('DNS:*.org, DNS:x.y, URI:*, IP Address:127.0.0.1, URI:"a,b"'), {
      dns: ['*.org', 'x.y'],
      ip: ['127.0.0.1'],
      uri: ['*', 'a,b'],
    });
    const cert = { subjectaltname: 'DNS:a.test, IP Address:10.0.0.1', subject: { CN: 'b.test' } };
    assert.equal(goCheckServerIdentity('a.test', cert as never), undefined);
    assert.ok(goCheckServerIdentity('b.test', cert as never));
    assert.equal(goCheckServerIdentity('10.0.0.1', cert as never), undefined);
    assert.ok(goCheckServerIdentity('10.0.0.2', cert as never));
  });

  test('a self-signed `*.org` leaf as the only root; a CA-signed leaf trusted directly (partial chain)', async () => {
    const selfSigned = await listen(
      createTlsServer({ cert: pem('validity'), key: pem('validity', 'tls.key') }, (s) => s.end()),
    );
    const signed = await listen(
      createTlsServer({ cert: pem('server'), key: pem('server', 'tls.key') }, (s) => s.end()),
    );
    try {
      const ok = async (p: number, serverName: string, ca: string): Promise<string> => {
        try {
          (await connectTls('127.0.0.1', p, { serverName, ca }, 3000)).destroy();
          return 'ok';
        } catch (err) {
          return (err as Error).message;
        }
      };
      assert.equal(await ok(port(selfSigned), 'example.org', pem('validity')), 'ok');
      assert.match(await ok(port(selfSigned), 'a.example.org', pem('validity')), /not a\.example\.org/);
      assert.equal(await ok(port(signed), 'abc.example.com', pem('ca', 'ca.crt')), 'ok');
      assert.equal(await ok(port(signed), 'abc.example.com', pem('server')), 'ok');
      assert.match(await ok(port(signed), 'abc.example.com', pem('other-ca', 'ca.crt')), /certificate/i);
    } finally {
      selfSigned.close();
      signed.close();
    }
  });
});

describe('https and HTTP/2 checks against the TLS echo', () => {
  let echo: EchoServer;
  let strict: EchoServer;
  before(async () => {
    const identity = { pod: 'tls-backend-abc-def', namespace: NS };
    echo = await startEchoServer({
      identity,
      host: '127.0.0.1',
      tls: { cert: pem('validity'), key: pem('validity', 'tls.key'), clientCa: pem('ca', 'ca.crt') },
    });
    strict = await startEchoServer({
      identity,
      host: '127.0.0.1',
      tls: { cert: pem('validity'), key: pem('validity', 'tls.key') },
    });
  });
  after(async () => {
    await echo.close();
    await strict.close();
  });

  const base = {
    kind: 'http',
    scheme: 'https',
    trust: { kind: 'Secret', namespace: NS, name: 'validity', key: 'tls.crt' },
    request: { method: 'GET', host: 'example.org', path: '/', sni: 'example.org' },
    response: { statusCode: 200 },
    backend: 'tls-backend',
    namespace: NS,
  };
  const clientCertificate = { kind: 'Secret', namespace: NS, name: 'client', certKey: 'tls.crt', keyKey: 'tls.key' };

  test('client certificate presented when asked, seen by the backend, the request for it observed', async () => {
    const r = await run({
      ...base,
      listenerPort: echo.httpsPort,
      clientCertificate,
      expectCertificateRequest: true,
      expectedRequest: {
        host: 'example.org',
        sni: 'example.org',
        clientCertificate: { kind: 'Secret', namespace: NS, name: 'client', key: 'tls.crt' },
      },
    });
    assert.deepEqual(r, { ok: true });
  });

  test('expectCertificateRequest fails against a server that does not ask', async () => {
    const r = await run({ ...base, listenerPort: strict.httpsPort, clientCertificate, expectCertificateRequest: true });
    assert.match(reason(r), /did not request a client certificate/);
  });

  test('expectConnectionFailure: a certificate from another CA is refused; an HTTP answer fails', async () => {
    const refused = await run({
      ...base,
      listenerPort: echo.httpsPort,
      clientCertificate: { ...clientCertificate, name: 'stranger' },
      expectCertificateRequest: true,
      expectConnectionFailure: true,
    });
    assert.deepEqual(refused, { ok: true });
    const answered = await run({ ...base, listenerPort: strict.httpsPort, expectConnectionFailure: true });
    assert.match(reason(answered), /got an HTTP response \(200\)/);
  });

  test('the wrong trust or server name is a failed try', async () => {
    const r = await run({ ...base, listenerPort: strict.httpsPort, request: { ...base.request, sni: 'a.b.org' } });
    assert.match(reason(r), /not a\.b\.org/);
  });

  test('request.protocol H2 negotiates h2 over TLS; HTTP stays HTTP/1.1 without ALPN', async () => {
    const h2 = await run({
      ...base,
      listenerPort: strict.httpsPort,
      request: { ...base.request, protocol: 'H2' },
      response: { statusCode: 200, protocol: 'HTTP/2.0' },
    });
    assert.deepEqual(h2, { ok: true });
    const res = await sendHttp(
      { address: '127.0.0.1', port: strict.httpsPort! },
      {
        method: 'GET',
        path: '/',
        host: 'example.org',
        headers: [],
        protocol: 'HTTP',
        timeoutMs: 3000,
        tls: { serverName: 'example.org', ca: pem('validity') },
      },
    );
    assert.equal(res.protocol, 'HTTP/1.1');
    assert.equal((JSON.parse(res.body) as { tls: { negotiatedProtocol?: string } }).tls.negotiatedProtocol, undefined);
  });
});

// --- gRPC ---------------------------------------------------------------------------------

describe('grpc checks', () => {
  let server: GrpcEchoServer;
  const SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
  before(async () => {
    server = await startGrpcEchoServer({ identity: { pod: 'grpc-infra-backend-v1-abc-def', namespace: NS } });
  });
  after(() => server.close());

  const check = (extra: Record<string, unknown>): Record<string, unknown> => ({
    kind: 'grpc',
    listenerPort: server.port,
    transport: 'h2c',
    request: { service: SERVICE, method: 'Echo', authority: 'foo.example.com', metadata: { 'x-a': 'one' } },
    response: { code: 'OK' },
    backend: 'grpc-infra-backend-v1',
    namespace: NS,
    ...extra,
  });

  test('OK: method, backend, namespace and metadata', async () => {
    assert.deepEqual(await run(check({ expectedRequestMetadata: { 'x-a': 'one', ':authority': 'foo.example.com' } })), {
      ok: true,
    });
  });

  test('a wrong backend, or metadata the backend did not see, fail', async () => {
    assert.match(reason(await run(check({ backend: 'grpc-infra-backend-v2' }))), /want backend grpc-infra-backend-v2/);
    assert.match(
      reason(await run(check({ expectedRequestMetadata: { 'x-b': 'two' }, metadataCheckedUpstream: false }))),
      /did not see metadata x-b .*never checks/,
    );
  });

  test('EchoThree is Unimplemented; codeNot OK fails at once on an OK', async () => {
    const three = { ...check({}), request: { service: SERVICE, method: 'EchoThree' } };
    assert.deepEqual(await run({ ...three, response: { code: 'Unimplemented' } }), { ok: true });
    assert.deepEqual(await run({ ...three, response: { codeNot: 'OK' } }), { ok: true });
    const started = Date.now();
    const ok = await run(check({ response: { codeNot: 'OK' } }));
    assert.match(reason(ok), /want any status but OK/);
    assert.ok(Date.now() - started < 1000, 'fatal: no retries');
  });

  test('weights over gRPC: one session, every call judged, shares compared', async () => {
    const w = {
      kind: 'weights',
      protocol: 'grpc',
      listenerPort: server.port,
      transport: 'h2c',
      request: { service: SERVICE, method: 'Echo' },
      requests: 40,
      concurrency: 8,
      tolerance: 0.05,
      entropy: 'x-jitter',
    };
    assert.deepEqual(await run({ ...w, expected: { 'grpc-infra-backend-v1': 1, 'grpc-infra-backend-v2': 0 } }), {
      ok: true,
    });
    assert.match(
      reason(await run({ ...w, expected: { 'grpc-infra-backend-v1': 0.5, 'grpc-infra-backend-v2': 0.5 } })),
      /^grpc: 1 backends answered, want 2/,
    );
  });

  test("pure judging: the HTTP-to-gRPC mapping is the client's; metadata lists match entries or joined values", () => {
    const c = check({}) as never;
    assert.equal(judgeGrpc(c, { code: 14, message: 'x' }).ok, false);
    assert.equal(metadataMismatch({ a: ['1', '2'] }, [{ key: 'A', value: '1,2' }]), undefined);
    assert.equal(
      metadataMismatch({ a: ['1', '2'] }, [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ]),
      undefined,
    );
    assert.match(metadataMismatch({ a: '3' }, [{ key: 'a', value: '1' }]) ?? '', /want "3"/);
  });
});

// --- TCP and TLS ------------------------------------------------------------------------

describe('tcp and tls checks against the TCP echo', () => {
  let echo: RunningTcpEcho;
  before(async () => {
    echo = await startTcpEcho({
      pod: 'tcp-backend-abc-def',
      namespace: NS,
      tls: { cert: pem('server'), key: pem('server', 'tls.key') },
    });
  });
  after(() => echo.close());

  const tcp = (extra: Record<string, unknown>): Record<string, unknown> => ({
    kind: 'tcp',
    listenerPort: echo.port,
    request: { exchange: 'full' },
    response: { backendIsTLS: false },
    backend: 'tcp-backend',
    namespace: NS,
    ...extra,
  });

  test('the full exchange, then samples', async () => {
    assert.deepEqual(await run(tcp({ samples: 5, sampleTimeoutSeconds: 2 })), { ok: true });
  });

  test('a complete exchange with wrong answers fails at once; a prefix needs the `-`', async () => {
    const started = Date.now();
    assert.match(reason(await run(tcp({ response: { backendIsTLS: true } }))), /IS_TLS answered "false"/);
    assert.match(reason(await run(tcp({ backend: 'tcp-back' }))), /want backend tcp-back \(1 tries/);
    assert.ok(Date.now() - started < 1000, 'no retries');
    assert.match(
      reason(await run(tcp({ samples: 3, backend: 'tcp-back', request: { exchange: 'test' } }))),
      /sample 1 of 3 answered by pod tcp-backend-abc-def/,
    );
  });

  test('nothing listening is retried until the time runs out', async () => {
    const closed = await listen(createNetServer());
    const p = port(closed);
    closed.close();
    assert.match(reason(await run(tcp({ listenerPort: p, timeoutSeconds: 1 }))), /ECONNREFUSED/);
  });

  test('tls with a tcp-echo payload: verified against the CA for the SNI, backend sees TLS and the name', async () => {
    const r = await run({
      kind: 'tls',
      listenerPort: echo.tlsPort,
      tlsMode: 'Passthrough',
      request: {
        sni: 'abc.example.com',
        trust: { kind: 'ConfigMap', namespace: NS, name: 'ca', key: 'ca.crt' },
        minVersion: 'TLS1.2',
        payload: 'tcp-echo',
        exchange: 'full',
      },
      response: { backendIsTLS: true, backendServerName: 'abc.example.com' },
      backend: 'tcp-backend',
      namespace: NS,
    });
    assert.deepEqual(r, { ok: true });
  });

  test('tls rejected: a close or reset after the ClientHello passes; a completed handshake does not', async () => {
    const cutter = await listen(createNetServer((s) => s.once('data', () => s.destroy())));
    // A plain TLS server (the TCP echo keeps a connection cut right after the handshake half-open, so its close would hang).
    const finisher = await listen(
      createTlsServer({ cert: pem('server'), key: pem('server', 'tls.key') }, (s) => s.end()),
    );
    try {
      const rejected = {
        kind: 'tls',
        request: { sni: 'example.com', trust: 'system', minVersion: 'TLS1.2' },
        response: { rejected: true },
        timeoutSeconds: 1,
      };
      assert.deepEqual(await run({ ...rejected, listenerPort: port(cutter) }), { ok: true });
      const served = await run({
        ...rejected,
        listenerPort: port(finisher),
        request: {
          ...rejected.request,
          sni: 'abc.example.com',
          trust: { kind: 'ConfigMap', namespace: NS, name: 'ca' },
        },
      });
      assert.match(reason(served), /handshake completed/);
    } finally {
      cutter.close();
      finisher.close();
    }
    assert.equal(rejectedVerdict({ error: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }).ok, false);
    assert.equal(rejectedVerdict({ error: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }).ok, true);
  });

  test('weights over TCP: one connection per sample', async () => {
    const w = {
      kind: 'weights',
      protocol: 'tcp',
      listenerPort: echo.port,
      request: { exchange: 'test' },
      requests: 20,
    };
    assert.deepEqual(await run({ ...w, concurrency: 4, tolerance: 0, expected: { 'tcp-backend': 1, other: 0 } }), {
      ok: true,
    });
  });

  test('pure judging of an exchange', () => {
    const got = {
      welcome: 'Gateway API Test TCP Server',
      pong: 'PONG',
      isTls: 'true',
      test: JSON.stringify({ namespace: NS, pod: 'tcp-backend-a-b', tls: { serverName: 'x' } }),
    };
    const c = { request: { exchange: 'full' }, backend: 'tcp-backend', namespace: NS };
    assert.deepEqual(judgeTcpExchange({ ...c, response: { backendIsTLS: true, backendServerName: 'x' } }, got), {
      ok: true,
      pod: 'tcp-backend-a-b',
    });
    assert.match(
      (judgeTcpExchange({ ...c, response: { backendServerName: 'y' } }, got) as { reason: string }).reason,
      /TLS server name "x"/,
    );
    assert.equal(judgeTcpExchange(c, { ...got, welcome: 'hello' }).ok, false);
  });
});

// --- UDP ------------------------------------------------------------------------------------

describe('udp checks', () => {
  let echo: RunningUdp;
  let dns: RunningUdp;
  before(async () => {
    echo = await startUdpEcho({ pod: 'udp-backend-v1-abc-def', namespace: NS, service: 'udp-backend-v1' });
    dns = await startDnsResponder();
  });
  after(async () => {
    await echo.close();
    await dns.close();
  });

  const udp = (extra: Record<string, unknown>): Record<string, unknown> => ({
    kind: 'udp',
    listenerPort: echo.port,
    request: { payload: 'gateway-api-conformance-udp-echo' },
    ...extra,
  });

  test('any reply passes without expectations; service, namespace and backend are compared', async () => {
    assert.deepEqual(await run(udp({})), { ok: true });
    assert.deepEqual(await run(udp({ service: 'udp-backend-v1', namespace: NS })), { ok: true });
    assert.match(reason(await run(udp({ service: 'udp-backend-v2', timeoutSeconds: 1 }))), /want udp-backend-v2/);
  });

  test('samples: every datagram answered by the backend; another backend fails at once', async () => {
    assert.deepEqual(await run(udp({ samples: 5, backend: 'udp-backend-v1', probeTimeoutSeconds: 2 })), { ok: true });
    assert.match(
      reason(await run(udp({ samples: 5, backend: 'udp-backend-v2', probeTimeoutSeconds: 2 }))),
      /datagram 1 of 5: answered by pod/,
    );
  });

  test('no reply within the probe timeout is a failed try', async () => {
    const silent = await startUdpEcho({ port: 0 });
    const p = silent.port;
    await silent.close();
    const r = await run(udp({ listenerPort: p, probeTimeoutSeconds: 0.2, timeoutSeconds: 1 }));
    assert.match(reason(r), /no reply|ECONNREFUSED/);
  });

  test('a DNS query passes on a well-formed DNS reply', async () => {
    const q = { request: { dnsQuery: { name: 'foo.bar.com.', type: 'A' } }, response: { dnsResponse: true } };
    assert.deepEqual(await run({ kind: 'udp', listenerPort: dns.port, ...q }), { ok: true });
    assert.equal(judgeUdpReply({ ...q }, Buffer.from('{}'), () => false).ok, false);
  });

  test('weights over UDP: a fresh socket per datagram', async () => {
    const w = {
      kind: 'weights',
      protocol: 'udp',
      listenerPort: echo.port,
      request: { payload: 'w\n' },
      requests: 30,
      concurrency: 5,
      tolerance: 0.05,
      requestTimeoutSeconds: 2,
    };
    assert.deepEqual(await run({ ...w, expected: { 'udp-backend-v1': 1, 'udp-backend-v2': 0 } }), { ok: true });
    assert.match(reason(await run({ ...w, expected: { 'udp-backend-v2': 1 } })), /unexpected backend/);
  });
});
