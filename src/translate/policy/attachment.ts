/**
 * The precedence rules shared by Envoy Gateway's policies:
 * - a more specific target wins: a listener (sectionName) over its Gateway;
 *   a route rule over its route over the Gateway or listener it attaches to;
 * - among policies on the same target the oldest (creationTimestamp, then
 *   namespace/name) wins and the others are Conflicted on it;
 * - a less specific policy that some more specific one replaces somewhere
 *   reports Overridden there.
 * Policies are handled oldest first, so the first claim on a target is the
 * winner's.
 */
import { GATEWAY_GROUP } from '../context.ts';
import { compareRouteAge } from '../precedence.ts';
import type { AncestorRef } from './status.ts';
import type { PolicyObject } from './targets.ts';

/** Oldest first; equal times by namespace/name. A policy without creationTimestamp counts as created at the epoch. */
export function byAge<T extends PolicyObject>(policies: readonly T[]): T[] {
  const identity = (p: PolicyObject): { namespace: string; name: string; creationTimestamp?: string } => ({
    namespace: p.metadata.namespace ?? '',
    name: p.metadata.name,
    ...(p.metadata.creationTimestamp !== undefined ? { creationTimestamp: p.metadata.creationTimestamp } : {}),
  });
  return [...policies].sort((a, b) => compareRouteAge(identity(a), identity(b)));
}

/** Who holds each target of one precedence level (a policy, or what the caller keeps about it). */
export class Claims<H> {
  readonly #holders = new Map<string, H>();

  /** Takes `key` for `holder`; returns the earlier holder when another one has it. */
  claim(key: string, holder: H): H | undefined {
    const earlier = this.#holders.get(key);
    if (earlier !== undefined && earlier !== holder) return earlier;
    this.#holders.set(key, holder);
    return undefined;
  }

  get(key: string): H | undefined {
    return this.#holders.get(key);
  }

  entries(): IterableIterator<[string, H]> {
    return this.#holders.entries();
  }
}

export function gatewayAncestor(namespace: string, name: string, sectionName?: string): AncestorRef {
  const ref: AncestorRef = { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name };
  if (sectionName !== undefined) ref.sectionName = sectionName;
  return ref;
}

/** `[a b c]`, sorted: the list format of Envoy Gateway's status messages. */
export function bracketList(items: Iterable<string>): string {
  return `[${[...items].sort().join(' ')}]`;
}
