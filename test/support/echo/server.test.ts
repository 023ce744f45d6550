/**
 * The echo server over real sockets: HTTP/1.1, h2c (prior knowledge and
 * the HTTP/1.1 refusal), WebSocket, TLS, the retry and status simulators.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, type EchoServer } from './server.ts';
import { encodeFrame, FrameParser, OP, type Frame } from './ws-frames.ts';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  raw: string[];
  body: string;
}

function get(
  port: number,
  path: string,
  opts: { headers?: Record<string, string>; method?: string; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: res.rawHeaders, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function h2(
  port: number,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request(headers);
    let got: Record<string, unknown> = {};
    let body = '';
    stream.on('response', (h) => (got = h));
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      session.close();
      resolve({ headers: got, body });
    });
    stream.end();
  });
}

/** A raw WebSocket client: the handshake answer, then frames as they come. */
function wsOpen(
  port: number,
  headers: string[],
): Promise<{ status: string; socket: Socket; frames: () => Promise<Frame> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parser = new FrameParser();
    const queue: Frame[] = [];
    const waiters: ((f: Frame) => void)[] = [];
    let head = '';
    let open = false;
    socket.on('error', reject);
    socket.on('connect', () => socket.write(['GET /ws HTTP/1.1', 'Host: echo', ...headers, '', ''].join('\r\n')));
    socket.on('data', (chunk: Buffer) => {
      if (open) {
        for (const f of parser.push(chunk)) (waiters.shift() ?? ((x: Frame) => queue.push(x)))(f);
        return;
      }
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      open = true;
      resolve({
        status: head.slice(9, 12),
        socket,
        frames: () => new Promise((r) => (queue.length ? r(queue.shift()!) : waiters.push(r))),
      });
    });
  });
}

const WS_HEADERS = [
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
];

