/**
 * ListenerSets (gateway.networking.k8s.io/v1): extra listeners attached to a
 * Gateway. A ListenerSet is only considered when its parentRef names a
 * Gateway Sluice processes; the Gateway must be Accepted and its
 * `spec.allowedListeners.namespaces` (default None) must select the
 * ListenerSet's namespace. Its listeners are validated like the Gateway's
 * (gateway.ts), and its own Accepted/Programmed summarise them.
 */
import type { Gateway, ListenerSet } from '../api/generated/index.ts';
import { GATEWAY_GROUP, type TranslationContext } from './context.ts';
import { ConditionList, type Problem } from './gateway-conditions.ts';
import { compileSelector } from './label-selector.ts';
import type { ListenerOutcome } from './listener.ts';

function gatewayKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function byPrecedence(a: ListenerSet, b: ListenerSet): number {
  // Oldest first; objects without a creation time (files) come after those with one.
  const ta = a.metadata.creationTimestamp ?? '~';
  const tb = b.metadata.creationTimestamp ?? '~';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);
}

/** ListenerSets by the `namespace/name` of the Gateway they name, each list in listener precedence order. */
export function listenerSetsByGateway(ctx: TranslationContext): Map<string, ListenerSet[]> {
  const out = new Map<string, ListenerSet[]>();
  for (const ls of ctx.snapshot.listenerSets) {
    const ref = ls.spec.parentRef;
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const key = gatewayKey(ref.namespace || (ls.metadata.namespace ?? ''), ref.name);
    const list = out.get(key);
    if (list) list.push(ls);
    else out.set(key, [ls]);
  }
  for (const list of out.values()) list.sort(byPrecedence);
  return out;
}

export function listenerSetsFor(sets: Map<string, ListenerSet[]>, gateway: Gateway): ListenerSet[] {
  return sets.get(gatewayKey(gateway.metadata.namespace ?? '', gateway.metadata.name)) ?? [];
}

/** Why the Gateway's allowedListeners does not admit the ListenerSet, or undefined when it does. */
export function listenerSetNotAllowed(ctx: TranslationContext, gateway: Gateway, ls: ListenerSet): Problem | undefined {
  const namespaces = gateway.spec.allowedListeners?.namespaces;
  const lsNamespace = ls.metadata.namespace ?? '';
  const gw = `${gateway.metadata.namespace ?? ''}/${gateway.metadata.name}`;
  const refuse = (why: string): Problem => ({ reason: 'NotAllowed', message: `Gateway ${gw} ${why}` });
  switch (namespaces?.from ?? 'None') {
    case 'All':
      return undefined;
    case 'Same':
      return lsNamespace === gateway.metadata.namespace
        ? undefined
        : refuse('only allows ListenerSets from its own namespace');
    case 'Selector': {
      const compiled = namespaces?.selector ? compileSelector(namespaces.selector) : undefined;
      if (!compiled || 'error' in compiled) return refuse('has no valid allowedListeners.namespaces.selector');
      return compiled.matches(ctx.namespaceLabels(lsNamespace))
        ? undefined
        : refuse(`does not select namespace ${lsNamespace} in allowedListeners.namespaces.selector`);
    }
    default:
      return refuse('does not allow ListenerSets (spec.allowedListeners)');
  }
}

/** Status of a ListenerSet that is not attached (NotAllowed, ParentNotAccepted): no listener entries. */
export function writeRejectedListenerSet(ctx: TranslationContext, ls: ListenerSet, problem: Problem): void {
  const c = new ConditionList(ls.metadata.generation, ctx.now);
  c.set('Accepted', 'False', problem.reason, problem.message);
  const programmedReason = problem.reason === 'ParentNotAccepted' ? 'ParentNotProgrammed' : problem.reason;
  c.set('Programmed', 'False', programmedReason, problem.message);
  ctx.status.of(ls.apiVersion, 'ListenerSet', ls.metadata.namespace, ls.metadata.name).conditions = c.items;
}

/**
 * Accepted while at least one listener can be programmed (reason Accepted
 * only when every listener is valid); Programmed when the parent Gateway is
 * and some listener is.
 */
export function listenerSetConditions(
  ctx: TranslationContext,
  ls: ListenerSet,
  outcomes: Array<{ name: string; outcome: ListenerOutcome }>,
  parentProgrammed: boolean,
): { accepted: boolean; conditions: ConditionList } {
  const c = new ConditionList(ls.metadata.generation, ctx.now);
  const programmed = outcomes.filter((o) => !o.outcome.notProgrammed);
  const notValid = outcomes.filter((o) => !o.outcome.valid || !o.outcome.usable).map((o) => o.name);
  const accepted = outcomes.some((o) => o.outcome.usable);
  const invalidMessage = `Listeners not valid: ${notValid.join(', ')}`;
  if (!accepted) c.set('Accepted', 'False', 'ListenersNotValid', `No listener can be programmed. ${invalidMessage}`);
  else if (notValid.length) c.set('Accepted', 'True', 'ListenersNotValid', invalidMessage);
  else c.set('Accepted', 'True', 'Accepted', 'All listeners are valid');
  if (!parentProgrammed) c.set('Programmed', 'False', 'ParentNotProgrammed', 'The parent Gateway is not programmed');
  else if (programmed.length === 0) c.set('Programmed', 'False', 'ListenersNotValid', 'No listener is programmed');
  else c.set('Programmed', 'True', 'Programmed', `${programmed.length} of ${outcomes.length} listeners programmed`);
  return { accepted, conditions: c };
}
