/**
 * Streaming RPCs through the gateway, with the flow control that keeps
 * them from being buffered: a reader that stops reading stops its writer
 * (bounded bytes in flight), each way, and messages are relayed one by one
 * (a ping-pong over one bidi stream would deadlock otherwise).
 */
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type ServerHttp2Stream } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrame, FrameDecoder } from '../../../src/proxy/grpc/frames.ts';
import { simpleIR, startPlane, withTimeout, type RunningPlane } from '../helpers.ts';
import { grpcBackend, grpcRoute, startGrpcOrigin, type GrpcOrigin } from './helpers.ts';

const SVC = 'tracking.Tracker';
const MESSAGE = 16 * 1024;
const TOTAL_MESSAGES = 2048; // 32 MiB each way
/** Bytes allowed in flight between a writer and a reader that stopped reading (windows and stream buffers). */
const BOUND = 1024 * 1024;

function payload(i: number): Buffer {
  const b = Buffer.alloc(MESSAGE, i % 251);
  b.writeUInt32BE(i, 0);
  return b;
}

/** Writes with backpressure: waits for 'drain' whenever write() says so. */
async function writeAll(
  stream: ServerHttp2Stream | ClientHttp2Stream,
  n: number,
  onWritten: (bytes: number) => void,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (stream.destroyed) return;
    const frame = encodeFrame(payload(i));
    onWritten(frame.length);
    if (!stream.write(frame)) await new Promise((r) => stream.once('drain', r));
  }
}

