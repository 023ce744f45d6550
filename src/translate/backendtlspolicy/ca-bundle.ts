/**
 * BackendTLSPolicy `validation.caCertificateRefs`: local ConfigMaps or
 * Secrets holding a PEM bundle under `ca.crt`. A ref is invalid when it names
 * another kind (InvalidKind), or a missing object, a missing key or data
 * without one parseable certificate (InvalidCACertificateRef).
 */
import { X509Certificate } from 'node:crypto';
import type { TranslationContext } from '../context.ts';

export interface CARef {
  group: string;
  kind: string;
  name: string;
}

export type CAResult =
  { ok: true; pems: string[] } | { ok: false; reason: 'InvalidKind' | 'InvalidCACertificateRef'; message: string };

const CA_KEY = 'ca.crt';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function resolveCARef(ctx: TranslationContext, namespace: string, ref: CARef, field: string): CAResult {
  const group = ref.group ?? '';
  let data: string | undefined;
  if (group === '' && ref.kind === 'ConfigMap') {
    const cm = ctx.configMap(namespace, ref.name);
    if (!cm) return invalid(`${field}: ConfigMap ${namespace}/${ref.name} not found`);
    data = cm.data?.[CA_KEY];
  } else if (group === '' && ref.kind === 'Secret') {
    const secret = ctx.secret(namespace, ref.name);
    if (!secret) return invalid(`${field}: Secret ${namespace}/${ref.name} not found`);
    const b64 = secret.data?.[CA_KEY];
    data = b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
  } else {
    return {
      ok: false,
      reason: 'InvalidKind',
      message: `${field}: unsupported CA certificate kind ${group === '' ? ref.kind : `${ref.kind}.${group}`}; ConfigMap and Secret are supported`,
    };
  }
  if (data === undefined || data.trim() === '') {
    return invalid(`${field}: ${ref.kind} ${namespace}/${ref.name} has no ${CA_KEY}`);
  }
  const pems = parseCertificates(data);
  if (pems.length === 0) {
    return invalid(`${field}: ${ref.kind} ${namespace}/${ref.name} key ${CA_KEY} holds no valid PEM certificate`);
  }
  return { ok: true, pems };
}

/** The PEM blocks of `bundle` that parse as X.509 certificates. */
export function parseCertificates(bundle: string): string[] {
  const out: string[] = [];
  for (const block of bundle.match(PEM_BLOCK) ?? []) {
    try {
      new X509Certificate(block);
      out.push(block);
    } catch {
      // A damaged block is skipped; the ref is invalid only if none parses.
    }
  }
  return out;
}

function invalid(message: string): CAResult {
  return { ok: false, reason: 'InvalidCACertificateRef', message };
}
