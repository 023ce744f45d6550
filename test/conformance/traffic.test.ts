import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import type { Check } from './case-types.ts';
import { notAppliedReason } from './gateway-process.ts';
import { podNetAfter } from './live-env.ts';
import { eventually, type TryResult } from './traffic/eventually.ts';
import type { HttpResult } from './traffic/http-client.ts';
import { allowedPorts, allowedStatuses, judgeHttpResult, locationParts } from './traffic/http-judge.ts';
import { missingFeature } from './traffic/needs.ts';
import { backendOfPod, weightsMismatch } from './traffic/run-traffic.ts';
import type { HttpCheck } from './traffic/types.ts';

const GW = { namespace: 'gateway-conformance-infra', name: 'same-namespace' };
const CTX = { requestUrl: 'http://127.0.0.9:20080/x', servedPort: 20080 };

function echo(fields: Record<string, unknown>, headers: [string, string][] = []): HttpResult {
  const body = JSON.stringify({
    path: '/x',
    host: 'example.com',
    method: 'GET',
    headers: {},
    namespace: 'gateway-conformance-infra',
    pod: 'infra-backend-v1-abc-def',
    ...fields,
  });
  return { status: 200, headers: [['Content-Type', 'application/json'], ...headers], body, protocol: 'HTTP/1.1' };
}

function check(extra: Partial<HttpCheck>): HttpCheck {
  return {
    kind: 'http',
    gateway: GW,
    listenerPort: 80,
    request: { method: 'GET', path: '/x' },
    response: { statusCode: 200 },
    backend: 'infra-backend-v1',
    namespace: 'gateway-conformance-infra',
    expectedRequest: { method: 'GET', path: '/x' },
    ...extra,
  };
}

