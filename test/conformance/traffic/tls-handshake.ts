/**
 * Did the server ask for a client certificate? (EXTRA-KINDS.md 2,
 * `expectCertificateRequest`.) Node's TLS client has no certificate
 * callback and no message callback, so the runner reads the server's
 * handshake flight off the wire itself:
 *
 * - TLS 1.2: the flight is cleartext; a CertificateRequest (handshake type
 *   13) before ServerHelloDone is the answer.
 * - TLS 1.3: everything after ServerHello is encrypted with the server
 *   handshake traffic key. The client socket's `keylog` event (NSS key log
 *   lines, one of them `SERVER_HANDSHAKE_TRAFFIC_SECRET`) hands over that
 *   secret; with it the records are decrypted here (RFC 8446 5.2, 7.1, 7.3)
 *   up to the server's Finished, and CertificateRequest looked for among
 *   EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify.
 *
 * Pure: the bytes the server sent and the key log lines in, a verdict out.
 */
import { createDecipheriv, createHmac, type CipherGCMTypes } from 'node:crypto';

const REC_CCS = 20;
const REC_ALERT = 21;
const REC_HANDSHAKE = 22;
const REC_APPDATA = 23;

const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE_REQUEST = 13;
const HS_SERVER_HELLO_DONE = 14;
const HS_FINISHED = 20;

const EXT_SUPPORTED_VERSIONS = 0x002b;
const TLS13 = 0x0304;

/** SHA-256("HelloRetryRequest"): the `random` of a ServerHello that is really a HelloRetryRequest. */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

interface Suite {
  cipher: string;
  hash: 'sha256' | 'sha384';
  keyLength: number;
}

const TLS13_SUITES: Record<number, Suite> = {
  0x1301: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  0x1302: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  0x1303: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
};

export interface HandshakeObservation {
  /** `TLS1.2`, `TLS1.3`, or undefined when no ServerHello was seen. */
  version?: string;
  /** true/false once the flight was read up to ServerHelloDone / Finished; undefined when it could not be. */
  certificateRequested?: boolean;
  /** Why the answer is undefined. */
  unknown?: string;
}

interface TlsRecord {
  type: number;
  header: Buffer;
  body: Buffer;
}