describe('echo server', () => {
  let s: EchoServer;
  const echoed: string[] = [];
  before(async () => {
    s = await startEchoServer({
      identity: { pod: 'infra-backend-v1-abc12-xyz98', namespace: 'gateway-conformance-infra' },
      host: '127.0.0.1',
      onEcho: (t) => echoed.push(t),
    });
  });
  after(() => s.close());

  test('HTTP/1.1 echo: JSON fields, canonical header arrays, Host left out, target untouched', async () => {
    const r = await get(s.httpPort, '/a//b?x=1&y=%20', { headers: { 'x-one': 'a, b', 'X-Echo-Set-Header': '' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const j = JSON.parse(r.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), [
      'path',
      'host',
      'method',
      'proto',
      'headers',
      'httpPort',
      'namespace',
      'ingress',
      'service',
      'pod',
    ]);
    assert.equal(j.path, '/a//b?x=1&y=%20');
    assert.equal(j.host, `127.0.0.1:${s.httpPort}`);
    assert.equal(j.method, 'GET');
    assert.equal(j.proto, 'HTTP/1.1');
    assert.deepEqual(j.headers, { Connection: ['close'], 'X-Echo-Set-Header': [''], 'X-One': ['a, b'] });
    assert.equal(j.httpPort, String(s.httpPort));
    assert.equal(j.namespace, 'gateway-conformance-infra');
    assert.equal(j.pod, 'infra-backend-v1-abc12-xyz98');
    assert.ok(echoed.includes('/a//b?x=1&y=%20'));
  });

  test('X-Echo-Set-Header: exact name spelling, appended values, Content-Type not overridable', async () => {
    const r = await get(s.httpPort, '/', {
      headers: { 'X-Echo-Set-Header': 'x-header-set: one ,X-Other:2,x-header-set:three,Content-Type:text/plain' },
    });
    const pairs = [];
    for (let i = 0; i < r.raw.length; i += 2) pairs.push([r.raw[i], r.raw[i + 1]]);
    assert.deepEqual(pairs.slice(0, 4), [
      ['x-header-set', 'one,three'],
      ['X-Other', '2'],
      ['Content-Type', 'application/json'],
      ['X-Content-Type-Options', 'nosniff'],
    ]);
  });

  test('delay: query and form body; an unparsable duration is a 500 with the Go error', async () => {
    let t = Date.now();
    assert.equal((await get(s.httpPort, '/d?delay=300ms')).status, 200);
    assert.ok(Date.now() - t >= 290);
    t = Date.now();
    const form = await get(s.httpPort, '/d', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'delay=200ms',
    });
    assert.equal(form.status, 200);
    assert.ok(Date.now() - t >= 190);
    const bad = await get(s.httpPort, '/d?delay=1x');
    assert.equal(bad.status, 500);
    assert.equal(bad.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(bad.body), { message: 'time: unknown unit "x" in duration "1x"' });
  });

  test('/health, /status/NNN, and the router redirects', async () => {
    assert.deepEqual([(await get(s.httpPort, '/health')).status, (await get(s.httpPort, '/health')).body], [200, 'OK']);
    assert.equal((await get(s.httpPort, '/status/418')).status, 418);
    assert.equal((await get(s.httpPort, '/status/418?x')).status, 400);
    const r = await get(s.httpPort, '/status');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/status/');
  });

  test('/retry: counters per uuid, responseCode failures, then the echo', async () => {
    const path = '/retry/x?responseCode=503&succeedAfter=2&uuid=u1';
    assert.equal((await get(s.httpPort, path)).status, 503);
    assert.equal((await get(s.httpPort, path)).status, 503);
    const ok = await get(s.httpPort, path);
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body) as { path: string }).path, path);
    assert.equal((await get(s.httpPort, path)).status, 200);
    assert.equal((await get(s.httpPort, '/retry/x?responseCode=503&succeedAfter=1&uuid=u2')).status, 503);
  });

  test('/retry: bad parameters are 400s, a failure without responseCode is a TCP reset', async () => {
    const noUuid = await get(s.httpPort, '/retry/x?succeedAfter=1');
    assert.deepEqual([noUuid.status, noUuid.body], [400, 'uuid is required\n']);
    const noCount = await get(s.httpPort, '/retry/x?uuid=u3');
    assert.deepEqual([noCount.status, noCount.body], [400, 'succeedAfter is required\n']);
    await assert.rejects(get(s.httpPort, '/retry/x?succeedAfter=1&uuid=u4'), { code: 'ECONNRESET' });
    assert.equal((await get(s.httpPort, '/retry/x?succeedAfter=1&uuid=u4')).status, 200);
  });

  test('/retry: requests are served one at a time', async () => {
    const t = Date.now();
    const paths = [1, 2].map((i) => `/retry/x?succeedAfter=0&uuid=c${i}&delay=250ms`);
    const rs = await Promise.all(paths.map((p) => get(s.httpPort, p)));
    assert.deepEqual(
      rs.map((r) => r.status),
      [200, 200],
    );
    assert.ok(Date.now() - t >= 490, 'the second waited for the lock');
  });

  test('h2c port: prior-knowledge HTTP/2 is echoed with :authority as host', async () => {
    const r = await h2(s.h2cPort, { ':path': '/h2?q=1', ':authority': 'example.com', 'x-a': 'b' });
    assert.equal(r.headers[':status'], 200);
    const j = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(j.proto, 'HTTP/2.0');
    assert.equal(j.host, 'example.com');
    assert.equal(j.path, '/h2?q=1');
    assert.deepEqual(j.headers, { 'X-A': ['b'] });
  });

  test('h2c port: HTTP/1.1 is refused unless it says Upgrade: h2c; no router there', async () => {
    const plain = await get(s.h2cPort, '/health');
    assert.deepEqual([plain.status, plain.body], [400, 'Expected h2c request']);
    const upgrade = await get(s.h2cPort, '/health', { headers: { Upgrade: 'h2c', Connection: 'Upgrade' } });
    assert.equal(upgrade.status, 200);
    assert.equal((JSON.parse(upgrade.body) as { proto: string }).proto, 'HTTP/1.1');
  });

  test('WebSocket: every message comes back in a text frame; ping gets pong', async () => {
    const ws = await wsOpen(s.httpPort, [...WS_HEADERS, 'Origin: ws://gateway/test']);
    assert.equal(ws.status, '101');
    ws.socket.write(encodeFrame(OP.text, Buffer.from('Websocket Support!'), { mask: true }));
    const a = await ws.frames();
    assert.deepEqual([a.opcode, a.payload.toString()], [OP.text, 'Websocket Support!']);
    ws.socket.write(encodeFrame(OP.binary, Buffer.from([1, 2, 3, 4, 5, 6, 7]), { mask: true }));
    const b = await ws.frames();
    assert.deepEqual([b.opcode, [...b.payload]], [OP.text, [1, 2, 3, 4, 5, 6, 7]]);
    ws.socket.write(encodeFrame(OP.ping, Buffer.from('p'), { mask: true }));
    assert.equal((await ws.frames()).opcode, OP.pong);
    ws.socket.write(encodeFrame(OP.close, Buffer.from([3, 232]), { mask: true }));
    assert.equal((await ws.frames()).opcode, OP.close);
    ws.socket.destroy();
  });

  test('WebSocket handshake: no Origin is 403, a non-upgrade GET /ws is 400', async () => {
    const ws = await wsOpen(s.httpPort, WS_HEADERS);
    assert.equal(ws.status, '403');
    ws.socket.destroy();
    assert.equal((await get(s.httpPort, '/ws')).status, 400);
  });
});

