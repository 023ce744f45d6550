/**
 * Status conditions (metav1.Condition) and the helpers that set them.
 * Condition types and reasons are the Gateway API's; see the spec's
 * `*ConditionType` / `*ConditionReason` constants.
 */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/**
 * Sets (or replaces) the condition of `type` in `conditions`, keeping the
 * list ordered by first insertion so the output is stable for golden files.
 */
export function setCondition(
  conditions: Condition[],
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  observedGeneration: number | undefined,
  now: string,
): void {
  const next: Condition = { type, status, reason, message, lastTransitionTime: now };
  if (observedGeneration !== undefined) next.observedGeneration = observedGeneration;
  const i = conditions.findIndex((c) => c.type === type);
  if (i === -1) conditions.push(next);
  else conditions[i] = next;
}

export function getCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Keeps `lastTransitionTime` from the previous status when a condition's
 * status did not change, as controllers must (the time marks a transition,
 * not a write).
 */
export function carryTransitionTimes(next: Condition[], previous: Condition[] | undefined): void {
  if (!previous) return;
  for (const c of next) {
    const old = previous.find((p) => p.type === c.type);
    if (old && old.status === c.status && old.lastTransitionTime) c.lastTransitionTime = old.lastTransitionTime;
  }
}