describe('gRPC streaming through the gateway', () => {
  let origin: GrpcOrigin;
  let plane: RunningPlane;
  let session: ClientHttp2Session;
  let produced = 0;
  let uploaded = 0;
  let uploadReadStarts: () => void = () => undefined;
  let forEverClosed = false;

  before(async () => {
    origin = await startGrpcOrigin({
      // Server streaming: 32 MiB as fast as the gateway takes it.
      [`/${SVC}/Flood`]: (stream) => {
        stream.resume();
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        void writeAll(stream, TOTAL_MESSAGES, (b) => (produced += b)).then(() => stream.end());
      },
      // Client streaming: reads nothing until told, then counts.
      [`/${SVC}/Upload`]: (stream) => {
        uploadReadStarts = () => {
          const decoder = new FrameDecoder();
          let count = 0;
          stream.on('data', (c: Buffer) => {
            uploaded += c.length;
            count += decoder.push(c).length;
          });
          stream.on('end', () => {
            stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
            stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
            stream.end(encodeFrame(Buffer.from(`received ${count}`)));
          });
        };
      },
      // Bidi: every message echoed at once.
      [`/${SVC}/Chat`]: (stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        const decoder = new FrameDecoder();
        stream.on('data', (c: Buffer) => {
          for (const f of decoder.push(c)) stream.write(encodeFrame(Buffer.from(`echo ${String(f.payload)}`)));
        });
        stream.on('end', () => stream.end());
      },
      // Server streaming until the client goes away.
      [`/${SVC}/Forever`]: (stream) => {
        stream.resume();
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        const timer = setInterval(() => stream.write(encodeFrame(Buffer.from('tick'))), 10);
        stream.on('close', () => {
          clearInterval(timer);
          forEverClosed = true;
        });
      },
    });
    plane = await startPlane(simpleIR([grpcRoute(SVC, null, { backends: [grpcBackend('tracker', origin.port)] })]));
    session = http2.connect(`http://127.0.0.1:${plane.port}`);
  });
  after(async () => {
    session.close();
    await plane.close();
    await origin.close();
  });

  function call(method: string, endStream: boolean): ClientHttp2Stream {
    return session.request(
      { ':method': 'POST', ':path': `/${SVC}/${method}`, 'content-type': 'application/grpc', te: 'trailers' },
      { endStream },
    );
  }

  test('server streaming: a client that stops reading holds the backend back; all arrives once it reads', async () => {
    const stream = call('Flood', false);
    stream.end(encodeFrame(Buffer.from('ride-1')));
    await withTimeout(new Promise((r) => stream.once('response', r)), 5000, 'response headers');
    stream.pause();
    await sleep(400);
    const held = produced;
    assert.ok(held < BOUND, `the backend wrote ${held} bytes to a client that reads nothing (bound ${BOUND})`);

    const decoder = new FrameDecoder();
    let count = 0;
    let ordered = true;
    stream.on('data', (c: Buffer) => {
      for (const f of decoder.push(c)) {
        if (f.payload.readUInt32BE(0) !== count) ordered = false;
        count++;
      }
    });
    const trailers = new Promise<http2.IncomingHttpHeaders>((r) => stream.once('trailers', r));
    stream.resume();
    assert.equal((await withTimeout(trailers, 20_000, 'trailers'))['grpc-status'], '0');
    assert.equal(count, TOTAL_MESSAGES);
    assert.ok(ordered, 'messages in order');
    assert.equal(produced, TOTAL_MESSAGES * (MESSAGE + 5));
  });

  test('client streaming: a backend that reads nothing holds the client back; all arrives once it reads', async () => {
    const stream = call('Upload', false);
    stream.on('error', () => undefined);
    let sent = 0;
    const writing = writeAll(stream, TOTAL_MESSAGES, (b) => (sent += b));
    await sleep(400);
    const held = sent;
    assert.ok(
      held < BOUND,
      `the client could write ${held} bytes towards a backend that reads nothing (bound ${BOUND})`,
    );
    uploadReadStarts();
    await withTimeout(writing, 20_000, 'upload');
    stream.end();
    const messages: string[] = [];
    stream.on('data', (c: Buffer) => {
      for (const f of new FrameDecoder().push(c)) messages.push(String(f.payload));
    });
    const trailers = await withTimeout(
      new Promise<http2.IncomingHttpHeaders>((r) => stream.once('trailers', r)),
      10_000,
      'trailers',
    );
    assert.equal(trailers['grpc-status'], '0');
    assert.deepEqual(messages, [`received ${TOTAL_MESSAGES}`]);
    assert.equal(uploaded, TOTAL_MESSAGES * (MESSAGE + 5));
  });

  test('bidi: fifty request/response rounds on one stream, each answer before the next request', async () => {
    const stream = call('Chat', false);
    const decoder = new FrameDecoder();
    const waiting: Array<(s: string) => void> = [];
    stream.on('data', (c: Buffer) => {
      for (const f of decoder.push(c)) waiting.shift()?.(String(f.payload));
    });
    for (let i = 0; i < 50; i++) {
      const answer = new Promise<string>((r) => waiting.push(r));
      stream.write(encodeFrame(Buffer.from(`ping ${i}`)));
      assert.equal(await withTimeout(answer, 2000, `answer ${i}`), `echo ping ${i}`);
    }
    const trailers = new Promise<http2.IncomingHttpHeaders>((r) => stream.once('trailers', r));
    stream.end();
    assert.equal((await withTimeout(trailers, 2000, 'trailers'))['grpc-status'], '0');
  });

  test('a client that cancels (RST_STREAM CANCEL) ends the backend stream too', async () => {
    const stream = call('Forever', false);
    stream.end(encodeFrame(Buffer.alloc(0)));
    stream.on('error', () => undefined);
    const decoder = new FrameDecoder();
    let got = 0;
    await withTimeout(
      new Promise<void>((resolve) => {
        stream.on('data', (c: Buffer) => {
          got += decoder.push(c).length;
          if (got >= 3) resolve();
        });
      }),
      2000,
      'three messages',
    );
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const deadline = Date.now() + 2000;
    while (!forEverClosed && Date.now() < deadline) await sleep(10);
    assert.ok(forEverClosed, 'the backend stream was closed');
  });
});
