/**
 * `status.ancestors` of a direct-attachment policy (GEP-713
 * PolicyAncestorStatus), written the way Envoy Gateway writes it: one entry
 * per ancestor (the Gateway, with the listener's sectionName when a listener
 * is targeted; a route's parent Gateways when a route is), each with our
 * controllerName and conditions carrying the policy's generation:
 * - Accepted True (Accepted, "Policy has been accepted."), or False with
 *   TargetNotFound, Invalid or Conflicted; a failure set first is kept;
 * - Overridden True when a more specific policy replaces this one for some
 *   part of the target.
 * Entries of other controllers are kept; ours are recomputed every run, and
 * a policy that had ours and now attaches nowhere gets them removed.
 */
import { carryTransitionTimes, setCondition, type Condition, type ConditionStatus } from '../conditions.ts';
import type { TranslationContext } from '../context.ts';
import type { PolicyObject } from './targets.ts';

export interface AncestorRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  sectionName?: string;
}

interface AncestorStatus {
  ancestorRef: AncestorRef;
  controllerName: string;
  conditions: Condition[];
}

/** The Gateway API caps status.ancestors at 16 entries. */
const MAX_ANCESTORS = 16;

export const ACCEPTED_MESSAGE = 'Policy has been accepted.';

export function ancestorKey(a: {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
}): string {
  return `${a.group ?? ''}/${a.kind ?? ''}/${a.namespace ?? ''}/${a.name}#${a.sectionName ?? ''}`;
}

/** The status of one policy, built up by the attachment steps and written once. */
export class PolicyStatus {
  readonly #ancestors = new Map<string, AncestorStatus>();

  constructor(
    private readonly ctx: TranslationContext,
    readonly policy: PolicyObject & { status?: unknown },
  ) {}

  /** Sets (or replaces) a condition on the ancestor. */
  set(ref: AncestorRef, type: string, status: ConditionStatus, reason: string, message: string): void {
    setCondition(
      this.#entry(ref).conditions,
      type,
      status,
      reason,
      message,
      this.policy.metadata.generation,
      this.ctx.now,
    );
  }

  /** Accepted=False on every ancestor given. */
  reject(refs: AncestorRef[], reason: string, message: string): void {
    for (const ref of refs) this.set(ref, 'Accepted', 'False', reason, message);
  }

  /** Accepted=True unless an Accepted condition (a failure) is already there. */
  accept(refs: AncestorRef[]): void {
    for (const ref of refs) {
      if (!this.#entry(ref).conditions.some((c) => c.type === 'Accepted')) {
        this.set(ref, 'Accepted', 'True', 'Accepted', ACCEPTED_MESSAGE);
      }
    }
  }

  #entry(ref: AncestorRef): AncestorStatus {
    const key = ancestorKey(ref);
    let e = this.#ancestors.get(key);
    if (!e) {
      e = { ancestorRef: { ...ref }, controllerName: this.ctx.options.controllerName, conditions: [] };
      this.#ancestors.set(key, e);
    }
    return e;
  }

  write(): void {
    const { policy, ctx } = this;
    const controllerName = ctx.options.controllerName;
    const previous = previousAncestors(policy);
    const hadOurs = previous.some((a) => a.controllerName === controllerName);
    if (this.#ancestors.size === 0 && !hadOurs) return;
    const ours = [...this.#ancestors.values()].map((a) => {
      // Accepted first, whatever order the steps set them in: stable output.
      a.conditions.sort((x, y) => Number(y.type === 'Accepted') - Number(x.type === 'Accepted'));
      const before = previous.find(
        (p) =>
          p.controllerName === controllerName &&
          ancestorKey({ ...p.ancestorRef, namespace: p.ancestorRef.namespace ?? policy.metadata.namespace }) ===
            ancestorKey(a.ancestorRef),
      );
      carryTransitionTimes(a.conditions, before?.conditions);
      return a;
    });
    const others = previous.filter((a) => a.controllerName !== controllerName);
    const status = ctx.status.of(policy.apiVersion, policy.kind, policy.metadata.namespace, policy.metadata.name);
    status.ancestors = [...others, ...truncate(ours, MAX_ANCESTORS - others.length)];
  }
}

/** Every policy's status, created on first use, written together at the end. */
export class PolicyStatuses {
  readonly #byPolicy = new Map<PolicyObject, PolicyStatus>();

  constructor(private readonly ctx: TranslationContext) {}

  of(policy: PolicyObject): PolicyStatus {
    let s = this.#byPolicy.get(policy);
    if (!s) {
      s = new PolicyStatus(this.ctx, policy);
      this.#byPolicy.set(policy, s);
    }
    return s;
  }

  write(): void {
    for (const s of this.#byPolicy.values()) s.write();
  }
}

interface PreviousAncestor {
  ancestorRef: { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string };
  controllerName: string;
  conditions: Condition[];
}

function previousAncestors(policy: { status?: unknown }): PreviousAncestor[] {
  const status = policy.status as { ancestors?: PreviousAncestor[] } | undefined;
  return status?.ancestors ?? [];
}

/**
 * Keeps at most `max` entries, the ones a user most needs to see first:
 * not accepted, then overridden, then the rest (Envoy Gateway's order), and
 * says so on the last one kept.
 */
function truncate(ancestors: AncestorStatus[], max: number): AncestorStatus[] {
  if (ancestors.length <= max) return ancestors;
  const rank = (a: AncestorStatus): number => {
    if (a.conditions.some((c) => c.type === 'Accepted' && c.status === 'False')) return 0;
    if (a.conditions.some((c) => c.type === 'Overridden' && c.status === 'True')) return 1;
    return 2;
  };
  const kept = [...ancestors]
    .sort((a, b) => rank(a) - rank(b) || ancestorKey(a.ancestorRef).localeCompare(ancestorKey(b.ancestorRef)))
    .slice(0, Math.max(max, 1));
  const last = kept[kept.length - 1];
  const template = last.conditions[0];
  last.conditions.push({
    type: 'Aggregated',
    status: 'True',
    reason: 'Aggregated',
    message: `Ancestors have been truncated because the number of policy ancestors exceeds ${MAX_ANCESTORS}.`,
    lastTransitionTime: template?.lastTransitionTime ?? '',
    ...(template?.observedGeneration !== undefined ? { observedGeneration: template.observedGeneration } : {}),
  });
  return kept;
}
