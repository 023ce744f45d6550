/**
 * Just enough protobuf (proto3 wire format) for the demo gRPC backends, the
 * example client and the test gRPC echo server: varints, length-delimited
 * fields (strings, bytes, nested messages) and 64-bit doubles. Messages are
 * written field by field and read into a list of fields; unknown fields are
 * skipped, as proto3 requires. No dependency, no code generation.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  /** A string field; proto3 leaves empty strings off the wire. */
  string(field: number, value: string | undefined): this {
    if (value === undefined || value === '') return this;
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytes(field: number, value: Buffer): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  /** A nested message (always written, even when empty, so that presence shows). */
  message(field: number, value: ProtoWriter | undefined): this {
    return value === undefined ? this : this.bytes(field, value.finish());
  }

  /** int32/int64/uint32/bool as a varint; zero is left off the wire. */
  int(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  double(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    this.tag(field, WIRE_I64);
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(value);
    this.parts.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  private varint(n: number): void {
    // Negative int32 values take 10 bytes (two's complement as 64 bits).
    let v = BigInt.asUintN(64, BigInt(Math.trunc(n)));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.parts.push(Buffer.from(out));
  }
}

export interface ProtoField {
  field: number;
  wire: number;
  /** Varint fields (as a JS number; fine below 2^53). */
  int: number;
  /** Length-delimited and fixed-width fields: the raw bytes. */
  bytes: Buffer;
}

/** The fields of a message in wire order; throws on a truncated or malformed buffer. */
export function readFields(buf: Buffer): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      if (shift > 63n) throw new Error('protobuf: varint too long');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  };
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw new Error('protobuf: truncated field');
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new Error('protobuf: field number 0');
    switch (wire) {
      case WIRE_VARINT:
        out.push({ field, wire, int: Number(BigInt.asIntN(64, varint())), bytes: EMPTY });
        break;
      case WIRE_I64:
        out.push({ field, wire, int: 0, bytes: take(8) });
        break;
      case WIRE_LEN:
        out.push({ field, wire, int: 0, bytes: take(Number(varint())) });
        break;
      case WIRE_I32:
        out.push({ field, wire, int: 0, bytes: take(4) });
        break;
      default:
        throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

const EMPTY = Buffer.alloc(0);

/** Field readers over `readFields` output: the last occurrence wins for singular fields, as in protobuf. */
export class ProtoReader {
  constructor(readonly fields: readonly ProtoField[]) {}

  static of(buf: Buffer): ProtoReader {
    return new ProtoReader(readFields(buf));
  }

  string(field: number): string {
    return this.last(field, WIRE_LEN)?.bytes.toString('utf8') ?? '';
  }

  strings(field: number): string[] {
    return this.fields.filter((f) => f.field === field && f.wire === WIRE_LEN).map((f) => f.bytes.toString('utf8'));
  }

  int(field: number): number {
    return this.last(field, WIRE_VARINT)?.int ?? 0;
  }

  double(field: number): number {
    return this.last(field, WIRE_I64)?.bytes.readDoubleLE(0) ?? 0;
  }

  message(field: number): ProtoReader | undefined {
    const f = this.last(field, WIRE_LEN);
    return f === undefined ? undefined : ProtoReader.of(f.bytes);
  }

  messages(field: number): ProtoReader[] {
    return this.fields.filter((f) => f.field === field && f.wire === WIRE_LEN).map((f) => ProtoReader.of(f.bytes));
  }

  private last(field: number, wire: number): ProtoField | undefined {
    for (let i = this.fields.length - 1; i >= 0; i--) {
      const f = this.fields[i];
      if (f.field === field && f.wire === wire) return f;
    }
    return undefined;
  }
}
