/**
 * backendRef resolution for every route kind and for RequestMirror filters,
 * in the order the spec's reasons imply: the kind must be one Sluice serves
 * (InvalidKind), a cross-namespace reference needs a ReferenceGrant
 * (RefNotPermitted, checked before existence so a denied ref reveals
 * nothing), then the referent must exist (BackendNotFound) with a usable
 * port and protocol.
 */
import { ENVOY_GATEWAY_GROUP, GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { resolveEnvoyBackend } from './envoy-backend.ts';
import { resolveService } from './service.ts';
import type { BackendReferrer, BackendRefSpec, BackendResolution } from './types.ts';

export type { BackendReferrer, BackendRefError, BackendRefSpec, BackendResolution, RouteKind } from './types.ts';
export { defaultProtocol } from './app-protocol.ts';

/**
 * @param field the spec path of the reference, for messages
 *   (`spec.rules[0].backendRefs[1]`).
 */
export function resolveBackendRef(
  ctx: TranslationContext,
  ref: BackendRefSpec,
  from: BackendReferrer,
  field: string,
): BackendResolution {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? from.namespace;
  const isService = group === '' && kind === 'Service';
  const isEnvoyBackend = group === ENVOY_GATEWAY_GROUP && kind === 'Backend';
  if (!isService && !isEnvoyBackend) {
    return {
      ok: false,
      error: {
        reason: 'InvalidKind',
        message: `${field}: unsupported backend kind ${group === '' ? kind : `${kind}.${group}`}; Service and ${ENVOY_GATEWAY_GROUP}/Backend are supported`,
      },
    };
  }
  const allowed = ctx.referenceAllowed(
    { group: GATEWAY_GROUP, kind: from.kind, namespace: from.namespace },
    { group, kind, namespace, name: ref.name },
  );
  if (!allowed) {
    return {
      ok: false,
      error: {
        reason: 'RefNotPermitted',
        message: `${field}: reference to ${kind} ${namespace}/${ref.name} is not permitted by any ReferenceGrant in ${namespace}`,
      },
    };
  }
  return isService
    ? resolveService(ctx, namespace, ref, from.kind, field)
    : resolveEnvoyBackend(ctx, namespace, ref, from.kind, field);
}
