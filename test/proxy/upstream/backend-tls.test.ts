import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
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

/** A self-signed certificate for `name` (it is its own CA), made with the openssl CLI. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
}

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

describe('TLS to backends (BackendTLSPolicy in the IR)', { skip: !hasOpenssl && 'openssl CLI not available' }, () => {
  let dir: string;
  let server: https.Server;
  let h2server: http2.Http2SecureServer;
  let plane: RunningPlane;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-'));
    const srv = selfSigned(dir, 'backend.example');
    const client = selfSigned(dir, 'gateway-client');
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
    fs.rmSync(dir, { recursive: true, force: true });
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
});
