/**
 * Envoy Gateway Backend `spec.tls`: TLS towards the Backend's endpoints.
 *
 * Trust comes from `caCertificateRefs` (ConfigMaps or Secrets in the
 * Backend's namespace holding `ca.crt`), `wellKnownCACertificates: System`,
 * or neither with `insecureSkipVerify: true`; one of them is required, as in
 * Envoy Gateway. `sni` is sent as given (no SNI without it).
 * `clientCertificateRef` is a Secret with `tls.crt`/`tls.key`, in another
 * namespace only with a ReferenceGrant from the Backend. Version, cipher,
 * curve, signature and ALPN settings are not carried yet.
 *
 * Each Backend is checked once; the routes that use it ask here, and every
 * Backend a route of ours resolves gets its status (Accepted, or not with
 * the reason), as Envoy Gateway writes on Backends. (A DynamicResolver
 * Backend never resolves: its routes say why.)
 */
import type { Backend } from '../../api/generated/index.ts';
import type { BackendTLSIR } from '../../ir/types.ts';
import { resolveCARef } from '../backendtlspolicy/ca-bundle.ts';
import { carryTransitionTimes, setCondition, type Condition } from '../conditions.ts';
import { ENVOY_GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { keyPairProblem, secretValue } from '../tls/certificates.ts';

export interface BackendCheck {
  tls?: BackendTLSIR;
  /** Why the Backend is not accepted; routes must not use it. */
  error?: string;
}

type TLSSpec = NonNullable<Backend['spec']['tls']>;

export class EnvoyBackends {
  readonly #checked = new Map<Backend, BackendCheck>();

  constructor(private readonly ctx: TranslationContext) {}

  /** The Backend's TLS (or why it cannot be used); records the Backend as used. */
  check(backend: Backend): BackendCheck {
    let c = this.#checked.get(backend);
    if (!c) this.#checked.set(backend, (c = checkBackend(this.ctx, backend)));
    return c;
  }

  /** Writes `status.conditions` (Accepted) of every Backend a route of ours used. */
  writeStatus(): void {
    for (const [backend, c] of this.#checked) {
      const conditions: Condition[] = [];
      const gen = backend.metadata.generation;
      if (c.error === undefined) {
        setCondition(conditions, 'Accepted', 'True', 'Accepted', 'The Backend was accepted', gen, this.ctx.now);
      } else {
        const message = `The Backend was not accepted: ${c.error}`;
        setCondition(conditions, 'Accepted', 'False', 'Invalid', message, gen, this.ctx.now);
      }
      carryTransitionTimes(conditions, backend.status?.conditions);
      const { apiVersion, metadata } = backend;
      this.ctx.status.of(apiVersion, 'Backend', metadata.namespace, metadata.name).conditions = conditions;
    }
  }
}

function checkBackend(ctx: TranslationContext, backend: Backend): BackendCheck {
  const tls = backend.spec.tls;
  return tls ? backendTLS(ctx, backend, tls) : {};
}

function backendTLS(ctx: TranslationContext, backend: Backend, spec: TLSSpec): BackendCheck {
  const namespace = backend.metadata.namespace ?? '';
  const tls: BackendTLSIR = { sni: spec.sni ?? '', caPems: [], systemCAs: false, subjectAltNames: [] };
  const errors: string[] = [];
  const refs = spec.caCertificateRefs ?? [];
  refs.forEach((ref, i) => {
    const r = resolveCARef(ctx, namespace, ref, `spec.tls.caCertificateRefs[${i}]`);
    if (r.ok) tls.caPems.push(...r.pems);
    else errors.push(r.message);
  });
  const wellKnown = spec.wellKnownCACertificates;
  if (wellKnown !== undefined && wellKnown !== '') {
    if (wellKnown === 'System') tls.systemCAs = true;
    else errors.push(`spec.tls.wellKnownCACertificates: unsupported value ${wellKnown}; only System is supported`);
  }
  if (spec.insecureSkipVerify === true) tls.insecureSkipVerify = true;
  else if (refs.length === 0 && (wellKnown === undefined || wellKnown === '')) {
    errors.push(
      'spec.tls: must specify either caCertificateRefs or wellKnownCACertificates when insecureSkipVerify is unset or false',
    );
  }
  if (spec.autoSNIFromEndpointHostname === true) {
    errors.push('spec.tls.autoSNIFromEndpointHostname is not supported by Sluice; set sni');
  }
  if (spec.clientCertificateRef) {
    const cert = clientCertificate(ctx, backend, spec.clientCertificateRef);
    if ('error' in cert) errors.push(cert.error);
    else tls.clientCertificate = cert;
  }
  return errors.length > 0 ? { error: errors.join('; ') } : { tls };
}

function clientCertificate(
  ctx: TranslationContext,
  backend: Backend,
  ref: NonNullable<TLSSpec['clientCertificateRef']>,
): NonNullable<BackendTLSIR['clientCertificate']> | { error: string } {
  const field = 'spec.tls.clientCertificateRef';
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const own = backend.metadata.namespace ?? '';
  const namespace = ref.namespace || own;
  const what = `${kind} ${namespace}/${ref.name}`;
  const allowed = ctx.referenceAllowed(
    { group: ENVOY_GATEWAY_GROUP, kind: 'Backend', namespace: own },
    { group, kind, namespace, name: ref.name },
  );
  if (!allowed)
    return { error: `${field}: reference to ${what} is not permitted by any ReferenceGrant in ${namespace}` };
  if (group !== '' || kind !== 'Secret') return { error: `${field}: unsupported kind ${group || 'core'}/${kind}` };
  const secret = ctx.secret(namespace, ref.name);
  if (!secret) return { error: `${field}: ${what} not found` };
  const certPem = secretValue(secret, 'tls.crt');
  const keyPem = secretValue(secret, 'tls.key');
  if (!certPem || !keyPem) return { error: `${field}: ${what} must contain tls.crt and tls.key` };
  const problem = keyPairProblem(certPem, keyPem);
  if (problem) return { error: `${field}: ${what}: ${problem}` };
  return { secret: `${namespace}/${ref.name}`, certPem, keyPem };
}
