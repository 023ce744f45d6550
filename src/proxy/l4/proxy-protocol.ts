/**
 * The PROXY protocol (HAProxy, versions 1 and 2): a header in front of a
 * connection's bytes that carries the original client and destination
 * addresses across a proxy. Encoded towards backends that ask for it
 * (BackendIR.proxyProtocol) and decoded from clients on listeners that
 * require it (ListenerIR.enableProxyProtocol), or accept it without
 * requiring it (ListenerIR.proxyProtocolOptional: the first bytes tell).
 *
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 */
import net from 'node:net';

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ProxyAddresses {
  family: 'IPv4' | 'IPv6';
  source: ProxyEndpoint;
  destination: ProxyEndpoint;
}

export interface ProxyTlv {
  type: number;
  value: Buffer;
}

export interface ProxyHeader {
  version: 1 | 2;
  /** LOCAL: the connection was made by the proxy itself (health checks); addresses are meaningless. */
  command: 'PROXY' | 'LOCAL';
  transport: 'STREAM' | 'DGRAM' | 'UNSPEC';
  /** Absent for LOCAL, UNKNOWN (v1), AF_UNSPEC and AF_UNIX (v2). */
  addresses?: ProxyAddresses;
  tlvs: ProxyTlv[];
}

export type ProxyDecodeResult =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  | { status: 'ok'; header: ProxyHeader; /** Bytes the header took. */ length: number };

/** The 12-byte v2 signature. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Longest v1 line, CRLF included (spec §2.1). */
const V1_MAX = 107;
/** v2 headers above this are refused: a TLV flood is not worth buffering. */
const V2_MAX_PAYLOAD = 4096;

// ---------------------------------------------------------------- encoding

