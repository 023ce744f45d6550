/** The gRPC echo server of GRPC-ECHO.md (test/support/grpc-echo), called directly. */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { SPEC_ENV, type ChildMessage, type DeploymentSpec } from '../../support/echo/fleet-protocol.ts';
import { grpcUnary } from '../../support/grpc-client.ts';
import { decodeEchoResponse, ECHO_SERVICE } from '../../support/grpc-echo/messages.ts';
import { startGrpcEchoServer, type GrpcEchoServer } from '../../support/grpc-echo/server.ts';
import { CertKit } from '../tls-kit.ts';

describe('gRPC echo server', () => {
  const kit = new CertKit();
  let echo: GrpcEchoServer;

  before(async () => {
    const cert = kit.leaf(null, { cn: 'abc.example.com', dns: ['abc.example.com'] });
    echo = await startGrpcEchoServer({
      identity: { pod: 'grpc-infra-backend-v1-abc-def', namespace: 'gateway-conformance-infra', serviceName: 'svc' },
      tls: cert,
    });
  });
  after(async () => {
    await echo.close();
    kit.cleanup();
  });

  test('Echo over h2c: method, authority, identity, metadata without the reserved fields', async () => {
    const r = await grpcUnary(`http://127.0.0.1:${echo.port}`, `/${ECHO_SERVICE}/Echo`, Buffer.alloc(0), {
      authority: 'foo.bar.com',
      grpcTimeout: '1S',
      metadata: { 'x-multi': ['a', 'b'], 'user-agent': 'test-client' },
    });
    assert.equal(r.code, 0);
    const a = decodeEchoResponse(r.messages[0]).assertions!;
    assert.equal(a.fullyQualifiedMethod, `/${ECHO_SERVICE}/Echo`);
    assert.equal(a.authority, 'foo.bar.com');
    assert.deepEqual(a.context, {
      namespace: 'gateway-conformance-infra',
      ingress: '',
      serviceName: 'svc',
      pod: 'grpc-infra-backend-v1-abc-def',
    });
    assert.equal(a.tlsAssertions, undefined);
    const keys = a.headers.map((h) => h.key).sort();
    assert.deepEqual(keys, [':authority', 'user-agent', 'x-multi', 'x-multi']);
    assert.deepEqual(
      a.headers
        .filter((h) => h.key === 'x-multi')
        .map((h) => h.value)
        .sort(),
      ['a', 'b'],
    );
  });

  test('EchoThree and unknown methods: UNIMPLEMENTED, trailers-only, no message', async () => {
    for (const m of ['EchoThree', 'Nope']) {
      const r = await grpcUnary(`http://127.0.0.1:${echo.port}`, `/${ECHO_SERVICE}/${m}`, Buffer.alloc(0));
      assert.equal(r.code, 12);
      assert.equal(r.trailersOnly, true);
      assert.equal(r.message, '');
    }
  });

  test('the TLS port (ALPN h2) fills tls_assertions', async () => {
    const session = http2.connect(`https://127.0.0.1:${echo.httpsPort}`, {
      servername: 'abc.example.com',
      rejectUnauthorized: false,
    });
    session.on('error', () => undefined);
    try {
      const r = await grpcUnary(session, `/${ECHO_SERVICE}/EchoTwo`, Buffer.alloc(0));
      assert.equal(r.code, 0);
      const t = decodeEchoResponse(r.messages[0]).assertions!.tlsAssertions!;
      assert.equal(t.negotiatedProtocol, 'h2');
      assert.equal(t.serverName, 'abc.example.com');
      assert.match(t.version, /^TLSv1\.[23]$/);
      assert.match(t.cipherSuite, /^TLS_/);
      assert.deepEqual(t.peerCertificates, []);
    } finally {
      session.close();
    }
  });

  test('a request that is not gRPC gets HTTP 415, which a client maps to UNKNOWN', async () => {
    const r = await grpcUnary(`http://127.0.0.1:${echo.port}`, `/${ECHO_SERVICE}/Echo`, Buffer.alloc(0), {
      contentType: 'application/json',
    });
    assert.equal(r.httpStatus, 415);
    assert.equal(r.code, 2);
  });

  test('as a Deployment child process (fleet protocol): each replica on its own address, same port', async () => {
    const spec: DeploymentSpec = {
      namespace: 'gateway-conformance-infra',
      deployment: 'grpc-infra-backend-v2',
      replicas: [
        { pod: 'grpc-infra-backend-v2-aaa-bbb', address: '127.0.0.1' },
        { pod: 'grpc-infra-backend-v2-ccc-ddd', address: '127.0.0.2' },
      ],
    };
    const child = fork(fileURLToPath(new URL('../../support/grpc-echo/main.ts', import.meta.url)), {
      env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec) },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const ready = await new Promise<ChildMessage>((resolve, reject) => {
        child.once('message', (m: ChildMessage) => resolve(m));
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      assert.equal(ready.type, 'ready');
      if (ready.type !== 'ready') return;
      assert.equal(ready.replicas[0].h2cPort, ready.replicas[1].h2cPort);
      for (const r of ready.replicas) {
        const call = await grpcUnary(`http://${r.address}:${r.h2cPort}`, `/${ECHO_SERVICE}/Echo`, Buffer.alloc(0));
        assert.equal(decodeEchoResponse(call.messages[0]).assertions!.context!.pod, r.pod);
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});
