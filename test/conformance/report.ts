/** Result lines: `PASS id`, `FAIL id: reason`, `SKIP id: reason`, and the closing tally. */

export type OutcomeStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface CaseOutcome {
  id: string;
  status: OutcomeStatus;
  /** FAIL/SKIP: the reason. PASS: an optional note such as `(status only)`. */
  detail?: string;
}

export function formatOutcome(o: CaseOutcome): string {
  if (!o.detail) return `${o.status} ${o.id}`;
  return o.status === 'PASS' ? `PASS ${o.id} ${o.detail}` : `${o.status} ${o.id}: ${o.detail}`;
}

export function summary(outcomes: CaseOutcome[]): string {
  const count = (s: OutcomeStatus): number => outcomes.filter((o) => o.status === s).length;
  return `${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`;
}
