import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DnsCache } from '../../../src/proxy/upstream/dns-cache.ts';
import {
  backend,
  closeServer,
  json,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  withTimeout,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('endpoint kinds', () => {
  let tcp: Origin;
  let unixServer: http.Server;
  let socketPath: string;
  let plane: RunningPlane;

  before(async () => {
    tcp = await startOrigin('fqdn');
    socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-')), 'origin.sock');
    unixServer = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ origin: 'unix', url: req.url, headers: req.headers }));
    });
    await new Promise<void>((r) => unixServer.listen(socketPath, r));
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/fqdn' },
          backends: [backend('fqdn', [{ address: 'localhost', port: tcp.port, kind: 'fqdn' }])],
        }),
        route({
          path: { type: 'PathPrefix', value: '/unix' },
          backends: [backend('unix', [{ address: socketPath, port: 0, kind: 'unix' }])],
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await tcp.close();
    await closeServer(unixServer);
    fs.rmSync(path.dirname(socketPath), { recursive: true, force: true });
  });

  test('an FQDN endpoint is resolved (localhost may be ::1 first: the other address is tried)', async () => {
    const r = await request(plane.port, { path: '/fqdn', host: 'app.example' });
    assert.equal(r.status, 200);
    assert.equal(json(r).origin, 'fqdn');
    assert.equal(json(r).headers.host, 'app.example');
  });

  test('a unix socket endpoint', async () => {
    const r = await request(plane.port, { path: '/unix/x' });
    assert.equal(r.status, 200);
    assert.equal(json(r).origin, 'unix');
    assert.equal(json(r).url, '/unix/x');
  });
});

describe('DnsCache', () => {
  test('answers from the cache within the TTL, rotating the addresses', async () => {
    const cache = new DnsCache(60_000);
    const lookupAll = () =>
      withTimeout(
        new Promise<string[]>((resolve, reject) =>
          cache.lookup('localhost', { all: true }, (err, addrs) =>
            err ? reject(err) : resolve((addrs as Array<{ address: string }>).map((a) => a.address)),
          ),
        ),
        3000,
        'lookup',
      );
    const first = await lookupAll();
    assert.ok(first.length >= 1);
    const second = await lookupAll();
    assert.deepEqual([...second].sort(), [...first].sort());
    if (first.length > 1) assert.notDeepEqual(second, first);
  });

  test('a name that does not resolve is an error', async () => {
    const cache = new DnsCache(60_000);
    await assert.rejects(
      withTimeout(
        new Promise<void>((resolve, reject) =>
          cache.lookup('does-not-exist.invalid', {}, (err) => (err ? reject(err) : resolve())),
        ),
        5000,
        'lookup',
      ),
    );
  });
});
