/**
 * Certificates for TLS tests, made with openssl in a temp dir (EC P-256
 * unless RSA is asked for: fast to generate), and bounded TLS / HTTP/2
 * clients that report what the handshake chose.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { CertificateIR } from '../../src/ir/types.ts';
import { LOOPBACK, withTimeout } from './helpers.ts';

export interface Pem {
  cert: string;
  key: string;
}

export interface LeafOptions {
  cn: string;
  dns?: string[];
  /** More subjectAltName entries in openssl's syntax (`email:a@b`, `IP:::1`, `URI:spiffe://…`). */
  san?: string[];
  /** Negative: already expired. */
  days?: number;
  usage?: 'server' | 'client';
  rsa?: boolean;
}

export class CertKit {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
  private seq = 0;

  ca(cn: string): Pem {
    const n = this.seq++;
    const key = join(this.dir, `${n}.key`);
    const crt = join(this.dir, `${n}.crt`);
    openssl([
      'req',
      '-x509',
      ...keyArgs(false),
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
  }

  /** A certificate signed by `signer`, or self-signed when it is null. */
  leaf(signer: Pem | null, o: LeafOptions): Pem {
    const n = this.seq++;
    const key = join(this.dir, `${n}.key`);
    const csr = join(this.dir, `${n}.csr`);
    const crt = join(this.dir, `${n}.crt`);
    const ext = join(this.dir, `${n}.ext`);
    const lines = [`extendedKeyUsage=${o.usage === 'client' ? 'clientAuth' : 'serverAuth'}`];
    const sans = [...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.san ?? [])];
    if (sans.length > 0) lines.push(`subjectAltName=${sans.join(',')}`);
    writeFileSync(ext, `${lines.join('\n')}\n`);
    openssl(['req', '-new', ...keyArgs(o.rsa === true), '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${o.cn}`]);
    const days = String(o.days ?? 2);
    if (signer === null) {
      openssl(['x509', '-req', '-in', csr, '-signkey', key, '-days', days, '-out', crt, '-extfile', ext]);
    } else {
      const caCrt = join(this.dir, `${n}.ca.crt`);
      const caKey = join(this.dir, `${n}.ca.key`);
      writeFileSync(caCrt, signer.cert);
      writeFileSync(caKey, signer.key);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caCrt,
        '-CAkey',
        caKey,
        '-set_serial',
        String(1000 + n),
        '-days',
        days,
        '-out',
        crt,
        '-extfile',
        ext,
      ]);
    }
    return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let selfSignedDir: string | undefined;
const selfSignedCache = new Map<string, Pem>();

/**
 * A self-signed certificate for DNS name `name` (`openssl req -x509`, so it is its own CA and can be
 * trusted directly), made once per test process.
 */
export function selfSigned(name: string): Pem {
  const hit = selfSignedCache.get(name);
  if (hit !== undefined) return hit;
  selfSignedDir ??= mkdtempSync(join(tmpdir(), 'sluice-self-'));
  const key = join(selfSignedDir, `${name}.key`);
  const crt = join(selfSignedDir, `${name}.crt`);
  openssl([
    'req',
    '-x509',
    ...keyArgs(false),
    '-nodes',
    '-days',
    '1',
    '-keyout',
    key,
    '-out',
    crt,
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=DNS:${name}`,
  ]);
  const pem = { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
  selfSignedCache.set(name, pem);
  return pem;
}

function keyArgs(rsa: boolean): string[] {
  return rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe', timeout: 10_000 });
}

export function certificateIR(p: Pem, secret = 'default/cert'): CertificateIR {
  return { secret, certPem: p.cert, keyPem: p.key };
}

// ---------------------------------------------------------------- clients

export interface TlsReply {
  status: number;
  body: string;
  /** CN of the certificate the gateway presented. */
  peerCN: string;
  alpn: string | false;
  reused: boolean;
  /** Session to resume with (TLS 1.3 sends it after the handshake). */
  session: Buffer | null;
}

export interface TlsRequest extends Omit<ConnectionOptions, 'host' | 'port'> {
  /** SNI; '' sends none. */
  servername?: string;
  /** Address dialled (default 127.0.0.1). */
  address?: string;
  host?: string;
  path?: string;
  timeoutMs?: number;
}

/**
 * One HTTP/1.1 request over a fresh TLS connection (`connection: close`),
 * written by hand so that the handshake's choices are visible. The server
 * certificate is not verified unless `ca` is given.
 */
export function tlsRequest(port: number, r: TlsRequest = {}): Promise<TlsReply> {
  const { servername, host, path, timeoutMs, address, ...rest } = r;
  return withTimeout(
    new Promise<TlsReply>((resolve, reject) => {
      let session: Buffer | null = null;
      const socket = tls.connect({
        host: address ?? LOOPBACK,
        port,
        servername: servername ?? 'example.com',
        rejectUnauthorized: rest.ca !== undefined,
        ALPNProtocols: ['http/1.1'],
        ...rest,
      });
      const chunks: Buffer[] = [];
      let cn = '';
      let reused = false;
      socket.on('session', (s: Buffer) => (session = s));
      socket.on('secureConnect', () => {
        cn = peerCN(socket);
        reused = socket.isSessionReused();
        if (socket.alpnProtocol === 'h2') {
          // Negotiated HTTP/2: report the handshake only.
          socket.end();
          return;
        }
        const h = host ?? (servername || 'example.com');
        socket.write(`GET ${path ?? '/'} HTTP/1.1\r\nhost: ${h}\r\nconnection: close\r\n\r\n`);
      });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const alpn = socket.alpnProtocol ?? false;
        const text = Buffer.concat(chunks).toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
        if (m === null && alpn !== 'h2') {
          reject(new Error(`no HTTP response (${text.length} bytes)`));
          return;
        }
        const split = text.indexOf('\r\n\r\n');
        const head = text.slice(0, split).toLowerCase();
        const rest = text.slice(split + 4);
        resolve({
          status: m === null ? 0 : Number(m[1]),
          body: head.includes('transfer-encoding: chunked') ? dechunk(rest) : rest,
          peerCN: cn,
          alpn,
          reused,
          session,
        });
      });
    }),
    timeoutMs ?? 5000,
    `TLS request to ${r.servername ?? 'example.com'}`,
  );
}

function dechunk(body: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    if (eol === -1) return out;
    const size = parseInt(body.slice(i, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

function peerCN(socket: TLSSocket): string {
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return Array.isArray(cn) ? cn.join(',') : (cn ?? '');
}

/** Resolves true when the handshake (or the first read after it) fails, false when an HTTP response comes back. */
export async function tlsRefused(port: number, r: TlsRequest = {}): Promise<boolean> {
  try {
    await tlsRequest(port, r);
    return false;
  } catch {
    return true;
  }
}

export interface H2Reply {
  status: number;
  body: string;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
}

/** One request on an existing HTTP/2 session, bounded. */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string | Buffer,
  ms = 5000,
): Promise<H2Reply> {
  return withTimeout(
    new Promise<H2Reply>((resolve, reject) => {
      const stream = session.request(headers, { endStream: body === undefined });
      let head: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h: http2.IncomingHttpHeaders) => {
        head = h;
      });
      stream.on('trailers', (t: http2.IncomingHttpHeaders) => {
        trailers = t;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        resolve({ status: Number(head[':status']), body: Buffer.concat(chunks).toString(), headers: head, trailers }),
      );
      stream.on('error', reject);
      if (body !== undefined) stream.end(body);
    }),
    ms,
    `h2 ${String(headers[':method'] ?? 'GET')} ${String(headers[':path'])}`,
  );
}

/** An HTTP/2 session over TLS (ALPN h2) or cleartext (prior knowledge), connected and bounded. */
export function h2Connect(url: string, opts: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return withTimeout(
    new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const s = http2.connect(url, { rejectUnauthorized: false, ...opts });
      // Resolved once the server's SETTINGS are in, so that remoteSettings are its own.
      s.once('remoteSettings', () => resolve(s));
      s.once('error', reject);
    }),
    5000,
    `h2 connect ${url}`,
  );
}
