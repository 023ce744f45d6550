/**
 * Turns computed status into user-facing problem lines: every condition
 * that says something is wrong (Accepted/ResolvedRefs/Programmed False, or
 * Conflicted True), with the resource and the condition's message.
 */
import type { Condition } from '../translate/conditions.ts';
import type { StatusEntry } from '../translate/status.ts';

const BAD_WHEN_TRUE = new Set(['Conflicted', 'PartiallyInvalid']);

function bad(c: Condition): boolean {
  return BAD_WHEN_TRUE.has(c.type) ? c.status === 'True' : c.status === 'False';
}

function describe(kind: string, ns: string | undefined, name: string, where: string, c: Condition): string {
  return `${kind} ${ns ? `${ns}/` : ''}${name}${where}: ${c.type}=${c.status} (${c.reason}): ${c.message}`;
}

export function statusProblems(entries: StatusEntry[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const s = e.status as {
      conditions?: Condition[];
      listeners?: Array<{ name: string; conditions?: Condition[] }>;
      parents?: Array<{
        parentRef: { name: string; namespace?: string; sectionName?: string };
        conditions?: Condition[];
      }>;
      ancestors?: Array<{ ancestorRef: { name: string; namespace?: string }; conditions?: Condition[] }>;
    };
    for (const c of s.conditions ?? []) if (bad(c)) out.push(describe(e.kind, e.namespace, e.name, '', c));
    for (const l of s.listeners ?? [])
      for (const c of l.conditions ?? [])
        if (bad(c)) out.push(describe(e.kind, e.namespace, e.name, ` listener ${l.name}`, c));
    for (const p of s.parents ?? []) {
      const ref = `${p.parentRef.namespace ?? e.namespace ?? ''}/${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ''}`;
      for (const c of p.conditions ?? [])
        if (bad(c)) out.push(describe(e.kind, e.namespace, e.name, ` parent ${ref}`, c));
    }
    for (const a of s.ancestors ?? []) {
      const ref = `${a.ancestorRef.namespace ?? e.namespace ?? ''}/${a.ancestorRef.name}`;
      for (const c of a.conditions ?? [])
        if (bad(c)) out.push(describe(e.kind, e.namespace, e.name, ` ancestor ${ref}`, c));
    }
  }
  return out;
}
