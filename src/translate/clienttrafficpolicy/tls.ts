/**
 * ClientTrafficPolicy `spec.tls`: the downstream TLS parameters
 * (ListenerTLSIR.settings) and client certificate validation.
 *
 * Only fields the policy sets are written; the data plane keeps its
 * defaults (TLS 1.2 to 1.3, AEAD ciphers, h2 + http/1.1) for the rest.
 * `session.resumption` maps stateless to session tickets and stateful to
 * Stateful (served as tickets by the data plane, which reports it); an
 * empty `resumption: {}` turns resumption off, as Envoy Gateway leaves it
 * off unless asked.
 *
 * Client validation: `caCertificateRefs` name Secrets (the default kind) or
 * ConfigMaps holding `ca.crt`, in the policy's namespace or, with a
 * ReferenceGrant, another one. Any unusable reference is an error: the
 * caller then fails the listener closed rather than serve without the
 * client authentication asked for. Without any reference there is no
 * validation (Envoy Gateway's behaviour). The mode (`optional` relaxes the
 * Require* ones), SAN matchers, SPKI pins, certificate hashes and
 * `allowExpiredCertificate` are enforced by the data plane
 * (proxy/tls/client-validation.ts); matchers it could never satisfy (an
 * invalid regular expression, an otherName OID node does not decode) and
 * `crl` (not implemented) are errors, so the listener fails closed.
 */
import type { ClientTrafficPolicy } from '../../api/generated/index.ts';
import type { ClientValidationIR, SubjectAltNameMatchIR, TLSSettingsIR } from '../../ir/types.ts';
import { parseCertificates } from '../backendtlspolicy/ca-bundle.ts';
import { ENVOY_GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { regexError } from '../route/regex.ts';
import { secretValue } from '../tls/certificates.ts';

type TLSSpec = NonNullable<ClientTrafficPolicy['spec']['tls']>;
type ValidationSpec = NonNullable<TLSSpec['clientValidation']>;

const FIELD = 'spec.tls.clientValidation';

/** otherName OIDs the data plane can read from a certificate (node decodes these only; proxy/tls/client-validation.ts). */
const MATCHABLE_OTHER_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.4.1.311.20.2.3': 'UPN',
  '1.3.6.1.5.5.7.8.5': 'XmppAddr',
  '1.3.6.1.5.5.7.8.7': 'SRVName',
};

/** The TLS parameters the policy sets, or undefined when it sets none. */
export function tlsSettings(tls: TLSSpec | undefined): TLSSettingsIR | undefined {
  if (!tls) return undefined;
  const s: TLSSettingsIR = {};
  if (tls.minVersion !== undefined) s.minVersion = tls.minVersion;
  if (tls.maxVersion !== undefined) s.maxVersion = tls.maxVersion;
  if (tls.ciphers?.length) s.ciphers = [...tls.ciphers];
  if (tls.ecdhCurves?.length) s.ecdhCurves = [...tls.ecdhCurves];
  if (tls.signatureAlgorithms?.length) s.signatureAlgorithms = [...tls.signatureAlgorithms];
  // An empty list is kept: in Envoy Gateway it turns ALPN off.
  if (tls.alpnProtocols !== undefined) s.alpnProtocols = [...tls.alpnProtocols];
  const resumption = tls.session?.resumption;
  if (resumption) {
    s.session = {
      resumption: resumption.stateful ? 'Stateful' : resumption.stateless ? 'Stateless' : 'None',
    };
  }
  return Object.keys(s).length > 0 ? s : undefined;
}

export type ValidationResult = { validation?: ClientValidationIR } | { error: string };

/** The client validation the policy asks for; `{}` when it asks for none. */
export function clientValidation(
  ctx: TranslationContext,
  policy: ClientTrafficPolicy,
  spec: ValidationSpec | undefined,
): ValidationResult {
  const refs = spec?.caCertificateRefs ?? [];
  if (!spec || refs.length === 0) return {};
  const caPems: string[] = [];
  const errors: string[] = [];
  refs.forEach((ref, i) => {
    const r = caBundle(ctx, policy, ref, `${FIELD}.caCertificateRefs[${i}]`);
    if ('error' in r) errors.push(r.error);
    else caPems.push(...r.pems);
  });
  if (errors.length > 0) return { error: errors.join('; ') };
  const verification = withOptional(spec.mode ?? 'RequireAndVerify', spec.optional === true);
  const v: ClientValidationIR = {
    caPems,
    // The Gateway API's two modes, nearest first: only RequireAndVerify refuses every client without a valid certificate.
    mode: verification === 'RequireAndVerify' ? 'AllowValidOnly' : 'AllowInsecureFallback',
    verification,
  };
  const sans = subjectAltNames(spec.subjectAltNames);
  if (sans.length > 0) v.subjectAltNames = sans;
  if (spec.spkiHashes?.length) v.spkiHashes = [...spec.spkiHashes];
  if (spec.certificateHashes?.length) v.certificateHashes = [...spec.certificateHashes];
  if (spec.allowExpiredCertificate) v.allowExpiredCertificate = true;
  // What the data plane cannot enforce as written is refused, never served leniently (fail closed).
  const unusable = unenforceable(spec, sans);
  if (unusable.length > 0) return { error: unusable.join('; ') };
  return { validation: v };
}

