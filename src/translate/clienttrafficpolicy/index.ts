/**
 * ClientTrafficPolicy (gateway.envoyproxy.io): how the gateway treats
 * downstream clients, attached to Gateways and their listeners.
 *
 * Targets come from targetRefs and targetSelectors (policy/targets.ts).
 * Listener-level policies (sectionName) are settled first, oldest first;
 * then Gateway-level ones, which apply to the listeners no listener-level
 * policy took and report Overridden with the sections they lost. Two
 * policies on the same Gateway or the same listener: the older wins, the
 * other is Conflicted there. A sectionName naming no listener of the
 * Gateway, or a Gateway that does not exist, is TargetNotFound; a Gateway of
 * another controller is not ours to report on. As in Envoy Gateway, a
 * listener-level policy on an HTTP listener sharing its port with other HTTP
 * listeners is refused (its settings would reach them too).
 *
 * Runs after route translation: the listener IR is complete, and a policy
 * that cannot be applied makes its listeners fail closed.
 */
import type { ClientTrafficPolicy } from '../../api/generated/index.ts';
import { GATEWAY_GROUP, type GatewayContext, type ListenerContext, type TranslationContext } from '../context.ts';
import { bracketList, byAge, Claims, gatewayAncestor } from '../policy/attachment.ts';
import { PolicyStatuses, type AncestorRef, type PolicyStatus } from '../policy/status.ts';
import type { Targetables } from '../policy/targetables.ts';
import { resolveTargets, type PolicyTarget } from '../policy/targets.ts';
import { applyListenerEffect, listenerEffect, type ListenerEffect } from './listener-effect.ts';

interface Attachment {
  policy: ClientTrafficPolicy;
  gateway: GatewayContext;
  sectionName?: string;
  ancestor: AncestorRef;
}

const KIND = 'ClientTrafficPolicy';

export function translateClientTrafficPolicies(ctx: TranslationContext, targetables: Targetables): void {
  const statuses = new PolicyStatuses(ctx);
  const policies = byAge(ctx.snapshot.clientTrafficPolicies);
  const resolved = policies.map((policy) => {
    statuses.of(policy); // so that a policy that attaches nowhere any more loses our old entries
    return { policy, targets: resolveTargets(ctx, policy, targetables.gatewayCandidates()) };
  });
  const sections = new Claims<ClientTrafficPolicy>();
  const gateways = new Claims<ClientTrafficPolicy>();
  const attachments: Attachment[] = [];
  for (const sectioned of [true, false]) {
    for (const { policy, targets } of resolved) {
      for (const t of targets) {
        if ((t.sectionName !== undefined) !== sectioned) continue;
        const a = attach(targetables, statuses.of(policy), policy, t, sectioned ? sections : gateways);
        if (a) attachments.push(a);
      }
    }
  }

  const effects = new Map<ClientTrafficPolicy, ListenerEffect>();
  for (const a of attachments) {
    let effect = effects.get(a.policy);
    if (!effect) effects.set(a.policy, (effect = listenerEffect(ctx, a.policy)));
    const status = statuses.of(a.policy);
    const gw = gatewayId(a.gateway);
    const taken = new Set(
      [...sections.entries()].filter(([k]) => k.startsWith(`${gw}#`)).map(([k]) => k.slice(gw.length + 1)),
    );
    const listeners = a.gateway.listeners.filter((l) =>
      a.sectionName !== undefined ? !l.listenerSet && l.name === a.sectionName : l.listenerSet || !taken.has(l.name),
    );
    const errors = new Set<string>();
    for (const l of listeners) {
      if (!l.ir) continue;
      const overlap = a.sectionName !== undefined ? sharedHTTPPort(a.gateway, l) : undefined;
      const err = overlap ?? applyListenerEffect(l.ir, effect);
      if (err !== undefined) errors.add(err);
    }
    if (errors.size > 0) status.reject([a.ancestor], 'Invalid', [...errors].join('; '));
    if (a.sectionName === undefined && taken.size > 0) {
      const message = `There are existing ClientTrafficPolicies that are overriding these sections ${bracketList(taken)}`;
      status.set(a.ancestor, 'Overridden', 'True', 'Overridden', message);
    }
    status.accept([a.ancestor]);
  }
  statuses.write();
}

function gatewayId(g: GatewayContext): string {
  return `${g.gateway.metadata.namespace ?? ''}/${g.gateway.metadata.name}`;
}

/** Resolves one target and claims it; status for every outcome but success, which the caller completes. */
function attach(
  targetables: Targetables,
  status: PolicyStatus,
  policy: ClientTrafficPolicy,
  t: PolicyTarget,
  claims: Claims<ClientTrafficPolicy>,
): Attachment | undefined {
  const { namespace, name, sectionName } = t;
  const object = `${t.kind} ${namespace}/${name}`;
  if (t.group !== GATEWAY_GROUP || t.kind !== 'Gateway') {
    const ancestor: AncestorRef = { group: t.group, kind: t.kind, namespace, name };
    if (sectionName !== undefined) ancestor.sectionName = sectionName;
    if (t.group === GATEWAY_GROUP && t.kind === 'ListenerSet') {
      if (targetables.listenerSet(namespace, name)) {
        status.reject([ancestor], 'Invalid', `${KIND} on a ListenerSet is not supported yet; target its Gateway`);
      } else if (!targetables.listenerSetExists(namespace, name)) {
        status.reject([ancestor], 'TargetNotFound', `${object} not found`);
      }
    }
    return undefined;
  }
  const ancestor = gatewayAncestor(namespace, name, sectionName);
  const gateway = targetables.gateway(namespace, name);
  if (!gateway) {
    // A Gateway of another controller is not ours to report on.
    if (!targetables.gatewayExists(namespace, name)) status.reject([ancestor], 'TargetNotFound', `${object} not found`);
    return undefined;
  }
  if (sectionName !== undefined && !gateway.gateway.spec.listeners.some((l) => l.name === sectionName)) {
    status.reject([ancestor], 'TargetNotFound', `No section name ${sectionName} found for ${object}`);
    return undefined;
  }
  const owner = claims.claim(`${namespace}/${name}${sectionName !== undefined ? `#${sectionName}` : ''}`, policy);
  if (owner) {
    const what = sectionName !== undefined ? `section ${sectionName} of ${object}` : object;
    const by = `${owner.metadata.namespace ?? ''}/${owner.metadata.name}`;
    status.reject(
      [ancestor],
      'Conflicted',
      `Unable to target ${what}, another ${KIND} (${by}) has already attached to it`,
    );
    return undefined;
  }
  return { policy, gateway, ancestor, ...(sectionName !== undefined ? { sectionName } : {}) };
}

/** Envoy Gateway's rule: plain HTTP listeners on one port share one configuration, so one of them cannot have its own. */
function sharedHTTPPort(gateway: GatewayContext, l: ListenerContext): string | undefined {
  if (l.protocol !== 'HTTP') return undefined;
  const others = gateway.listeners.filter((o) => o !== l && o.ir && o.protocol === 'HTTP' && o.port === l.port);
  if (others.length === 0) return undefined;
  const names = [l, ...others].map((o) => o.ir?.name ?? o.name).join(', ');
  return `${KIND} is being applied to multiple http (non https) listeners (${names}) on the same port, which is not allowed`;
}
