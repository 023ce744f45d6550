/** Demo backends speak h2c too: the rides gRPC services, and the usual JSON for other HTTP/2 requests. */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { listenDemo, type DemoServer } from '../../src/demo/grpc-backends.ts';
import { decodeMessage, encodeMessage, RIDES_METHODS } from '../../src/demo/rides.ts';
import { grpcServerStreaming, grpcUnary } from '../support/grpc-client.ts';
import { freePort, httpGet } from '../support/serve.ts';

const who = { service: 'booking-service', namespace: 'default', version: 'v1' };
let server: DemoServer;
let port: number;

before(async () => {
  port = await freePort();
  server = await listenDemo('127.0.0.1', port, who, (method, path, host) =>
    JSON.stringify({ ...who, method, path, host }),
  );
});
after(() => server.close());

const call = (path: string, json: Record<string, unknown>) =>
  grpcUnary(`http://127.0.0.1:${port}`, path, encodeMessage(RIDES_METHODS[path].request, json));

test('RequestRide and CancelRide answer with the Service that served them', async () => {
  const path = '/rides.BookingService/RequestRide';
  const r = await call(path, { rider: 'ana', pickup: 'A', dropoff: 'B' });
  assert.equal(r.code, 0);
  const reply = decodeMessage(RIDES_METHODS[path].response, r.messages[0]);
  assert.match(String(reply.rideId), /^ride-[0-9a-f]{6}$/);
  assert.deepEqual({ ...reply, rideId: 'x' }, { rideId: 'x', status: 'DRIVER_ASSIGNED', servedBy: 'booking-service' });
  const again = await call(path, { rider: 'ana', pickup: 'A', dropoff: 'B' });
  assert.deepEqual(again.messages, r.messages, 'the ride id is a function of the request');

  const cancel = await call('/rides.BookingService/CancelRide', { rideId: 'ride-1' });
  assert.deepEqual(decodeMessage(RIDES_METHODS['/rides.BookingService/CancelRide'].response, cancel.messages[0]), {
    rideId: 'ride-1',
    status: 'CANCELLED',
    servedBy: 'booking-service',
  });
});

test('StreamLocation streams `updates` messages, then OK', async () => {
  const path = '/rides.TrackingService/StreamLocation';
  const seqs: number[] = [];
  const r = await grpcServerStreaming(
    `http://127.0.0.1:${port}`,
    path,
    encodeMessage(RIDES_METHODS[path].request, { rideId: 'r', updates: 4 }),
    { onMessage: (m) => seqs.push(Number(decodeMessage(RIDES_METHODS[path].response, m).seq)) },
  );
  assert.equal(r.code, 0);
  assert.deepEqual(seqs, [1, 2, 3, 4]);
});

test('an unknown method is UNIMPLEMENTED, trailers-only', async () => {
  const r = await grpcUnary(`http://127.0.0.1:${port}`, '/rides.Other/Call', Buffer.alloc(0));
  assert.equal(r.code, 12);
  assert.equal(r.trailersOnly, true);
});

test('plain requests get the JSON answer over HTTP/1.1 and over HTTP/2', async () => {
  const h1 = await httpGet(`http://127.0.0.1:${port}/x`, { host: 'a.example' });
  assert.deepEqual(JSON.parse(h1.body), { ...who, method: 'GET', path: '/x', host: 'a.example' });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const body = await new Promise<string>((resolve, reject) => {
    const s = session.request({ ':path': '/y', ':authority': 'b.example' });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
  session.close();
  assert.deepEqual(JSON.parse(body), { ...who, method: 'GET', path: '/y', host: 'b.example' });
});