/** Fields the data plane could not enforce: a CRL, matchers that could never be checked. */
function unenforceable(spec: ValidationSpec, sans: readonly SubjectAltNameMatchIR[]): string[] {
  const out: string[] = [];
  if (spec.crl) out.push(`${FIELD}.crl: not supported by Sluice yet`);
  for (const m of sans) {
    const where = `${FIELD}.subjectAltNames`;
    if (m.type === 'OtherName' && (m.oid === undefined || MATCHABLE_OTHER_NAMES[m.oid] === undefined)) {
      const known = Object.entries(MATCHABLE_OTHER_NAMES).map(([oid, name]) => `${oid} (${name})`);
      out.push(`${where}: otherName OID ${m.oid ?? '(none)'} cannot be matched; supported: ${known.join(', ')}`);
    }
    const bad = m.match === 'RegularExpression' ? regexError(m.value) : undefined;
    if (bad !== undefined) out.push(`${where}: invalid regular expression ${JSON.stringify(m.value)}: ${bad}`);
  }
  for (const h of spec.certificateHashes ?? []) {
    if (!/^[0-9a-fA-F]{64}$/.test(h.replaceAll(':', '')))
      out.push(`${FIELD}.certificateHashes: ${h} is not a hex SHA-256`);
  }
  for (const h of spec.spkiHashes ?? []) {
    if (Buffer.from(h, 'base64').length !== 32) out.push(`${FIELD}.spkiHashes: ${h} is not a base64 SHA-256`);
  }
  return out;
}

/** `optional` lets a client send no certificate: it relaxes the Require* modes. */
function withOptional(
  mode: NonNullable<ValidationSpec['mode']>,
  optional: boolean,
): NonNullable<ClientValidationIR['verification']> {
  if (!optional) return mode;
  if (mode === 'RequireAndVerify') return 'VerifyIfGiven';
  if (mode === 'RequireAny') return 'Request';
  return mode;
}

type CARef = NonNullable<ValidationSpec['caCertificateRefs']>[number];

function caBundle(
  ctx: TranslationContext,
  policy: ClientTrafficPolicy,
  ref: CARef,
  field: string,
): { pems: string[] } | { error: string } {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const policyNamespace = policy.metadata.namespace ?? '';
  const namespace = ref.namespace || policyNamespace;
  const what = `${kind} ${namespace}/${ref.name}`;
  const allowed = ctx.referenceAllowed(
    { group: ENVOY_GATEWAY_GROUP, kind: 'ClientTrafficPolicy', namespace: policyNamespace },
    { group, kind, namespace, name: ref.name },
  );
  if (!allowed)
    return { error: `${field}: reference to ${what} is not permitted by any ReferenceGrant in ${namespace}` };
  let data: string | undefined;
  if (group === '' && kind === 'Secret') {
    const secret = ctx.secret(namespace, ref.name);
    if (!secret) return { error: `${field}: ${what} not found` };
    data = secretValue(secret, 'ca.crt');
  } else if (group === '' && kind === 'ConfigMap') {
    const cm = ctx.configMap(namespace, ref.name);
    if (!cm) return { error: `${field}: ${what} not found` };
    data = cm.data?.['ca.crt'];
  } else {
    return { error: `${field}: unsupported kind ${group || 'core'}/${kind}; Secret and ConfigMap are supported` };
  }
  if (!data?.trim()) return { error: `${field}: ${what} has no ca.crt` };
  const pems = parseCertificates(data);
  if (pems.length === 0) return { error: `${field}: ${what} key ca.crt holds no valid PEM certificate` };
  return { pems };
}

type SANSpec = NonNullable<ValidationSpec['subjectAltNames']>;

function subjectAltNames(spec: SANSpec | undefined): SubjectAltNameMatchIR[] {
  if (!spec) return [];
  const out: SubjectAltNameMatchIR[] = [];
  const add = (
    type: SubjectAltNameMatchIR['type'],
    list: Array<{ type?: string; value: string; oid?: string }> = [],
  ) => {
    for (const m of list) {
      const match = (m.type ?? 'Exact') as SubjectAltNameMatchIR['match'];
      out.push({ type, ...(m.oid !== undefined ? { oid: m.oid } : {}), match, value: m.value });
    }
  };
  add('DNS', spec.dnsNames);
  add('Email', spec.emailAddresses);
  add('IPAddress', spec.ipAddresses);
  add('URI', spec.uris);
  add('OtherName', spec.otherNames);
  return out;
}
