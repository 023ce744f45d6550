/**
 * Client certificate validation beyond what OpenSSL's all-or-nothing
 * `rejectUnauthorized` does: ClientTrafficPolicy's modes (a certificate
 * optional or not verified), matchers on the verified certificate (SANs,
 * SPKI pins, certificate hashes) and `allowExpiredCertificate`. OpenSSL
 * still verifies the chain during the handshake (`requestCert` without
 * `rejectUnauthorized`); the verdict is taken right after it, before any
 * byte of HTTP is read, and a refused connection is destroyed.
 *
 * As in Envoy, the matchers and the expiry exception apply to the verifying
 * modes (RequireAndVerify, VerifyIfGiven); Request and RequireAny accept the
 * certificate untrusted, so matching it would prove nothing.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientValidationIR, SubjectAltNameMatchIR } from '../../ir/types.ts';
import { compileRegex } from '../router/regex.ts';
import { canonicalIp, subjectAltNames, type SanEntry } from './subject-alt-names.ts';

export type Verification = 'RequireAndVerify' | 'VerifyIfGiven' | 'RequireAny' | 'Request';

export interface ClientCertPolicy {
  readonly verification: Verification;
  /** OpenSSL's own check is the whole policy: `rejectUnauthorized` can refuse during the handshake. */
  readonly plain: boolean;
  /** Equal for policies that accept the same clients (session id contexts, comparison across listeners). */
  readonly key: string;
  /** The verdict on a completed handshake. */
  accepts(socket: TLSSocket): boolean;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
/** Longest chain walked when an expired certificate is re-checked. */
const MAX_DEPTH = 10;

/** Throws (with `where`) on a matcher that cannot be compiled. */
export function buildClientCertPolicy(v: ClientValidationIR, where: string): ClientCertPolicy {
  const verification: Verification = v.verification ?? (v.mode === 'AllowValidOnly' ? 'RequireAndVerify' : 'Request');
  const verifying = verification === 'RequireAndVerify' || verification === 'VerifyIfGiven';
  const sans = verifying
    ? (v.subjectAltNames ?? []).map((m, i) => sanMatcher(m, `${where}.subjectAltNames[${i}]`))
    : [];
  const spki = verifying ? new Set(v.spkiHashes ?? []) : new Set<string>();
  const hashes = verifying ? new Set((v.certificateHashes ?? []).map(normalizeHex)) : new Set<string>();
  const anchors = verifying && v.allowExpiredCertificate === true ? v.caPems.flatMap(parseCas) : [];
  const matchers = sans.length > 0 || spki.size > 0 || hashes.size > 0;
  const plain = verification === 'RequireAndVerify' && !matchers && anchors.length === 0;
  const key = JSON.stringify([
    verification,
    verifying ? v.subjectAltNames : null,
    [...spki].sort(),
    [...hashes].sort(),
    anchors.length > 0,
  ]);
  const needsCert = verification === 'RequireAndVerify' || verification === 'RequireAny';

  const accepts = (socket: TLSSocket): boolean => {
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) return !needsCert;
    if (!verifying) return true;
    if (!socket.authorized && !(anchors.length > 0 && expiredButChained(socket, cert, anchors))) return false;
    if (sans.length > 0) {
      const entries = subjectAltNames(cert.subjectAltName);
      if (!sans.some((m) => entries.some(m))) return false;
    }
    if (spki.size === 0 && hashes.size === 0) return true;
    // As in Envoy, a pin from either list will do.
    if (spki.size > 0 && spki.has(spkiHash(cert))) return true;
    return hashes.size > 0 && hashes.has(createHash('sha256').update(cert.raw).digest('hex'));
  };
  return { verification, plain, key, accepts };
}

/**
 * node's verify callback accepts every certificate during the handshake;
 * only tls.Server (and tls.connect) turn OpenSSL's result into
 * `authorized` / `authorizationError` afterwards. A TLSSocket made directly
 * (L4 termination) is settled here the same way, from the same
 * `verifyError()` of its handle; without that handle nothing is authorized.
 */
export function settleAuthorization(socket: TLSSocket): void {
  type VerifyError = Error & { code?: string };
  const handle = (socket as unknown as { _handle?: { verifyError?: () => VerifyError | null } | null })._handle;
  const err: VerifyError | null =
    typeof handle?.verifyError === 'function' ? handle.verifyError() : new Error('no TLS handle');
  socket.authorized = err === null;
  if (err !== null) (socket as unknown as { authorizationError: string }).authorizationError = err.code ?? err.message;
}

