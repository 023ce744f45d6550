/**
 * Compiled set/add/remove lists shared by the request and response header
 * modifiers. Applied remove → set → add, Envoy's order, so that a filter can
 * remove a header and add it back with a new value.
 */
import type { HeaderModifierIR } from '../../ir/types.ts';
import { addHeader, removeHeader, setHeader } from '../http/headers.ts';

interface Edit {
  readonly name: string;
  readonly lower: string;
  readonly value: string;
}

export class HeaderEdits {
  readonly set: readonly Edit[];
  readonly add: readonly Edit[];
  readonly remove: readonly string[];

  constructor(m: HeaderModifierIR, skip: ReadonlySet<string> = new Set()) {
    const keep = (e: { name: string }): boolean => !skip.has(e.name.toLowerCase());
    const edit = (e: { name: string; value: string }): Edit => ({
      name: e.name,
      lower: e.name.toLowerCase(),
      value: e.value,
    });
    this.set = (m.set ?? []).filter(keep).map(edit);
    this.add = (m.add ?? []).filter(keep).map(edit);
    this.remove = (m.remove ?? []).map((n) => n.toLowerCase()).filter((n) => !skip.has(n));
  }

  apply(flat: string[]): void {
    for (const r of this.remove) removeHeader(flat, r);
    for (const s of this.set) setHeader(flat, s.name, s.lower, s.value);
    for (const a of this.add) addHeader(flat, a.name, a.lower, a.value);
  }
}
