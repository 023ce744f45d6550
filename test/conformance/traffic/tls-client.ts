/**
 * The checks' TLS client (EXTRA-KINDS.md 2, TRANSPORT-KINDS.md 2.1, 3.4,
 * 6.3): a fresh TCP connection, then a handshake that verifies the server
 * as upstream's Go client does:
 *
 * - roots: only the check's `trust` PEM (or the platform's for `"system"`),
 *   with OpenSSL's partial-chain flag (`allowPartialTrustChain`), so a
 *   trusted leaf or intermediate is an anchor as in Go's root pool;
 * - name: Go's `VerifyHostname` (DNS SANs only, `*` as a whole leftmost
 *   label matches one label, `*.org` included; IP addresses against IP
 *   SANs; the subject CN is never used), not Node's checkServerIdentity,
 *   which refuses `*.tld` wildcards;
 * - SNI: the given server name (never an IP address, as in Go).
 *
 * A client certificate, when given, is presented only if the server asks.
 * With `probe` the server's handshake flight is recorded (raw bytes and
 * key log) so that ./tls-handshake.ts can tell whether it asked.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type PeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import { observeServerFlight, type HandshakeObservation } from './tls-handshake.ts';

export interface TlsClientOptions {
  /** SNI sent and the name verified; undefined: no SNI, the dialled address is verified. */
  serverName?: string;
  /** PEM roots; undefined: the platform's roots. */
  ca?: string;
  /** Client certificate chain and key (PEM), presented when asked for. */
  cert?: string;
  key?: string;
  alpn?: string[];
  minVersion?: SecureVersion;
  /** Record the server flight (see HandshakeProbe). */
  probe?: HandshakeProbe;
}

/** What the server sent during the handshake, for ./tls-handshake.ts. */
export class HandshakeProbe {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly keylog: string[] = [];

  record(chunk: Buffer): void {
    // The flight fits in a few KiB; application data after it does not matter.
    if (this.#size > 1 << 20) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  observe(): HandshakeObservation {
    return observeServerFlight(this.bytes, this.keylog);
  }
}

/** Subject alternative names as Node prints them (`DNS:a, IP Address:1.2.3.4, URI:x`), quoted values unquoted. */
export function parseSubjectAltNames(text: string | undefined): { dns: string[]; ip: string[]; uri: string[] } {
  const out = { dns: [] as string[], ip: [] as string[], uri: [] as string[] };
  if (!text) return out;
  const re = /(DNS|IP Address|URI|email|DirName|othername|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;
  for (const m of text.matchAll(re)) {
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (m[1] === 'DNS') out.dns.push(value);
    else if (m[1] === 'IP Address') out.ip.push(value);
    else if (m[1] === 'URI') out.uri.push(value);
  }
  return out;
}

/** Go's crypto/x509 matchHostnames: same label count, `*` only as the whole leftmost label. */
export function goMatchHostname(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!p || !h) return false;
  const pp = p.split('.');
  const hp = h.split('.');
  if (pp.length !== hp.length) return false;
  return pp.every((part, i) => (i === 0 && part === '*') || part === hp[i]);
}

function normalizeIp(ip: string): string {
  return ip.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Go's Certificate.VerifyHostname, as a checkServerIdentity (undefined = fine). */
export function goCheckServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const sans = parseSubjectAltNames(cert.subjectaltname);
  const bare = normalizeIp(host);
  if (isIP(bare)) {
    if (sans.ip.some((ip) => normalizeIp(ip) === bare)) return undefined;
    return Object.assign(
      new Error(`certificate is not valid for IP ${bare} (IP SANs: ${sans.ip.join(', ') || 'none'})`),
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      },
    );
  }
  if (sans.dns.some((d) => goMatchHostname(d, host))) return undefined;
  return Object.assign(
    new Error(`certificate is valid for ${sans.dns.join(', ') || 'no DNS name'}, not ${host} (Go's hostname rules)`),
    { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  );
}

/** A Duplex over `raw` that hands every byte read to `onRead` first (Node reads a net.Socket natively otherwise). */
function tap(raw: Socket, onRead: (chunk: Buffer) => void): Duplex {
  const d = new Duplex({
    read: () => void raw.resume(),
    write: (chunk: Buffer, _enc, cb) => void raw.write(chunk, cb),
    final: (cb) => void raw.end(cb),
    destroy: (err, cb) => {
      raw.destroy(err ?? undefined);
      cb(err);
    },
  });
  raw.on('data', (c: Buffer) => {
    onRead(c);
    if (!d.push(c)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  raw.on('error', (e) => d.destroy(e));
  raw.on('close', () => d.destroy());
  return d;
}

/** A connected TCP socket, or the connection error; bounded by `timeoutMs`. */
export function connectTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: address, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error(`no TCP connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Starts a TLS handshake over a new connection. Resolves once the handshake
 * completed and verified; rejects with the handshake's error (refused,
 * reset, closed, alert, certificate) or after `timeoutMs`.
 */
export async function connectTls(
  address: string,
  port: number,
  opts: TlsClientOptions,
  timeoutMs: number,
): Promise<TLSSocket> {
  const started = Date.now();
  const raw = await connectTcp(address, port, timeoutMs);
  const probe = opts.probe;
  const transport = probe ? tap(raw, (c) => probe.record(c)) : raw;
  const serverName = opts.serverName !== undefined && !isIP(opts.serverName) ? opts.serverName : undefined;
  const socket = tlsConnect({
    socket: transport,
    ...(serverName !== undefined ? { servername: serverName } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    allowPartialTrustChain: true,
    rejectUnauthorized: true,
    checkServerIdentity: (host, cert) => goCheckServerIdentity(opts.serverName ?? host ?? address, cert),
    ...(opts.cert !== undefined && opts.key !== undefined ? { cert: opts.cert, key: opts.key } : {}),
    ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
  });
  if (probe) socket.on('keylog', (line: Buffer) => probe.keylog.push(line.toString('latin1')));
  return new Promise((resolve, reject) => {
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      raw.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`TLS handshake not done within ${timeoutMs} ms`)), left);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.off('close', onClose);
      resolve(socket);
    });
    const onClose = (): void =>
      fail(Object.assign(new Error('connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
    socket.once('error', fail);
    socket.once('close', onClose);
  });
}