describe('judging an http response (EXTRA-KINDS 1.3)', () => {
  test('a matching echo passes; backend is a pod-name prefix, namespace exact', () => {
    assert.equal(judgeHttpResult(check({}), echo({}), CTX).ok, true);
    const v = judgeHttpResult(check({ backend: 'infra-backend-v2' }), echo({}), CTX);
    assert.deepEqual(v, {
      ok: false,
      reason: 'answered by pod "infra-backend-v1-abc-def", want backend infra-backend-v2',
    });
    assert.match((judgeHttpResult(check({ namespace: 'x' }), echo({}), CTX) as { reason: string }).reason, /namespace/);
  });
  test('status: a list, and 408/504 standing for each other', () => {
    assert.deepEqual(allowedStatuses([504]), [504, 408]);
    assert.deepEqual(allowedStatuses(undefined), [200]);
    const timeout: HttpResult = { status: 408, headers: [], body: '', protocol: 'HTTP/1.1' };
    assert.equal(judgeHttpResult(check({ response: { statusCode: [504] } }), timeout, CTX).ok, true);
    assert.equal(judgeHttpResult(check({ response: { statusCode: 404 } }), timeout, CTX).ok, false);
  });
  test('only 200/204 look at headers and the echo; a 404 check ignores them', () => {
    const notFound: HttpResult = { status: 404, headers: [], body: 'x', protocol: 'HTTP/1.1' };
    assert.equal(
      judgeHttpResult(check({ response: { statusCode: 404, headers: { a: 'b' } } }), notFound, CTX).ok,
      true,
    );
  });
  test('response headers: case-insensitive names, values joined with ",", valid values, whitespace, absence', () => {
    const res = echo({}, [
      ['x-a', '1'],
      ['X-A', '2'],
      ['Allow', 'GET, POST'],
    ]);
    assert.equal(judgeHttpResult(check({ response: { headers: { 'X-a': '1,2' } } }), res, CTX).ok, true);
    assert.equal(judgeHttpResult(check({ response: { headers: { 'X-a': '1, 2' } } }), res, CTX).ok, false);
    assert.equal(
      judgeHttpResult(check({ response: { headers: { allow: 'GET,POST' }, ignoreWhitespace: true } }), res, CTX).ok,
      true,
    );
    assert.equal(
      judgeHttpResult(check({ response: { validHeaderValues: { allow: ['*', 'GET, POST'] } } }), res, CTX).ok,
      true,
    );
    assert.equal(judgeHttpResult(check({ response: { absentHeaders: ['x-A'] } }), res, CTX).ok, false);
  });
  test('the echo is read only when Content-Type is exactly application/json', () => {
    const res = echo({});
    res.headers[0] = ['Content-Type', 'application/json; charset=utf-8'];
    assert.match((judgeHttpResult(check({}), res, CTX) as { reason: string }).reason, /backend saw path ""/);
  });
  test('fromBackend false: the gateway itself must answer', () => {
    const preflight: HttpResult = {
      status: 204,
      headers: [['access-control-allow-origin', '*']],
      body: '',
      protocol: 'HTTP/1.1',
    };
    assert.equal(
      judgeHttpResult(check({ fromBackend: false, response: { statusCode: [200, 204] } }), preflight, CTX).ok,
      true,
    );
    assert.equal(judgeHttpResult(check({ fromBackend: false }), echo({}), CTX).ok, false);
  });
  test('expectedRequest: path with query, host with port, headers joined, absent headers', () => {
    const res = echo({
      path: '/x?a=1',
      host: 'h:8080',
      headers: { 'X-Header-Add-Append': ['a', 'b'], 'X-Gone': ['1'] },
    });
    const want = (e: HttpCheck['expectedRequest']): boolean =>
      judgeHttpResult(check({ expectedRequest: e }), res, CTX).ok;
    assert.equal(want({ path: '/x?a=1', host: 'h:8080', headers: { 'x-header-add-append': 'a,b' } }), true);
    assert.equal(want({ path: '/x' }), false);
    assert.equal(want({ host: 'h' }), false);
    assert.equal(want({ absentHeaders: ['x-gone'] }), false);
    assert.equal(judgeHttpResult(check({}), res, { ...CTX, expectedPath: '/x?a=1' }).ok, true);
  });
  test('redirects: Location parts, port lists, portFromListener with a shifted port', () => {
    const redirect = (location: string): HttpResult => ({
      status: 302,
      headers: [['Location', location]],
      body: '',
      protocol: 'HTTP/1.1',
    });
    const c = check({
      response: { statusCode: 302 },
      redirect: { scheme: 'http', port: ['', '80'], path: '/y', portFromListener: true },
    });
    assert.equal(judgeHttpResult(c, redirect('http://127.0.0.9:20080/y?q'), CTX).ok, true);
    assert.equal(judgeHttpResult(c, redirect('/y'), CTX).ok, true, 'relative: the dialled port');
    assert.equal(
      judgeHttpResult(c, redirect('http://127.0.0.9/y'), CTX).ok,
      false,
      'port 80 is not the listener any more',
    );
    assert.deepEqual(allowedPorts({ port: ['', '80'], portFromListener: true }, 80, 20080), ['20080']);
    assert.deepEqual(allowedPorts({ port: ['', '80'], portFromListener: true }, 80, 80), ['', '80']);
    assert.deepEqual(allowedPorts({ scheme: 'https', port: ['', '443'] }, 80, 20080), ['', '443']);
    assert.deepEqual(locationParts('https://example.org:443/a%20b', 'http://x/'), {
      scheme: 'https',
      host: 'example.org',
      port: '443',
      path: '/a b',
    });
  });
  test('expectFailure: 200 fails at once, 408/504 are not settled, anything else passes', () => {
    const c = check({ response: { expectFailure: true } });
    const with_ = (status: number): ReturnType<typeof judgeHttpResult> =>
      judgeHttpResult(c, { status, headers: [], body: '', protocol: 'HTTP/1.1' }, CTX);
    assert.deepEqual(with_(200), { ok: false, reason: 'got 200, the request must fail', fatal: true });
    assert.equal(with_(504).ok, false);
    assert.equal(with_(503).ok, true);
  });
});

describe('weights', () => {
  test('backend = pod minus its last two parts', () => {
    assert.equal(backendOfPod('infra-backend-v1-5d8f7c6b9-qx2lp'), 'infra-backend-v1');
  });
  test('shares within tolerance, no unexpected or zero-weight backend', () => {
    const seen = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));
    const expected = { a: 0.7, b: 0.3, c: 0 };
    assert.equal(weightsMismatch(seen({ a: 350, b: 150 }), expected, 0.05, 500), undefined);
    assert.match(weightsMismatch(seen({ a: 300, b: 200 }), expected, 0.05, 500)!, /a got share 0.600/);
    assert.match(weightsMismatch(seen({ a: 349, b: 150, c: 1 }), expected, 0.05, 500)!, /3 backends answered, want 2/);
    assert.match(weightsMismatch(seen({ a: 350, x: 150 }), expected, 0.05, 500)!, /unexpected backend\(s\) x/);
  });
});

