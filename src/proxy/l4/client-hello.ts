/**
 * Reads the SNI (and ALPN) of a TLS ClientHello without terminating TLS, so
 * that a TLS listener can route passthrough connections, and pick the
 * listener of a shared port before deciding whether to terminate (or, on
 * HTTPS, which listener's context the handshake starts with). Also the key
 * name of a session ticket offered for resumption (TLS 1.2 session_ticket,
 * TLS 1.3 first pre_shared_key identity), so that a ticket of the previous
 * key period can be given the context that still holds its key.
 *
 * Incremental: call it again with more bytes until it stops answering
 * `incomplete`. The ClientHello may span several TLS records and arrive in
 * any number of TCP segments; the caller bounds both the bytes and the time.
 */

export type ClientHelloResult =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  | {
      status: 'ok';
      /** Lower case, no trailing dot; undefined when the client sent no server_name. */
      sni: string | undefined;
      /** ALPN protocols offered, in the client's order (empty without the extension). */
      alpn: string[];
      /** First 16 bytes of the session ticket offered (OpenSSL's key name); undefined without one. */
      ticketName?: Buffer;
    };

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SESSION_TICKET = 35;
const EXT_PRE_SHARED_KEY = 41;
const TICKET_NAME_BYTES = 16;
const NAME_TYPE_HOST = 0;
/** TLSPlaintext.length must not exceed 2^14 (RFC 8446 §5.1). */
const MAX_RECORD = 16384;

const INCOMPLETE: ClientHelloResult = { status: 'incomplete' };

function invalid(reason: string): ClientHelloResult {
  return { status: 'invalid', reason };
}

/** Parses the ClientHello at the start of `data` (everything the client has sent so far). */
export function parseClientHello(data: Buffer): ClientHelloResult {
  // Gather the handshake message from consecutive handshake records.
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (data.length < off + 5) return INCOMPLETE;
    if (data[off] !== RECORD_HANDSHAKE) {
      return invalid(off === 0 ? 'not a TLS handshake record' : 'ClientHello interrupted by another record type');
    }
    if (data[off + 1] !== 3) return invalid('unsupported record version');
    const len = data.readUInt16BE(off + 3);
    if (len === 0 || len > MAX_RECORD) return invalid('bad record length');
    const end = off + 5 + Math.min(len, data.length - off - 5);
    fragments.push(data.subarray(off + 5, end));
    have += end - off - 5;
    if (need < 0 && have >= 4) {
      const head = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('first handshake message is not a ClientHello');
      need = 4 + head.readUIntBE(1, 3);
    }
    if (end < off + 5 + len) return INCOMPLETE;
    off = end;
  }
  const msg = (fragments.length === 1 ? fragments[0] : Buffer.concat(fragments)).subarray(4, need);
  return parseBody(msg);
}

/** A bounds-checked reader: any read past the end throws, turning into `invalid`. */
class Reader {
  off = 0;
  constructor(private readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.off;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++];
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new RangeError('truncated');
  }
}

function parseBody(msg: Buffer): ClientHelloResult {
  try {
    const r = new Reader(msg);
    r.bytes(2 + 32); // legacy_version, random
    r.bytes(r.u8()); // legacy_session_id
    const suites = r.u16();
    if (suites === 0 || suites % 2 !== 0) return invalid('bad cipher_suites');
    r.bytes(suites);
    r.bytes(r.u8()); // legacy_compression_methods
    let sni: string | undefined;
    let alpn: string[] = [];
    let ticket: Buffer | undefined;
    if (r.left === 0) return { status: 'ok', sni, alpn }; // no extensions at all (old clients)
    const ext = new Reader(r.bytes(r.u16()));
    const seen = new Set<number>();
    while (ext.left > 0) {
      const type = ext.u16();
      const body = ext.bytes(ext.u16());
      if (seen.has(type)) return invalid('duplicate extension');
      seen.add(type);
      if (type === EXT_SERVER_NAME) {
        const name = serverName(body);
        if (name === null) return invalid('bad server_name extension');
        sni = name;
      } else if (type === EXT_ALPN) {
        alpn = protocols(body);
      } else if (type === EXT_SESSION_TICKET) {
        ticket ??= body;
      } else if (type === EXT_PRE_SHARED_KEY) {
        ticket = firstPskIdentity(body);
      }
    }
    if (ticket === undefined || ticket.length < TICKET_NAME_BYTES) return { status: 'ok', sni, alpn };
    return { status: 'ok', sni, alpn, ticketName: ticket.subarray(0, TICKET_NAME_BYTES) };
  } catch {
    return invalid('truncated ClientHello');
  }
}

/** The host_name entry, or undefined when there is none; null when malformed. */
function serverName(body: Buffer): string | undefined | null {
  const r = new Reader(body);
  const list = new Reader(r.bytes(r.u16()));
  if (r.left !== 0) return null;
  let name: string | undefined;
  while (list.left > 0) {
    const type = list.u8();
    const value = list.bytes(list.u16());
    if (type !== NAME_TYPE_HOST || name !== undefined) continue;
    name = value.toString('latin1');
  }
  if (name === undefined) return undefined;
  const host = name.toLowerCase().replace(/\.$/, '');
  return isHostname(host) ? host : null;
}

/** The first identity of a pre_shared_key extension (a ticket, for resumption). */
function firstPskIdentity(body: Buffer): Buffer {
  const r = new Reader(body);
  const identities = new Reader(r.bytes(r.u16()));
  return identities.bytes(identities.u16());
}

function protocols(body: Buffer): string[] {
  const r = new Reader(body);
  const list = new Reader(r.bytes(r.u16()));
  const out: string[] = [];
  while (list.left > 0) out.push(list.bytes(list.u8()).toString('latin1'));
  return out;
}

/** DNS-ish names only: what reaches the host tables must not carry control bytes or spaces. */
function isHostname(h: string): boolean {
  return h.length > 0 && h.length <= 253 && /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(h);
}