/** Complete records at the start of `bytes` (a trailing partial record is left out). */
export function splitRecords(bytes: Buffer): TlsRecord[] {
  const out: TlsRecord[] = [];
  let off = 0;
  while (off + 5 <= bytes.length) {
    const len = bytes.readUInt16BE(off + 3);
    if (off + 5 + len > bytes.length) break;
    out.push({ type: bytes[off], header: bytes.subarray(off, off + 5), body: bytes.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  return out;
}

/** Handshake messages (type and body) in a byte stream; stops at a partial message. */
function* handshakeMessages(stream: Buffer): Generator<{ type: number; body: Buffer }> {
  let off = 0;
  while (off + 4 <= stream.length) {
    const len = stream.readUIntBE(off + 1, 3);
    if (off + 4 + len > stream.length) return;
    yield { type: stream[off], body: stream.subarray(off + 4, off + 4 + len) };
    off += 4 + len;
  }
}

interface ServerHello {
  version: number;
  suite: number;
  retry: boolean;
}

function parseServerHello(body: Buffer): ServerHello | undefined {
  // legacy_version(2) random(32) session_id<0..32> cipher_suite(2) compression(1) extensions<..>
  if (body.length < 38) return undefined;
  let version = body.readUInt16BE(0);
  const random = body.subarray(2, 34);
  let off = 34;
  off += 1 + body[off];
  if (off + 3 > body.length) return undefined;
  const suite = body.readUInt16BE(off);
  off += 3;
  if (off + 2 <= body.length) {
    const end = Math.min(body.length, off + 2 + body.readUInt16BE(off));
    off += 2;
    while (off + 4 <= end) {
      const type = body.readUInt16BE(off);
      const len = body.readUInt16BE(off + 2);
      if (type === EXT_SUPPORTED_VERSIONS && len === 2) version = body.readUInt16BE(off + 4);
      off += 4 + len;
    }
  }
  return { version, suite, retry: random.equals(HRR_RANDOM) };
}

/** HKDF-Expand-Label (RFC 8446 7.1) with an empty context; `length` never exceeds one hash block here. */
export function hkdfExpandLabel(hash: 'sha256' | 'sha384', secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return createHmac(hash, secret)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

/** The secret named `label` in NSS key log lines (`LABEL <client random> <secret>`), for any client random. */
export function keylogSecret(lines: readonly string[], label: string): Buffer | undefined {
  for (const text of lines)
    for (const line of text.split('\n')) {
      const [name, , secret] = line.trim().split(/\s+/);
      if (name === label && secret) return Buffer.from(secret, 'hex');
    }
  return undefined;
}

function decryptRecord(rec: TlsRecord, suite: Suite, key: Buffer, iv: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(iv);
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((BigInt(seq) >> BigInt(8 * i)) & 0xffn);
  const tag = rec.body.subarray(rec.body.length - 16);
  const data = rec.body.subarray(0, rec.body.length - 16);
  if (suite.cipher === 'chacha20-poly1305') {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    d.setAAD(rec.header, { plaintextLength: data.length });
    d.setAuthTag(tag);
    return Buffer.concat([d.update(data), d.final()]);
  }
  const d = createDecipheriv(suite.cipher as CipherGCMTypes, key, nonce);
  d.setAAD(rec.header);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(data), d.final()]);
}

/** TLSInnerPlaintext: content, the real content type, zero padding. */
function unpad(inner: Buffer): { type: number; content: Buffer } {
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  return { type: inner[end] ?? 0, content: inner.subarray(0, Math.max(end, 0)) };
}

/** Reads the server's flight (`fromServer`, every byte it sent, in order) as described above. */
export function observeServerFlight(fromServer: Buffer, keylog: readonly string[]): HandshakeObservation {
  const records = splitRecords(fromServer);
  let hello: ServerHello | undefined;
  let plainHandshake = Buffer.alloc(0);
  let i = 0;
  // Cleartext part: ServerHello (after any HelloRetryRequest), and for TLS 1.2 the whole flight.
  for (; i < records.length; i++) {
    const rec = records[i];
    if (rec.type === REC_CCS) {
      if (hello && hello.version !== TLS13) break; // TLS 1.2: the flight ended before ChangeCipherSpec
      continue;
    }
    if (rec.type === REC_ALERT) break;
    if (rec.type !== REC_HANDSHAKE) break;
    plainHandshake = Buffer.concat([plainHandshake, rec.body]);
    let consumed = 0;
    let tls13Ready = false;
    for (const m of handshakeMessages(plainHandshake)) {
      consumed += 4 + m.body.length;
      if (m.type === HS_SERVER_HELLO) {
        const h = parseServerHello(m.body);
        if (!h) return { unknown: 'unparsable ServerHello' };
        if (h.retry) continue;
        hello = h;
        if (h.version === TLS13) {
          tls13Ready = true;
          break;
        }
      } else if (hello && hello.version !== TLS13) {
        if (m.type === HS_CERTIFICATE_REQUEST) return { version: 'TLS1.2', certificateRequested: true };
        if (m.type === HS_SERVER_HELLO_DONE) return { version: 'TLS1.2', certificateRequested: false };
      }
    }
    plainHandshake = plainHandshake.subarray(consumed);
    if (tls13Ready) {
      i++;
      break;
    }
  }
  if (!hello) return { unknown: 'no ServerHello from the server' };
  if (hello.version !== TLS13) return { version: 'TLS1.2', unknown: 'the server flight ended before ServerHelloDone' };

  const suite = TLS13_SUITES[hello.suite];
  if (!suite) return { version: 'TLS1.3', unknown: `cipher suite 0x${hello.suite.toString(16)} not supported` };
  const secret = keylogSecret(keylog, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
  if (!secret) return { version: 'TLS1.3', unknown: 'no SERVER_HANDSHAKE_TRAFFIC_SECRET in the key log' };
  const key = hkdfExpandLabel(suite.hash, secret, 'key', suite.keyLength);
  const iv = hkdfExpandLabel(suite.hash, secret, 'iv', 12);
  let seq = 0;
  let stream = Buffer.alloc(0);
  for (; i < records.length; i++) {
    const rec = records[i];
    if (rec.type === REC_CCS) continue; // middlebox compatibility
    if (rec.type !== REC_APPDATA) break;
    let inner;
    try {
      inner = unpad(decryptRecord(rec, suite, key, iv, seq++));
    } catch {
      return { version: 'TLS1.3', unknown: 'a handshake record did not decrypt' };
    }
    if (inner.type !== REC_HANDSHAKE) break;
    stream = Buffer.concat([stream, inner.content]);
    let consumed = 0;
    for (const m of handshakeMessages(stream)) {
      consumed += 4 + m.body.length;
      if (m.type === HS_CERTIFICATE_REQUEST) return { version: 'TLS1.3', certificateRequested: true };
      if (m.type === HS_FINISHED) return { version: 'TLS1.3', certificateRequested: false };
    }
    stream = stream.subarray(consumed);
  }
  return { version: 'TLS1.3', unknown: 'the server flight ended before Finished' };
}