describe('eventually', () => {
  const script = (results: boolean[]): (() => Promise<TryResult>) => {
    let i = 0;
    return () => Promise.resolve((results[i++] ?? false) ? { ok: true } : { ok: false, reason: `try ${i}` });
  };
  test('needs the passes in a row; a failure resets the count', async () => {
    const opts = { consecutive: 3, timeoutMs: 5000, pollMs: 1 };
    assert.deepEqual(await eventually(opts, script([true, true, false, true, true, true])), { ok: true });
    const r = await eventually({ ...opts, timeoutMs: 50 }, script([true, true, false]));
    assert.equal(r.ok, false);
  });
  test('a fatal failure ends it at once; settle ends a hopeless wait early', async () => {
    const fatal = await eventually({ consecutive: 1, timeoutMs: 5000, pollMs: 1 }, () =>
      Promise.resolve({ ok: false, reason: 'no', fatal: true }),
    );
    assert.match((fatal as { reason: string }).reason, /^no \(1 tries/);
    const started = Date.now();
    const settled = await eventually({ consecutive: 3, timeoutMs: 30_000, pollMs: 10, settleMs: 100 }, () =>
      Promise.resolve({ ok: false, reason: 'wrong' }),
    );
    assert.match((settled as { reason: string }).reason, /^wrong; no passing try for/);
    assert.ok(Date.now() - started < 2000);
  });
});

describe('live run plumbing', () => {
  test('only check variants without a client are a "needs" skip, decided by the checks', () => {
    const http = { kind: 'http', scheme: 'http', request: { path: '/' } } as Check;
    assert.equal(missingFeature([http]), undefined);
    assert.equal(
      missingFeature([http, { kind: 'http', scheme: 'https', request: { path: '/', protocol: 'H2' } }]),
      undefined,
    );
    assert.equal(
      missingFeature([{ kind: 'http', request: { path: '/', protocol: 'H2' } }]),
      'request.protocol H2 over cleartext',
    );
    assert.equal(missingFeature([{ kind: 'http', request: { path: '/', protocol: 'H3' } }]), 'request.protocol H3');
    assert.equal(missingFeature([{ kind: 'grpc', transport: 'h2c' }]), undefined);
    assert.equal(missingFeature([{ kind: 'grpc', transport: 'tls' }]), 'gRPC transport tls');
    assert.equal(missingFeature([{ kind: 'weights', protocol: 'udp' }, { kind: 'tcp' }]), undefined);
    assert.equal(missingFeature([{ kind: 'weights', protocol: 'sctp' }]), 'weights over sctp');
    assert.equal(missingFeature([{ kind: 'tls', request: { payload: 'http' } }]), 'TLS payload http');
    assert.equal(missingFeature([{ kind: 'websocket', scheme: 'wss' }]), 'WebSocket scheme wss');
    assert.equal(missingFeature([{ kind: 'gatewayStatus' }]), undefined);
  });
  test('a configuration counts as applied when the marker shows it and every worker serves the version', () => {
    const doc = (generation: string, workers: StatusDocument['workers']): StatusDocument =>
      ({
        version: 3,
        resources: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { namespace: 'default', name: 'sluice-conformance-generation' },
            data: { generation },
          },
        ],
        workers,
      }) as unknown as StatusDocument;
    const w = (version: number) => ({ slot: 0, pid: 1, state: 'running', restarts: 0, version });
    assert.equal(notAppliedReason(doc('4', [w(3)]), 4), undefined);
    assert.match(notAppliedReason(doc('3', [w(3)]), 4)!, /shows configuration 3/);
    assert.match(notAppliedReason(doc('4', [w(3), w(2)]), 4)!, /workers not on v3/);
  });
  test('pod addresses come from the /24 after the Gateway pool', () => {
    assert.equal(podNetAfter('127.12.34.0/24'), '127.12.35');
    assert.equal(podNetAfter('127.12.34.16/28'), '127.12.35');
    assert.throws(() => podNetAfter('10.0.0.0/24'), /loopback/);
  });
});
