/**
 * gRPC's length-prefixed messages: a flags byte (bit 0 = compressed; bit 7
 * = a grpc-web trailer frame), a 4-byte big-endian length, the payload.
 * The data plane itself never parses requests' frames (it proxies bytes);
 * it writes grpc-web trailer frames, and the demo backends and tests read
 * and write messages with these.
 */

export const FRAME_HEADER_BYTES = 5;
/** grpc-web: the frame carries the trailers, as HTTP/1 header lines. */
export const TRAILER_FLAG = 0x80;

export interface Frame {
  flags: number;
  payload: Buffer;
}

export function encodeFrame(payload: Buffer, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out[0] = flags;
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** Incremental reader: feed it chunks as they arrive, get the frames completed so far. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** @param maxFrameBytes frames announcing a larger payload throw (bounds memory) */
  constructor(private readonly maxFrameBytes = 4 << 20) {}

  push(chunk: Buffer): Frame[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Frame[] = [];
    while (buf.length >= FRAME_HEADER_BYTES) {
      const length = buf.readUInt32BE(1);
      if (length > this.maxFrameBytes) throw new Error(`gRPC frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
      if (buf.length < FRAME_HEADER_BYTES + length) break;
      out.push({ flags: buf[0], payload: buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length) });
      buf = buf.subarray(FRAME_HEADER_BYTES + length);
    }
    this.pending = buf;
    return out;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** A grpc-web trailer frame: `name:value\r\n` per trailer, names lower case (grpc-web PROTOCOL-WEB.md). */
export function trailerFrame(trailers: ReadonlyArray<readonly [string, string]>): Buffer {
  let text = '';
  for (const [name, value] of trailers) text += `${name.toLowerCase()}:${value}\r\n`;
  return encodeFrame(Buffer.from(text, 'latin1'), TRAILER_FLAG);
}

/** The trailers of a grpc-web trailer frame's payload. */
export function parseTrailerFrame(payload: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of payload.toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return out;
}
