import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { BackendTLSIR } from '../../../src/ir/types.ts';
import {
  LOOPBACK,
  backend,
  closeServer,
  endpointsOf,
  json,
  request,
  route,
  simpleIR,
  startPlane,
  type RunningPlane,
} from '../helpers.ts';
import { hasOpenssl, selfSigned } from '../tls-kit.ts';

describe('TLS to backends (BackendTLSPolicy in the IR)', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  let server: https.Server;
  let h2server: http2.Http2SecureServer;
  let plane: RunningPlane;

  before(async () => {
    const srv = selfSigned('backend.example');
    const client = selfSigned('gateway-client');
    server = https.createServer(
      { cert: srv.cert, key: srv.key, requestCert: true, rejectUnauthorized: false, ca: [client.cert] },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            url: req.url,
            headers: req.headers,
            sni: socket.servername,
            clientCert: socket.getPeerCertificate().subject?.CN ?? null,
          }),
        );
      },
    );
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    const port = (server.address() as { port: number }).port;
    // An HTTP/2-only TLS backend (ALPN h2, no HTTP/1.1 fallback), as gRPC servers are.
    h2server = http2.createSecureServer({ cert: srv.cert, key: srv.key, allowHTTP1: false }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ httpVersion: req.httpVersion, alpn: (req.socket as TLSSocket).alpnProtocol }));
    });
    await new Promise<void>((r) => h2server.listen(0, LOOPBACK, r));
    const h2port = (h2server.address() as { port: number }).port;
    const tls = (extra: Partial<BackendTLSIR>): BackendTLSIR => ({
      sni: 'backend.example',
      caPems: [srv.cert],
      systemCAs: false,
      subjectAltNames: [],
      ...extra,
    });
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/ok' },
          backends: [backend('tls', endpointsOf(port), { tls: tls({}) })],
        }),
        route({
          path: { type: 'PathPrefix', value: '/mtls' },
          backends: [
            backend('tls', endpointsOf(port), {
              tls: tls({ clientCertificate: { secret: 'default/client', certPem: client.cert, keyPem: client.key } }),
            }),
          ],
        }),
        route({
          path: { type: 'PathPrefix', value: '/wrong-name' },
          backends: [backend('tls', endpointsOf(port), { tls: tls({ sni: 'other.example' }) })],
        }),
        route({
          path: { type: 'PathPrefix', value: '/san' },
          backends: [
            backend('tls', endpointsOf(port), {
              tls: tls({ sni: 'other.example', subjectAltNames: [{ type: 'Hostname', value: 'backend.example' }] }),
            }),
          ],
        }),
        route({
          path: { type: 'PathPrefix', value: '/h2' },
          backends: [backend('tls', endpointsOf(h2port), { protocol: 'h2c', tls: tls({}) })],
        }),
        route({
          path: { type: 'PathPrefix', value: '/skip-verify' },
          backends: [
            backend('tls', endpointsOf(port), {
              tls: tls({ caPems: [], sni: 'other.example', insecureSkipVerify: true }),
            }),
          ],
        }),
        route({
          path: { type: 'PathPrefix', value: '/untrusted' },
          backends: [backend('tls', endpointsOf(port), { tls: tls({ caPems: [client.cert] }) })],
        }),
      ]),
    );
  });
  after(async () => {
    await plane?.close();
    if (server) await closeServer(server);
    if (h2server) await new Promise<void>((r) => h2server.close(() => r()));
  });

  test('the SNI of the policy is sent whatever the Host, and the CA is trusted', async () => {
    const r = await request(plane.port, { path: '/ok', host: 'public.example' });
    assert.equal(r.status, 200);
    const seen = json(r) as unknown as { sni: string; headers: Record<string, string>; clientCert: string | null };
    assert.equal(seen.sni, 'backend.example');
    assert.equal(seen.headers.host, 'public.example');
    assert.equal(seen.clientCert, null);
  });

  test('a client certificate is presented when the policy has one', async () => {
    const seen = json(await request(plane.port, { path: '/mtls' })) as unknown as { clientCert: string };
    assert.equal(seen.clientCert, 'gateway-client');
  });

  test('subjectAltNames override the SNI for verification', async () => {
    assert.equal((await request(plane.port, { path: '/san' })).status, 200);
  });

  test('an HTTP/2 backend with TLS is spoken to with ALPN h2, not HTTP/1.1', async () => {
    const r = await request(plane.port, { path: '/h2' });
    assert.equal(r.status, 200);
    assert.deepEqual(json(r), { httpVersion: '2.0', alpn: 'h2' });
  });

  test('a certificate that does not match, or is not trusted → 503', async () => {
    assert.equal((await request(plane.port, { path: '/wrong-name' })).status, 503);
    assert.equal((await request(plane.port, { path: '/untrusted' })).status, 503);
  });

  test('insecureSkipVerify: an untrusted certificate for another name is accepted, and the SNI is still sent', async () => {
    const r = await request(plane.port, { path: '/skip-verify' });
    assert.equal(r.status, 200);
    assert.equal((json(r) as unknown as { sni: string }).sni, 'other.example');
  });
});
