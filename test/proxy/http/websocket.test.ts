import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  closeServer,
  endpointsOf,
  rawExchange,
  route,
  simpleIR,
  startPlane,
  withTimeout,
  type RunningPlane,
} from '../helpers.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** Reads from `socket` until `pred` holds for everything received (bounded). */
async function readUntil(
  socket: net.Socket,
  got: Buffer[],
  pred: (s: string) => boolean,
  what: string,
): Promise<string> {
  return withTimeout(
    (async () => {
      while (!pred(Buffer.concat(got).toString('latin1'))) await once(socket, 'data');
      return Buffer.concat(got).toString('latin1');
    })(),
    3000,
    what,
  );
}

describe('upgrades (WebSocket) are tunnelled both ways', () => {
  let origin: http.Server;
  let plane: RunningPlane;
  const upgradesSeen: http.IncomingHttpHeaders[] = [];

  before(async () => {
    origin = http.createServer((_req, res) => res.end('plain'));
    origin.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      upgradesSeen.push(req.headers);
      if (req.url === '/refuse') {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope');
        return;
      }
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
      );
      socket.write('hello-from-server;');
      if (head.length > 0) socket.write(head);
      socket.pipe(socket); // echo every byte
    });
    await new Promise<void>((r) => origin.listen(0, LOOPBACK, r));
    const port = (origin.address() as net.AddressInfo).port;
    plane = await startPlane(
      simpleIR([
        route({
          path: { type: 'PathPrefix', value: '/ws' },
          backends: [backend('ws', endpointsOf(port), { protocol: 'ws' })],
        }),
        route({ path: { type: 'PathPrefix', value: '/refuse' }, backends: [backend('ws', endpointsOf(port))] }),
      ]),
    );
  });
  after(async () => {
    await plane.close(0);
    await closeServer(origin);
  });

  test('101 is relayed and bytes flow both ways', async () => {
    const socket = net.connect(plane.port, LOOPBACK);
    await once(socket, 'connect');
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n`,
    );
    const head = await readUntil(socket, got, (s) => s.includes('hello-from-server;'), '101 + server bytes');
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, new RegExp(`sec-websocket-accept: ${ACCEPT.replace(/[+/=]/g, '.')}`, 'i'));
    assert.match(head, /upgrade: websocket/i);
    got.length = 0;
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const echoed = await readUntil(socket, got, (s) => s.length >= 4, 'echo');
    assert.deepEqual(Buffer.from(echoed, 'latin1'), Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const seen = upgradesSeen.at(-1)!;
    assert.equal(seen.upgrade, 'websocket');
    assert.equal(seen['sec-websocket-key'], KEY);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    socket.destroy();
  });

  test('a backend that refuses the upgrade answers like plain HTTP', async () => {
    const r = await rawExchange(
      plane.port,
      'GET /refuse HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    assert.match(r.text, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(r.text, /\r\n\r\nnope$/);
  });

  test('an upgrade without a route → 404; h2c upgrades are refused', async () => {
    assert.match(
      (
        await rawExchange(
          plane.port,
          'GET /nothing HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        )
      ).text,
      /^HTTP\/1\.1 404 /,
    );
    assert.match(
      (
        await rawExchange(
          plane.port,
          'GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
        )
      ).text,
      /^HTTP\/1\.1 400 /,
    );
  });
});
