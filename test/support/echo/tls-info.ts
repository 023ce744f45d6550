/** The echo's `tls` object from a server-side TLS socket (ECHO.md section 7). */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { TlsInfo } from './echo-body.ts';

/** PEM exactly as Go's pem.Encode writes it: 64 base64 characters per line. */
export function certificatePem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The peer's chain as Node reports it, leaf first, without repeating a self-signed root. */
function peerChain(socket: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cert = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(cert.raw);
    cert = cert.issuerCertificate as PeerCertificate & { issuerCertificate?: PeerCertificate };
  }
  return out;
}

export function tlsInfo(socket: TLSSocket): TlsInfo {
  const peers = peerChain(socket).map(certificatePem);
  return {
    version: socket.getProtocol() ?? '',
    ...(peers.length ? { peerCertificates: peers } : {}),
    serverName: typeof socket.servername === 'string' ? socket.servername : '',
    ...(socket.alpnProtocol ? { negotiatedProtocol: socket.alpnProtocol } : {}),
    cipherSuite: socket.getCipher()?.standardName ?? '',
  };
}
