/**
 * Gateway `spec.tls.backend.clientCertificateRef`: the certificate the
 * Gateway presents when it opens TLS towards a backend (used by the route
 * half when a BackendTLSPolicy applies). Problems go on the Gateway's own
 * ResolvedRefs condition; they never make the Gateway unaccepted.
 */
import type { Gateway } from '../../api/generated/index.ts';
import type { CertificateIR } from '../../ir/types.ts';
import type { TranslationContext } from '../context.ts';
import type { Problem } from '../gateway-conditions.ts';
import { isRefFailure, resolveKeyPairSecret } from './certificates.ts';

export function resolveBackendClientCertificate(
  ctx: TranslationContext,
  gateway: Gateway,
): { certificate?: CertificateIR; problem?: Problem } {
  const ref = gateway.spec.tls?.backend?.clientCertificateRef;
  if (!ref) return {};
  const holder = { kind: 'Gateway' as const, namespace: gateway.metadata.namespace ?? '' };
  // Any Secret type with tls.crt/tls.key is accepted here (Opaque is implementation-specific support).
  const r = resolveKeyPairSecret(ctx, ref, holder, 'spec.tls.backend.clientCertificateRef', false);
  if (!isRefFailure(r)) return { certificate: r };
  return {
    problem: { reason: r.notPermitted ? 'RefNotPermitted' : 'InvalidClientCertificateRef', message: r.message },
  };
}