describe('echo server over TLS', () => {
  let dir: string;
  let s: EchoServer;
  const pem = (name: string): string => readFileSync(join(dir, name), 'utf8');
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'echo-tls-'));
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=ca',
    );
    for (const leaf of ['server', 'client']) {
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${leaf}.key`,
        '-out',
        `${leaf}.csr`,
        '-subj',
        `/CN=${leaf}`,
      );
      ssl(
        'x509',
        '-req',
        '-in',
        `${leaf}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-out',
        `${leaf}.crt`,
      );
    }
    s = await startEchoServer({
      identity: { pod: 'tls-backend-a-b', namespace: 'ns' },
      host: '127.0.0.1',
      tls: { cert: pem('server.crt'), key: pem('server.key'), clientCa: pem('ca.crt') },
    });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function tlsGet(withClientCert: boolean, client = 'client'): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      // ALPN is offered so that the echo has a protocol to report (Node's https offers none by default).
      const options = {
        host: '127.0.0.1',
        port: s.httpsPort,
        path: '/tls',
        servername: 'abc.example.com',
        ca: pem('ca.crt'),
        checkServerIdentity: () => undefined,
        ALPNProtocols: ['http/1.1'],
        agent: false,
        ...(withClientCert ? { cert: pem(`${client}.crt`), key: pem(`${client}.key`) } : {}),
      };
      const req = httpsRequest(options, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('the tls object: version, SNI, ALPN, cipher, and the client certificate in PEM as sent', async () => {
    const j = await tlsGet(true);
    const t = j.tls as Record<string, unknown>;
    assert.match(t.version as string, /^TLSv1\.[23]$/);
    assert.equal(t.serverName, 'abc.example.com');
    assert.equal(t.negotiatedProtocol, 'http/1.1');
    assert.match(t.cipherSuite as string, /^TLS_/);
    const client = pem('client.crt').replace(/\r/g, '');
    assert.equal((t.peerCertificates as string[])[0], client);
  });

  test('a client certificate that does not chain to the client CA ends the connection', async () => {
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'rogue.key',
      '-out',
      'rogue.crt',
      '-days',
      '1',
      '-subj',
      '/CN=rogue',
    );
    await assert.rejects(tlsGet(true, 'rogue'));
  });

  test('no client certificate is accepted too', async () => {
    const j = await tlsGet(false);
    assert.equal((j.tls as Record<string, unknown>).peerCertificates, undefined);
  });
});
