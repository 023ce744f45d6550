import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  LOOPBACK,
  backend,
  endpointsOf,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';
import { h2Connect, h2Request } from '../tls-kit.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const GOAWAY = 0x7;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
/** HPACK: GET, http, /, :authority "x" (static table indexes, one literal). */
const GET_BLOCK = Buffer.from([0x82, 0x86, 0x84, 0x01, 0x01, 0x78]);

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

interface Outcome {
  closed: boolean;
  goaway: boolean;
  ms: number;
}

/** Writes `bytes` after the preface, then reads until the server closes (or `ms` passes). */
function flood(port: number, bytes: Buffer, ms = 3000): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, LOOPBACK);
    let goaway = false;
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, goaway, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), ms);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        if (buf[3] === GOAWAY) {
          goaway = true;
          finish(false);
          return;
        }
        buf = buf.subarray(9 + len);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), bytes]));
  });
}

describe('HTTP/2 abuse leaves the gateway serving others', () => {
  let origin: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin('o');
    plane = await startPlane(simpleIR([route({ backends: [backend('o', endpointsOf(origin.port))] })]));
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  async function stillServes(): Promise<void> {
    const s = await h2Connect(`http://${LOOPBACK}:${plane.port}`);
    try {
      const r = await h2Request(s, { ':path': '/after', ':authority': 'ok.example' });
      assert.equal(r.status, 200);
    } finally {
      s.close();
    }
  }

  test('rapid reset: 5 000 HEADERS + RST_STREAM pairs start (almost) no upstream request', async () => {
    const before = origin.seen.length;
    const frames: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const id = 2 * i + 1;
      frames.push(frame(HEADERS, END_HEADERS | END_STREAM, id, GET_BLOCK));
      frames.push(frame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
    }
    const outcome = await flood(plane.port, Buffer.concat(frames));
    assert.ok(outcome.closed || outcome.goaway, 'the flooding session is ended');
    await stillServes();
    const upstream = origin.seen.length - before - 1;
    assert.ok(upstream <= 100, `upstream requests started for reset streams: ${upstream}`);
  });

  test('CONTINUATION flood: an endless header block is cut, nothing reaches upstream', async () => {
    const before = origin.seen.length;
    // Each CONTINUATION carries ~1 KiB of valid literal fields (x-pad: 100 × 'a').
    const field = Buffer.concat([
      Buffer.from([0x00, 0x05]),
      Buffer.from('x-pad'),
      Buffer.from([0x64]),
      Buffer.alloc(100, 0x61),
    ]);
    const payload = Buffer.concat(Array.from({ length: 9 }, () => field));
    const frames = [frame(HEADERS, 0, 1, GET_BLOCK)];
    for (let i = 0; i < 10_000; i++) frames.push(frame(CONTINUATION, 0, 1, payload));
    const outcome = await flood(plane.port, Buffer.concat(frames));
    assert.ok(outcome.closed || outcome.goaway, 'connection cut');
    assert.ok(outcome.ms < 3000);
    await stillServes();
    assert.equal(origin.seen.length - before, 1, 'only the well-behaved request went upstream');
  });

  test('maxConcurrentStreams 100 is advertised; 120 streams opened at once are all served', async () => {
    const s = await h2Connect(`http://${LOOPBACK}:${plane.port}`, { peerMaxConcurrentStreams: 1000 });
    try {
      assert.equal(s.remoteSettings.maxConcurrentStreams, 100);
      const replies = await Promise.allSettled(
        Array.from({ length: 120 }, (_, i) => h2Request(s, { ':path': `/c/${i}`, ':authority': 'ok.example' })),
      );
      const ok = replies.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
      assert.ok(ok >= 100, `served ${ok}`);
    } finally {
      s.close();
    }
    await stillServes();
  });
});
