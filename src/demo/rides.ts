/**
 * The messages of examples/grpc-routing/rides.proto, for the demo backends
 * and the example's client: proto3 wire format by hand (./protobuf.ts), and
 * proto3's JSON mapping (lowerCamelCase names, default values left out).
 */
import { ProtoReader, ProtoWriter } from './protobuf.ts';

export type Json = Record<string, string | number>;

/** One field of a message: number, JSON name, type. */
export type Field = [number, string, 'string' | 'int32' | 'double'];

const RIDE_REQUEST: Field[] = [
  [1, 'rider', 'string'],
  [2, 'pickup', 'string'],
  [3, 'dropoff', 'string'],
];
const RIDE_REPLY: Field[] = [
  [1, 'rideId', 'string'],
  [2, 'status', 'string'],
  [3, 'servedBy', 'string'],
];
const CANCEL_REQUEST: Field[] = [[1, 'rideId', 'string']];
const LOCATION_REQUEST: Field[] = [
  [1, 'rideId', 'string'],
  [2, 'updates', 'int32'],
];
const LOCATION: Field[] = [
  [1, 'rideId', 'string'],
  [2, 'seq', 'int32'],
  [3, 'lat', 'double'],
  [4, 'lng', 'double'],
  [5, 'servedBy', 'string'],
];

export function encodeMessage(fields: Field[], json: Record<string, unknown>): Buffer {
  const w = new ProtoWriter();
  for (const [n, name, type] of fields) {
    const v = json[name];
    if (type === 'string') w.string(n, typeof v === 'string' ? v : undefined);
    else if (type === 'int32') w.int(n, typeof v === 'number' ? v : undefined);
    else w.double(n, typeof v === 'number' ? v : undefined);
  }
  return w.finish();
}

export function decodeMessage(fields: Field[], buf: Buffer): Json {
  const r = ProtoReader.of(buf);
  const out: Json = {};
  for (const [n, name, type] of fields) {
    const v = type === 'string' ? r.string(n) : type === 'int32' ? r.int(n) : r.double(n);
    if (v !== '' && v !== 0) out[name] = v;
  }
  return out;
}

export interface RidesMethod {
  request: Field[];
  response: Field[];
  serverStreaming: boolean;
}

/** Every method of rides.proto, by gRPC path. */
export const RIDES_METHODS: Record<string, RidesMethod> = {
  '/rides.BookingService/RequestRide': { request: RIDE_REQUEST, response: RIDE_REPLY, serverStreaming: false },
  '/rides.BookingService/CancelRide': { request: CANCEL_REQUEST, response: RIDE_REPLY, serverStreaming: false },
  '/rides.TrackingService/StreamLocation': { request: LOCATION_REQUEST, response: LOCATION, serverStreaming: true },
};
