/**
 * TLS towards a backend (BackendTLSPolicy, already merged into the IR):
 * trust anchors, SNI, optional client certificate and the SAN check.
 * Envoy Gateway Backend `tls.insecureSkipVerify` turns verification off
 * (chain and names) but still sends the SNI and any client certificate.
 */
import { createHash } from 'node:crypto';
import tls, { type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { BackendTLSIR } from '../../ir/types.ts';

export function backendTlsOptions(t: BackendTLSIR): ConnectionOptions {
  const ca = t.systemCAs ? [...tls.rootCertificates, ...t.caPems] : t.caPems;
  const opts: ConnectionOptions =
    t.insecureSkipVerify === true
      ? { servername: t.sni, rejectUnauthorized: false, checkServerIdentity: () => undefined }
      : {
          servername: t.sni,
          ca: ca.length > 0 ? ca : undefined,
          rejectUnauthorized: true,
          checkServerIdentity: (_host, cert) => checkIdentity(t, cert),
        };
  if (t.clientCertificate) {
    opts.cert = t.clientCertificate.certPem;
    opts.key = t.clientCertificate.keyPem;
  }
  return opts;
}

/** With subjectAltNames, any of them must be in the certificate; without, the SNI name must be. */
function checkIdentity(t: BackendTLSIR, cert: PeerCertificate): Error | undefined {
  if (t.subjectAltNames.length === 0) return tls.checkServerIdentity(t.sni, cert);
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim());
  for (const want of t.subjectAltNames) {
    if (want.type === 'URI' && sans.includes(`URI:${want.value}`)) return undefined;
    if (want.type === 'Hostname' && tls.checkServerIdentity(want.value, cert) === undefined) return undefined;
  }
  return Object.assign(new Error('backend certificate matches none of the subjectAltNames of its BackendTLSPolicy'), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
  });
}

/** A short stable key so that endpoints with the same TLS settings share pools. */
export function backendTlsKey(t: BackendTLSIR | undefined): string {
  if (t === undefined) return '';
  return createHash('sha256').update(JSON.stringify(t)).digest('base64url').slice(0, 16);
}
