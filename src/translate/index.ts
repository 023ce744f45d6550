/**
 * The translator: a pure function from a resource snapshot to the IR the
 * data plane serves and the status of every resource.
 *
 *   gateway classes -> gateways & listeners (incl. ListenerSets)
 *     -> routes (all kinds; attach to listeners, resolve backends, fill IR)
 *     -> policies on the finished IR (ClientTrafficPolicy on listeners,
 *        BackendTrafficPolicy on route backends)
 *     -> finalize gateways (attachedRoutes, Programmed)
 *
 * Each step writes status where it makes its decision.
 */
import type { KubeObject } from '../api/object.ts';
import type { IR } from '../ir/types.ts';
import type { ResourceSnapshot } from '../providers/snapshot.ts';
import { defaultOptions, TranslationContext, type TranslateOptions } from './context.ts';
import { translateGatewayClasses } from './gatewayclass.ts';
import { finalizeGateways, translateGateways } from './gateway.ts';
import { translateBackendTrafficPolicies } from './backendtrafficpolicy/index.ts';
import { translateClientTrafficPolicies } from './clienttrafficpolicy/index.ts';
import { Targetables } from './policy/targetables.ts';
import { translateRoutes } from './route/index.ts';
import { statusKey, type StatusEntry } from './status.ts';

export type { TranslateOptions } from './context.ts';
export { defaultOptions, DEFAULT_CONTROLLER_NAME } from './context.ts';

export interface TranslateResult {
  ir: IR;
  status: StatusEntry[];
}

export function translate(snapshot: ResourceSnapshot, options: Partial<TranslateOptions> = {}): TranslateResult {
  const ctx = new TranslationContext(snapshot, defaultOptions(options));
  const classes = translateGatewayClasses(ctx);
  const gateways = translateGateways(ctx, classes);
  translateRoutes(ctx, gateways);
  const targetables = new Targetables(ctx, gateways);
  translateClientTrafficPolicies(ctx, targetables);
  translateBackendTrafficPolicies(ctx, targetables);
  finalizeGateways(ctx, gateways);
  const ir: IR = { gateways: gateways.flatMap((g) => (g.ir ? [g.ir] : [])) };
  return { ir, status: ctx.status.entries() };
}

/** Every snapshot object, in a stable order, with its computed status attached (as the API server would hold it). */
export function resourcesWithStatus(snapshot: ResourceSnapshot, result: TranslateResult): KubeObject[] {
  const byKey = new Map(result.status.map((e) => [statusKey(e.kind, e.namespace, e.name), e]));
  const out: KubeObject[] = [];
  for (const list of Object.values(snapshot) as KubeObject[][]) {
    for (const obj of list) {
      const entry = byKey.get(statusKey(obj.kind, obj.metadata.namespace, obj.metadata.name));
      out.push(entry ? { ...obj, status: entry.status } : obj);
    }
  }
  return out;
}
