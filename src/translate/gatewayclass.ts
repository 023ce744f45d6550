/**
 * GatewayClasses: a class is ours when its `spec.controllerName` is the
 * controller name Sluice runs as. Ours get Accepted and SupportedVersion;
 * classes of other controllers get no status at all (their controller owns
 * it). The only parameters Sluice understands are Envoy Gateway EnvoyProxy
 * objects, so a parametersRef to anything else, or to an EnvoyProxy that
 * does not exist, is InvalidParameters.
 */
import type { GatewayClass } from '../api/generated/index.ts';
import { ENVOY_GATEWAY_GROUP, type TranslationContext } from './context.ts';
import { ConditionList } from './gateway-conditions.ts';

/** Why a parametersRef cannot be used, or undefined when it names an existing EnvoyProxy. */
export function parametersRefProblem(
  ctx: TranslationContext,
  ref: { group: string; kind: string; name: string },
  namespace: string | undefined,
  field: string,
): string | undefined {
  if (ref.group !== ENVOY_GATEWAY_GROUP || ref.kind !== 'EnvoyProxy') {
    return `${field}: unsupported parameters ${ref.group || 'core'}/${ref.kind}; only ${ENVOY_GATEWAY_GROUP}/EnvoyProxy is supported`;
  }
  if (!namespace) return `${field}: namespace is required for EnvoyProxy parameters`;
  const found = ctx.snapshot.envoyProxies.some(
    (p) => p.metadata.name === ref.name && (p.metadata.namespace ?? '') === namespace,
  );
  return found ? undefined : `${field}: EnvoyProxy ${namespace}/${ref.name} not found`;
}

/** Returns the accepted GatewayClasses this controller owns, by name. */
export function translateGatewayClasses(ctx: TranslationContext): Map<string, GatewayClass> {
  const accepted = new Map<string, GatewayClass>();
  for (const gc of ctx.snapshot.gatewayClasses) {
    if (gc.spec.controllerName !== ctx.options.controllerName) continue;
    const ref = gc.spec.parametersRef;
    const problem = ref && parametersRefProblem(ctx, ref, ref.namespace, 'spec.parametersRef');
    const c = new ConditionList(gc.metadata.generation, ctx.now);
    c.setFrom(
      'Accepted',
      problem ? { reason: 'InvalidParameters', message: problem } : undefined,
      'Accepted',
      `Handled by ${ctx.options.controllerName}`,
    );
    c.set('SupportedVersion', 'True', 'SupportedVersion', 'The Gateway API version of this class is supported');
    ctx.status.of(gc.apiVersion, 'GatewayClass', undefined, gc.metadata.name).conditions = c.items;
    if (!problem) accepted.set(gc.metadata.name, gc);
  }
  return accepted;
}