export function encodeV1(addresses: ProxyAddresses | undefined): Buffer {
  if (addresses === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const { family, source: s, destination: d } = addresses;
  const proto = family === 'IPv4' ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${proto} ${s.address} ${d.address} ${s.port} ${d.port}\r\n`, 'latin1');
}

export interface V2Options {
  command?: 'PROXY' | 'LOCAL';
  transport?: 'STREAM' | 'DGRAM';
  addresses?: ProxyAddresses;
  tlvs?: ProxyTlv[];
}

export function encodeV2(opts: V2Options): Buffer {
  const command = opts.command ?? 'PROXY';
  const a = command === 'PROXY' ? opts.addresses : undefined;
  const famNibble = a === undefined ? 0 : a.family === 'IPv4' ? 1 : 2;
  const transNibble = a === undefined ? 0 : opts.transport === 'DGRAM' ? 2 : 1;
  const addr =
    a === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([ipBytes(a.source.address, a.family), ipBytes(a.destination.address, a.family), ports(a)]);
  const tlvs = (opts.tlvs ?? []).map((t) => {
    const h = Buffer.alloc(3);
    h[0] = t.type;
    h.writeUInt16BE(t.value.length, 1);
    return Buffer.concat([h, t.value]);
  });
  const payload = Buffer.concat([addr, ...tlvs]);
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head, 0);
  head[12] = 0x20 | (command === 'PROXY' ? 1 : 0);
  head[13] = (famNibble << 4) | transNibble;
  head.writeUInt16BE(payload.length, 14);
  return Buffer.concat([head, payload]);
}

/** The header for a connection from `source` to `destination`, in the version the backend asks for. */
export function encodeProxyHeader(version: 'V1' | 'V2', source: ProxyEndpoint, destination: ProxyEndpoint): Buffer {
  const addresses = addressesOf(source, destination);
  return version === 'V1' ? encodeV1(addresses) : encodeV2({ addresses });
}

/**
 * Both ends in one family, as the protocol requires: IPv4-mapped IPv6 is
 * unwrapped when both ends are IPv4, and IPv4 is mapped when only one is.
 * Undefined when an address is not an IP (a unix socket).
 */
export function addressesOf(source: ProxyEndpoint, destination: ProxyEndpoint): ProxyAddresses | undefined {
  const s = unmap(source.address);
  const d = unmap(destination.address);
  const sf = net.isIP(s);
  const df = net.isIP(d);
  if (sf === 0 || df === 0) return undefined;
  if (sf === 4 && df === 4) {
    return { family: 'IPv4', source: { ...source, address: s }, destination: { ...destination, address: d } };
  }
  const v6 = (a: string, f: number): string => (f === 4 ? `::ffff:${a}` : a);
  return {
    family: 'IPv6',
    source: { ...source, address: v6(s, sf) },
    destination: { ...destination, address: v6(d, df) },
  };
}

function unmap(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? m[1] : a;
}

function ports(a: ProxyAddresses): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(a.source.port, 0);
  b.writeUInt16BE(a.destination.port, 2);
  return b;
}

// ---------------------------------------------------------------- decoding

/** Decodes a v1 or v2 header at the start of `data`; `incomplete` asks for more bytes. */
export function decodeProxyHeader(data: Buffer): ProxyDecodeResult {
  if (startsWithPrefix(data, V2_SIGNATURE)) {
    return data.length < V2_SIGNATURE.length ? { status: 'incomplete' } : decodeV2(data);
  }
  if (startsWithPrefix(data, V1_PREFIX)) {
    return data.length < V1_PREFIX.length ? { status: 'incomplete' } : decodeV1(data);
  }
  return { status: 'invalid', reason: 'no PROXY protocol header' };
}

/**
 * False once the first bytes show no PROXY header can follow (neither the v1
 * `PROXY ` nor the v2 signature); true while they still could, so an
 * optional header is told apart after at most 12 bytes.
 */
export function mayBeProxyHeader(data: Buffer): boolean {
  return startsWithPrefix(data, V2_SIGNATURE) || startsWithPrefix(data, V1_PREFIX);
}

/** True when `data` and `prefix` agree on their common length. */
function startsWithPrefix(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

function decodeV1(data: Buffer): ProxyDecodeResult {
  const window = data.subarray(0, V1_MAX);
  const cr = window.indexOf('\r\n', 0, 'latin1');
  if (cr < 0) {
    return data.length >= V1_MAX ? { status: 'invalid', reason: 'v1 line too long' } : { status: 'incomplete' };
  }
  const parts = window.subarray(0, cr).toString('latin1').split(' ');
  const length = cr + 2;
  const base = { version: 1 as const, command: 'PROXY' as const, tlvs: [] };
  if (parts[1] === 'UNKNOWN') return { status: 'ok', header: { ...base, transport: 'UNSPEC' }, length };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) {
    return { status: 'invalid', reason: 'malformed v1 line' };
  }
  const family = parts[1] === 'TCP4' ? 'IPv4' : 'IPv6';
  const want = family === 'IPv4' ? 4 : 6;
  const [, , src, dst, sp, dp] = parts;
  const sport = portOf(sp);
  const dport = portOf(dp);
  if (net.isIP(src) !== want || net.isIP(dst) !== want || sport < 0 || dport < 0) {
    return { status: 'invalid', reason: 'bad v1 address or port' };
  }
  const addresses = {
    family,
    source: { address: src, port: sport },
    destination: { address: dst, port: dport },
  } as const;
  return { status: 'ok', header: { ...base, transport: 'STREAM', addresses }, length };
}

function portOf(s: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

function decodeV2(data: Buffer): ProxyDecodeResult {
  if (data.length < 16) return { status: 'incomplete' };
  const verCmd = data[12];
  if (verCmd >> 4 !== 2) return { status: 'invalid', reason: 'unsupported v2 version' };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { status: 'invalid', reason: 'unknown v2 command' };
  const fam = data[13] >> 4;
  const trans = data[13] & 0x0f;
  const len = data.readUInt16BE(14);
  if (len > V2_MAX_PAYLOAD) return { status: 'invalid', reason: 'v2 header too long' };
  if (data.length < 16 + len) return { status: 'incomplete' };
  if (fam > 3 || trans > 2) return { status: 'invalid', reason: 'unknown v2 family or transport' };
  const payload = data.subarray(16, 16 + len);
  const addrLen = [0, 12, 36, 216][fam];
  if (payload.length < addrLen) return { status: 'invalid', reason: 'v2 address block too short' };
  const header: ProxyHeader = {
    version: 2,
    command: cmd === 1 ? 'PROXY' : 'LOCAL',
    transport: trans === 1 ? 'STREAM' : trans === 2 ? 'DGRAM' : 'UNSPEC',
    tlvs: [],
  };
  if (cmd === 1 && (fam === 1 || fam === 2)) {
    const n = fam === 1 ? 4 : 16;
    header.addresses = {
      family: fam === 1 ? 'IPv4' : 'IPv6',
      source: { address: ipText(payload.subarray(0, n)), port: payload.readUInt16BE(2 * n) },
      destination: { address: ipText(payload.subarray(n, 2 * n)), port: payload.readUInt16BE(2 * n + 2) },
    };
  }
  const tlvs = payload.subarray(addrLen);
  for (let off = 0; off < tlvs.length;) {
    if (off + 3 > tlvs.length) return { status: 'invalid', reason: 'truncated v2 TLV' };
    const vlen = tlvs.readUInt16BE(off + 1);
    if (off + 3 + vlen > tlvs.length) return { status: 'invalid', reason: 'truncated v2 TLV' };
    header.tlvs.push({ type: tlvs[off], value: Buffer.from(tlvs.subarray(off + 3, off + 3 + vlen)) });
    off += 3 + vlen;
  }
  return { status: 'ok', header, length: 16 + len };
}

// ---------------------------------------------------------------- addresses

/** Network-order bytes of an IP literal of `family` (the caller has checked it with `net.isIP`). */
export function ipBytes(address: string, family: 'IPv4' | 'IPv6'): Buffer {
  if (family === 'IPv4') return Buffer.from(address.split('.').map(Number));
  let text = address.replace(/%.*$/, ''); // zone ids mean nothing off this host
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[2].split('.').map(Number);
    tail.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    text = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - tail.length - left.length - right.length;
  const groups = [
    ...left,
    ...(rest === undefined ? [] : new Array<number>(Math.max(0, fill)).fill(0)),
    ...right,
    ...tail,
  ];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, 2 * i);
  return out;
}

/** Text form (RFC 5952 for IPv6: lower case, longest zero run compressed). */
export function ipText(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipText(b.subarray(12))}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}
