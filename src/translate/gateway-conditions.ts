/**
 * Small helpers shared by the gateway half of the translator: a condition
 * list bound to one object's generation and the run's time, and the
 * `Problem` value every validation step returns instead of writing status
 * itself (the caller decides which condition a problem lands on).
 */
import { setCondition, type Condition, type ConditionStatus } from './conditions.ts';

/** Why a condition is not in its positive state: the spec's reason and a message for the user. */
export interface Problem {
  reason: string;
  message: string;
}

/** Conditions of one object; each carries the object's generation and the translation time. */
export class ConditionList {
  readonly items: Condition[] = [];

  constructor(
    private readonly generation: number | undefined,
    private readonly now: string,
  ) {}

  set(type: string, status: ConditionStatus, reason: string, message: string): void {
    setCondition(this.items, type, status, reason, message, this.generation, this.now);
  }

  /** Sets `type` to True with `reason` when there is no problem, else False with the problem. */
  setFrom(type: string, problem: Problem | undefined, reason: string, message: string): void {
    if (problem) this.set(type, 'False', problem.reason, problem.message);
    else this.set(type, 'True', reason, message);
  }
}

/** One problem standing for several: the first one's reason, every message. */
export function mergeProblems(problems: Problem[]): Problem | undefined {
  if (problems.length === 0) return undefined;
  return { reason: problems[0].reason, message: problems.map((p) => p.message).join('; ') };
}