/** Base64 SHA-256 of the DER SubjectPublicKeyInfo (what Envoy's `verify_certificate_spki` pins). */
export function spkiHash(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** Envoy accepts `AB:CD:…` and `abcd…`. */
function normalizeHex(h: string): string {
  return h.replaceAll(':', '').toLowerCase();
}

function parseCas(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
    out.push(new X509Certificate(m[0]));
  }
  return out;
}

/**
 * `allowExpiredCertificate`: OpenSSL reports one error, the last it met, so
 * CERT_HAS_EXPIRED alone does not prove the rest of the chain was good. The
 * chain the client sent is walked again here (signatures, CA flags, the
 * client-auth purpose, not-before dates) up to one of the trusted CAs; only
 * notAfter is skipped. Runs only for certificates OpenSSL found expired.
 */
function expiredButChained(socket: TLSSocket, leaf: X509Certificate, anchors: readonly X509Certificate[]): boolean {
  // Typed as an Error, it is OpenSSL's code.
  if ((socket.authorizationError as unknown) !== 'CERT_HAS_EXPIRED') return false;
  const eku = leaf.keyUsage;
  if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return false;
  const chain = [leaf];
  let detailed = socket.getPeerCertificate(true);
  while (chain.length < MAX_DEPTH && detailed.issuerCertificate && detailed.issuerCertificate !== detailed) {
    detailed = detailed.issuerCertificate;
    chain.push(new X509Certificate(detailed.raw));
  }
  const now = Date.now();
  for (let i = 0; i < chain.length; i++) {
    const cur = chain[i];
    if (Date.parse(cur.validFrom) > now) return false;
    if (anchors.some((ca) => ca.fingerprint256 === cur.fingerprint256)) return true;
    if (anchors.some((ca) => signedBy(cur, ca))) return true;
    const next = chain[i + 1];
    if (next === undefined || !next.ca || !signedBy(cur, next)) return false;
  }
  return false;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

type SanMatch = (e: SanEntry) => boolean;

/** Node's names for the otherName OIDs it prints (every other one is `<unsupported>`). */
export const OTHER_NAME_OIDS: Readonly<Record<string, string>> = {
  '1.3.6.1.4.1.311.20.2.3': 'UPN',
  '1.3.6.1.5.5.7.8.5': 'XmppAddr',
  '1.3.6.1.5.5.7.8.7': 'SRVName',
};

function sanMatcher(m: SubjectAltNameMatchIR, where: string): SanMatch {
  const test = stringMatcher(m, where);
  switch (m.type) {
    case 'DNS':
      // A wildcard SAN (`*.example.com`) covers an exact name, as in Envoy's DNS SAN matcher.
      return (e) =>
        e.type === 'DNS' &&
        (test(e.value) || (m.match === 'Exact' && wildcardCovers(e.value.toLowerCase(), m.value.toLowerCase())));
    case 'Email':
      return (e) => e.type === 'Email' && test(e.value);
    case 'URI':
      return (e) => e.type === 'URI' && test(e.value);
    case 'IPAddress': {
      if (m.match !== 'Exact') return (e) => e.type === 'IPAddress' && test(e.value);
      const ip = canonicalIp(m.value);
      return (e) => e.type === 'IPAddress' && e.value === ip;
    }
    case 'OtherName': {
      const name = m.oid === undefined ? undefined : OTHER_NAME_OIDS[m.oid];
      if (name === undefined) throw new Error(`${where}: otherName OID ${m.oid ?? '(none)'} cannot be matched`);
      return (e) => e.type === 'OtherName' && e.oidName === name && test(e.value);
    }
  }
}

function stringMatcher(m: SubjectAltNameMatchIR, where: string): (s: string) => boolean {
  const v = m.value;
  switch (m.match) {
    case 'Exact':
      return (s) => s === v;
    case 'Prefix':
      return (s) => s.startsWith(v);
    case 'Suffix':
      return (s) => s.endsWith(v);
    case 'RegularExpression': {
      const re = compileRegex(v, where);
      return (s) => re.fullMatch(s);
    }
  }
}

function wildcardCovers(san: string, name: string): boolean {
  if (!san.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === san.slice(1);
}
