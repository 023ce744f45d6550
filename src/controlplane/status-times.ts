/**
 * The translator is pure and stamps every condition with its `now`; a
 * long-running controller must keep a condition's `lastTransitionTime` when
 * its status did not change from one configuration to the next (the time
 * marks a transition, not a write). This walks every condition list a
 * status can hold: top level, per listener, per route parent, per policy
 * ancestor.
 */
import { carryTransitionTimes, type Condition } from '../translate/conditions.ts';
import { statusKey, type StatusEntry } from '../translate/status.ts';

type Status = Record<string, unknown>;

/** Every condition list of a status, keyed by where it sits. */
function conditionLists(status: Status): Map<string, Condition[]> {
  const out = new Map<string, Condition[]>();
  if (Array.isArray(status.conditions)) out.set('', status.conditions as Condition[]);
  for (const field of ['listeners', 'parents', 'ancestors'] as const) {
    const items = status[field];
    if (!Array.isArray(items)) continue;
    for (const item of items as Array<Record<string, unknown>>) {
      if (!Array.isArray(item.conditions)) continue;
      // A listener is known by name; a parent or ancestor by its ref and controller.
      const id =
        field === 'listeners' ? item.name : JSON.stringify([item.parentRef ?? item.ancestorRef, item.controllerName]);
      out.set(`${field}/${String(id)}`, item.conditions as Condition[]);
    }
  }
  return out;
}

export function carryStatusTimes(next: StatusEntry[], previous: StatusEntry[]): void {
  const prev = new Map(previous.map((e) => [statusKey(e.kind, e.namespace, e.name), e]));
  for (const e of next) {
    const old = prev.get(statusKey(e.kind, e.namespace, e.name));
    if (!old) continue;
    const oldLists = conditionLists(old.status);
    for (const [where, conditions] of conditionLists(e.status)) carryTransitionTimes(conditions, oldLists.get(where));
  }
}
