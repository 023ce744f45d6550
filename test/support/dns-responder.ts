/**
 * A stand-in for the conformance suite's CoreDNS (TRANSPORT-KINDS.md §7.3):
 * it answers A queries for names in its zone (default `foo.bar.com`) with
 * the client's IPv4 address, as CoreDNS's whoami plugin does, NXDOMAIN for
 * other names, and an empty NOERROR for other types in the zone. Also a
 * query builder and a reply parser for the tests and the runner.
 */
import net from 'node:net';
import { bindUdp, type RunningUdp } from './udp-echo.ts';

export interface DnsResponderOptions {
  host?: string;
  port?: number;
  zone?: string;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;

export function startDnsResponder(opts: DnsResponderOptions = {}): Promise<RunningUdp> {
  const zone = (opts.zone ?? 'foo.bar.com').toLowerCase().replace(/\.$/, '');
  return bindUdp(opts.host, opts.port, (socket, msg, rinfo) => {
    const reply = answer(msg, zone, rinfo.address);
    if (reply !== null) socket.send(reply, rinfo.port, rinfo.address);
  });
}

interface Question {
  name: string;
  type: number;
  klass: number;
  /** The question section's bytes, echoed in the reply. */
  raw: Buffer;
}

function answer(q: Buffer, zone: string, client: string): Buffer | null {
  if (q.length < 12 || (q[2] & 0x80) !== 0) return null; // too short, or itself a response
  const header = Buffer.alloc(12);
  q.copy(header, 0, 0, 2); // id
  const rd = q[2] & 0x01;
  const opcode = q[2] & 0x78;
  const question = q.readUInt16BE(4) === 1 ? readQuestion(q, 12) : null;
  if (question === null) {
    header[2] = 0x80 | opcode | rd;
    header[3] = RCODE_FORMERR;
    return header;
  }
  const inZone = question.name === zone || question.name.endsWith(`.${zone}`);
  const ip = net.isIPv4(client) ? client : (/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(client)?.[1] ?? '127.0.0.1');
  const answers = inZone && question.type === TYPE_A && question.klass === CLASS_IN ? [aRecord(ip)] : [];
  header[2] = 0x80 | opcode | 0x04 | rd; // QR, AA
  header[3] = inZone ? 0 : RCODE_NXDOMAIN;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, question.raw, ...answers]);
}

function readQuestion(q: Buffer, start: number): Question | null {
  const labels: string[] = [];
  let off = start;
  for (;;) {
    if (off >= q.length) return null;
    const len = q[off++];
    if (len === 0) break;
    if (len > 63 || off + len > q.length) return null; // no compression in a question
    labels.push(q.toString('latin1', off, off + len));
    off += len;
  }
  if (off + 4 > q.length) return null;
  return {
    name: labels.join('.').toLowerCase(),
    type: q.readUInt16BE(off),
    klass: q.readUInt16BE(off + 2),
    raw: q.subarray(start, off + 4),
  };
}

function aRecord(ip: string): Buffer {
  const r = Buffer.alloc(16);
  r.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  r.writeUInt16BE(TYPE_A, 2);
  r.writeUInt16BE(CLASS_IN, 4);
  r.writeUInt32BE(0, 6); // TTL 0, like whoami
  r.writeUInt16BE(4, 10);
  ip.split('.').forEach((b, i) => (r[12 + i] = Number(b)));
  return r;
}

/** A standard query (recursion desired) for `name`, type A unless told. */
export function buildDnsQuery(name: string, id: number, type = TYPE_A): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header[2] = 0x01; // RD
  header.writeUInt16BE(1, 4);
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(CLASS_IN, 3);
  return Buffer.concat([header, ...labels, tail]);
}

export interface DnsReply {
  id: number;
  rcode: number;
  /** IPv4 addresses of the A records in the answer section. */
  addresses: string[];
}

/** Parses a reply well enough to check it (id, rcode, A answers); null when it is not a DNS response. */
export function parseDnsReply(r: Buffer): DnsReply | null {
  if (r.length < 12 || (r[2] & 0x80) === 0) return null;
  const qd = r.readUInt16BE(4);
  const an = r.readUInt16BE(6);
  let off = 12;
  const skipName = (): boolean => {
    for (;;) {
      if (off >= r.length) return false;
      const len = r[off];
      if ((len & 0xc0) === 0xc0) {
        off += 2;
        return off <= r.length;
      }
      off += 1 + len;
      if (len === 0) return off <= r.length;
    }
  };
  for (let i = 0; i < qd; i++) {
    if (!skipName()) return null;
    off += 4;
  }
  const addresses: string[] = [];
  for (let i = 0; i < an; i++) {
    if (!skipName() || off + 10 > r.length) return null;
    const type = r.readUInt16BE(off);
    const len = r.readUInt16BE(off + 8);
    off += 10;
    if (off + len > r.length) return null;
    if (type === TYPE_A && len === 4) addresses.push([...r.subarray(off, off + 4)].join('.'));
    off += len;
  }
  return { id: r.readUInt16BE(0), rcode: r[3] & 0x0f, addresses };
}
