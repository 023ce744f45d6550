/**
 * Certificate material from Secrets: listener certificateRefs and the
 * Gateway's backend client certificate. A reference is checked in the
 * order the spec asks for: a cross-namespace reference without a
 * ReferenceGrant is RefNotPermitted whatever else is wrong with it; then
 * group/kind, existence, Secret type and keys, and finally the PEM itself
 * (a certificate Node can parse and a private key that belongs to it), so
 * the data plane never receives a key pair it cannot load.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../../api/core.ts';
import type { CertificateIR } from '../../ir/types.ts';
import { GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import type { Problem } from '../gateway-conditions.ts';

export const SECRET_TYPE_TLS = 'kubernetes.io/tls';

/** A SecretObjectReference as it appears in listener TLS and Gateway backend TLS. */
export interface SecretRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

/** The object holding a reference: its namespace is the default and the ReferenceGrant `from`. */
export interface RefHolder {
  kind: 'Gateway' | 'ListenerSet';
  namespace: string;
}

/** Why a reference cannot be used: not permitted (no ReferenceGrant) or invalid (anything else). */
export interface RefFailure {
  notPermitted: boolean;
  message: string;
}

/** A Secret value as text: `data` is base64 (as the API server stores it), `stringData` is plain. */
export function secretValue(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** Every certificate of a PEM bundle; throws when a block does not parse or there is none. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((b) => new X509Certificate(b));
}

/** Why a certificate/key pair is unusable, or undefined when it is fine. */
export function keyPairProblem(certPem: string, keyPem: string): string | undefined {
  let leaf: X509Certificate;
  try {
    leaf = parseCertificates(certPem)[0];
  } catch (err) {
    return `tls.crt is not a valid PEM certificate (${(err as Error).message})`;
  }
  try {
    const key = createPrivateKey(keyPem);
    if (!leaf.checkPrivateKey(key)) return 'tls.key does not match the certificate in tls.crt';
  } catch (err) {
    return `tls.key is not a valid PEM private key (${(err as Error).message})`;
  }
  return undefined;
}

/**
 * Resolves a reference to a Secret holding `tls.crt` and `tls.key`.
 * `requireTlsType`: listener certificates must be `kubernetes.io/tls`
 * Secrets (Core support); other uses also accept e.g. Opaque Secrets.
 */
export function resolveKeyPairSecret(
  ctx: TranslationContext,
  ref: SecretRef,
  holder: RefHolder,
  field: string,
  requireTlsType: boolean,
): CertificateIR | RefFailure {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const namespace = ref.namespace || holder.namespace;
  const from = { group: GATEWAY_GROUP, kind: holder.kind, namespace: holder.namespace };
  if (!ctx.referenceAllowed(from, { group, kind, namespace, name: ref.name })) {
    return {
      notPermitted: true,
      message: `${field}: reference to ${kind} ${namespace}/${ref.name} is not permitted by any ReferenceGrant`,
    };
  }
  const invalid = (message: string): RefFailure => ({ notPermitted: false, message: `${field}: ${message}` });
  if (group !== '' || kind !== 'Secret') {
    return invalid(`unsupported reference ${group || 'core'}/${kind}; only core Secrets are supported`);
  }
  const secret = ctx.secret(namespace, ref.name);
  if (!secret) return invalid(`Secret ${namespace}/${ref.name} does not exist`);
  if (requireTlsType && secret.type !== SECRET_TYPE_TLS) {
    return invalid(`Secret ${namespace}/${ref.name} must be of type ${SECRET_TYPE_TLS}`);
  }
  const certPem = secretValue(secret, 'tls.crt');
  const keyPem = secretValue(secret, 'tls.key');
  if (!certPem || !keyPem) return invalid(`Secret ${namespace}/${ref.name} must contain tls.crt and tls.key`);
  const problem = keyPairProblem(certPem, keyPem);
  if (problem) return invalid(`Secret ${namespace}/${ref.name}: ${problem}`);
  return { secret: `${namespace}/${ref.name}`, certPem, keyPem };
}

export function isRefFailure(r: CertificateIR | RefFailure): r is RefFailure {
  return 'notPermitted' in r;
}

/** A listener's certificateRefs: the usable certificates and a problem per unusable reference. */
export function resolveListenerCertificates(
  ctx: TranslationContext,
  refs: SecretRef[],
  holder: RefHolder,
  field: string,
): { certificates: CertificateIR[]; problems: Problem[] } {
  const certificates: CertificateIR[] = [];
  const problems: Problem[] = [];
  refs.forEach((ref, i) => {
    const r = resolveKeyPairSecret(ctx, ref, holder, `${field}[${i}]`, true);
    if (!isRefFailure(r)) certificates.push(r);
    else problems.push({ reason: r.notPermitted ? 'RefNotPermitted' : 'InvalidCertificateRef', message: r.message });
  });
  return { certificates, problems };
}
