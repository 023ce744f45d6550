/**
 * Gateway `spec.tls.frontend`: client certificate validation for HTTPS
 * listeners. A `perPort` entry for the listener's port replaces the
 * `default`. CA certificates come from the `ca.crt` key of ConfigMaps or
 * Secrets (cross-namespace only with a ReferenceGrant from the Gateway).
 * A listener whose validation has no usable CA at all is not Accepted
 * (NoValidCACertificate): serving it without validation would silently
 * drop the client authentication the user asked for.
 */
import type { Gateway } from '../../api/generated/index.ts';
import type { ListenerTLSIR } from '../../ir/types.ts';
import { GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import type { Problem } from '../gateway-conditions.ts';
import { parseCertificates, secretValue } from './certificates.ts';

type FrontendTLS = NonNullable<NonNullable<Gateway['spec']['tls']>['frontend']>;
export type FrontendValidation = NonNullable<FrontendTLS['default']['validation']>;
export type ClientValidationIR = NonNullable<ListenerTLSIR['clientValidation']>;

export interface ResolvedValidation {
  /** Undefined when no CA reference could be used. */
  clientValidation?: ClientValidationIR;
  problems: Problem[];
}

/** The validation that applies to a listener port, with the field it came from; undefined = none. */
export function frontendValidationFor(
  gateway: Gateway,
  port: number,
): { validation: FrontendValidation; field: string } | undefined {
  const frontend = gateway.spec.tls?.frontend;
  if (!frontend) return undefined;
  const i = frontend.perPort?.findIndex((p) => p.port === port) ?? -1;
  if (i >= 0) {
    const validation = frontend.perPort![i].tls.validation;
    return validation && { validation, field: `spec.tls.frontend.perPort[${i}].tls.validation` };
  }
  const validation = frontend.default?.validation;
  return validation && { validation, field: 'spec.tls.frontend.default.validation' };
}

/** Resolves the CA references of one validation block. */
export function resolveFrontendValidation(
  ctx: TranslationContext,
  gateway: Gateway,
  validation: FrontendValidation,
  field: string,
): ResolvedValidation {
  const gwNamespace = gateway.metadata.namespace ?? '';
  const caPems: string[] = [];
  const problems: Problem[] = [];
  validation.caCertificateRefs.forEach((ref, i) => {
    const where = `${field}.caCertificateRefs[${i}]`;
    const namespace = ref.namespace || gwNamespace;
    const group = ref.group ?? '';
    const from = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNamespace };
    if (!ctx.referenceAllowed(from, { group, kind: ref.kind, namespace, name: ref.name })) {
      problems.push({
        reason: 'RefNotPermitted',
        message: `${where}: reference to ${ref.kind} ${namespace}/${ref.name} is not permitted by any ReferenceGrant`,
      });
      return;
    }
    if (group !== '' || (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret')) {
      problems.push({
        reason: 'InvalidCACertificateKind',
        message: `${where}: unsupported kind ${group || 'core'}/${ref.kind}; only core ConfigMaps and Secrets are supported`,
      });
      return;
    }
    const bundle = caBundle(ctx, ref.kind, namespace, ref.name);
    if ('error' in bundle) {
      problems.push({ reason: 'InvalidCACertificateRef', message: `${where}: ${bundle.error}` });
      return;
    }
    caPems.push(bundle.pem);
  });
  const mode = validation.mode ?? 'AllowValidOnly';
  return caPems.length ? { clientValidation: { caPems, mode }, problems } : { problems };
}

/** The `ca.crt` PEM of a ConfigMap or Secret, or why it cannot be used. */
function caBundle(
  ctx: TranslationContext,
  kind: string,
  namespace: string,
  name: string,
): { pem: string } | { error: string } {
  const object = kind === 'ConfigMap' ? ctx.configMap(namespace, name) : ctx.secret(namespace, name);
  if (!object) return { error: `${kind} ${namespace}/${name} does not exist` };
  const pem = object.kind === 'ConfigMap' ? object.data?.['ca.crt'] : secretValue(object, 'ca.crt');
  if (!pem) return { error: `${kind} ${namespace}/${name} has no ca.crt` };
  try {
    parseCertificates(pem);
  } catch (err) {
    return {
      error: `${kind} ${namespace}/${name}: ca.crt is not a valid PEM certificate bundle (${(err as Error).message})`,
    };
  }
  return { pem };
}

/**
 * Message for the Gateway's InsecureFrontendValidationMode condition, set
 * whenever some frontend validation uses AllowInsecureFallback.
 */
export function insecureFallbackMessage(gateway: Gateway): string | undefined {
  const frontend = gateway.spec.tls?.frontend;
  if (!frontend) return undefined;
  const where: string[] = [];
  if (frontend.default?.validation?.mode === 'AllowInsecureFallback') where.push('default');
  for (const p of frontend.perPort ?? []) {
    if (p.tls.validation?.mode === 'AllowInsecureFallback') where.push(`port ${p.port}`);
  }
  if (where.length === 0) return undefined;
  return `Client certificate validation accepts clients without a valid certificate (AllowInsecureFallback): ${where.join(', ')}`;
}
