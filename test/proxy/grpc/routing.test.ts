/**
 * GRPCRoute method routing through the gateway to the conformance gRPC
 * echo server (test/support/grpc-echo), with IR entries written as the
 * translator compiles GRPCRoute matches (exact method → exact path,
 * service only → path prefix, method only → regex).
 */
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Session } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { grpcUnary } from '../../support/grpc-client.ts';
import { decodeEchoResponse, ECHO_SERVICE, type EchoAssertions } from '../../support/grpc-echo/messages.ts';
import { startGrpcEchoServer, type GrpcEchoServer } from '../../support/grpc-echo/server.ts';
import { simpleIR, startPlane, type RunningPlane } from '../helpers.ts';
import { grpcBackend, grpcRoute } from './helpers.ts';

const GRPC_SERVICE = '\\.?[A-Za-z_][A-Za-z_0-9]*(\\.[A-Za-z_][A-Za-z_0-9]*)*';

describe('GRPCRoute method routing (gRPC echo backends)', () => {
  const calls: string[] = [];
  let v1: GrpcEchoServer;
  let v2: GrpcEchoServer;
  let plane: RunningPlane;
  let session: ClientHttp2Session;

  before(async () => {
    const identity = (pod: string) => ({ pod, namespace: 'gateway-conformance-infra' });
    v1 = await startGrpcEchoServer({
      identity: identity('grpc-infra-backend-v1-7d9f-abcde'),
      onCall: (m) => calls.push(`v1 ${m}`),
    });
    v2 = await startGrpcEchoServer({
      identity: identity('grpc-infra-backend-v2-5c8b-fghij'),
      onCall: (m) => calls.push(`v2 ${m}`),
    });
    const b1 = grpcBackend('grpc-infra-backend-v1', v1.port);
    const b2 = grpcBackend('grpc-infra-backend-v2', v2.port);
    plane = await startPlane(
      simpleIR([
        // Header match first (more specific), as the translator orders them.
        grpcRoute(ECHO_SERVICE, 'Echo', {
          headers: [{ name: 'x-canary', type: 'Exact', value: 'yes' }],
          backends: [b2],
        }),
        grpcRoute(ECHO_SERVICE, 'Echo', {
          backends: [b1],
          filters: [
            {
              type: 'RequestHeaderModifier',
              modifier: { set: [{ name: 'x-header-set', value: 'set-overwrites-values' }] },
            },
          ],
        }),
        grpcRoute(ECHO_SERVICE, 'EchoTwo', { backends: [b2] }),
        grpcRoute('', null, {
          path: { type: 'RegularExpression', value: `^/${GRPC_SERVICE}/WeightedEcho$` },
          backends: [b1, { ...b2, weight: 0 }],
        }),
      ]),
    );
    session = http2.connect(`http://127.0.0.1:${plane.port}`);
    session.on('error', () => undefined);
  });
  after(async () => {
    session.close();
    await plane.close();
    await Promise.all([v1.close(), v2.close()]);
  });

  async function echo(method: string, metadata: Record<string, string> = {}): Promise<EchoAssertions> {
    const r = await grpcUnary(session, `/${ECHO_SERVICE}/${method}`, Buffer.alloc(0), {
      authority: 'grpc.example.com',
      metadata,
    });
    assert.equal(r.code, 0, `${method}: ${r.message}`);
    assert.equal(r.messages.length, 1);
    return decodeEchoResponse(r.messages[0]).assertions!;
  }

  test('Echo goes to v1 and EchoTwo to v2; each backend reports the method, its pod and namespace', async () => {
    const one = await echo('Echo');
    assert.equal(one.fullyQualifiedMethod, `/${ECHO_SERVICE}/Echo`);
    assert.match(one.context!.pod, /^grpc-infra-backend-v1-/);
    assert.equal(one.context!.namespace, 'gateway-conformance-infra');
    assert.equal(one.authority, 'grpc.example.com');
    const two = await echo('EchoTwo');
    assert.equal(two.fullyQualifiedMethod, `/${ECHO_SERVICE}/EchoTwo`);
    assert.match(two.context!.pod, /^grpc-infra-backend-v2-/);
  });

  test('a header match picks its rule', async () => {
    const a = await echo('Echo', { 'x-canary': 'yes' });
    assert.match(a.context!.pod, /^grpc-infra-backend-v2-/);
  });

  test('EchoThree matches no rule: UNIMPLEMENTED from the gateway, no backend called', async () => {
    const before = calls.length;
    const r = await grpcUnary(session, `/${ECHO_SERVICE}/EchoThree`, Buffer.alloc(0));
    assert.equal(r.code, 12);
    assert.equal(r.trailersOnly, true);
    assert.equal(calls.length, before);
  });

  test("the metadata the backend reports: the caller's, the gateway's and the filters', none of the reserved ones", async () => {
    const a = await echo('Echo', { 'x-rider': 'ana', 'x-header-set': 'client-value' });
    const get = (k: string): string[] => a.headers.filter((h) => h.key === k).map((h) => h.value);
    assert.deepEqual(get('x-rider'), ['ana']);
    assert.deepEqual(get('x-header-set'), ['set-overwrites-values']);
    assert.deepEqual(get(':authority'), ['grpc.example.com']);
    assert.deepEqual(get('x-forwarded-for'), ['127.0.0.1']);
    assert.equal(get('x-request-id').length, 1);
    for (const reserved of ['content-type', 'te', ':path', ':method', 'grpc-timeout']) {
      assert.deepEqual(get(reserved), [], reserved);
    }
  });

  test('a method-only (regex) match with weights 1/0: the zero-weight backend gets nothing', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await grpcUnary(session, '/other.Svc/WeightedEcho', Buffer.alloc(0));
      assert.equal(r.code, 12); // the echo server's own answer to a method it does not have
    }
    const picked = calls.filter((c) => c.endsWith('/other.Svc/WeightedEcho'));
    assert.equal(picked.length, 20);
    assert.ok(picked.every((c) => c.startsWith('v1 ')));
  });
});
