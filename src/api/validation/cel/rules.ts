/**
 * Evaluates `x-kubernetes-validations` rules at the schema node declaring
 * them, with `self` bound to every value of that node (each list item, each
 * map value), as the API server does.
 */
import { isCelError } from '@bufbuild/cel';
import { appendRelativePath } from '../field-path.ts';
import type { FieldError } from '../field-error.ts';
import type { KubeSchema, ValidationRule } from '../kube-schema.ts';
import { walkSchema } from '../schema-walk.ts';
import { compileRule, type CompiledRule } from './compile.ts';
import { CelConverter, CostMeter } from './values.ts';

/**
 * Comprehension steps allowed per object. Rules on schema-valid objects stay
 * far below this (list sizes are bounded by maxItems); it is a backstop.
 */
export const DEFAULT_COST_BUDGET = 1_000_000;

function failureMessage(compiled: CompiledRule, self: unknown): string {
  const { rule } = compiled;
  if (compiled.evaluateMessage) {
    const msg = compiled.evaluateMessage(self);
    if (typeof msg === 'string' && msg.trim() !== '' && !msg.includes('\n')) return msg;
  }
  return rule.message ?? `failed rule: ${rule.rule.trim()}`;
}

class BudgetExhausted extends Error {}

export function evaluateRules(
  schema: KubeSchema,
  value: unknown,
  errors: FieldError[],
  budget = DEFAULT_COST_BUDGET,
): void {
  const meter = new CostMeter(budget);
  const converter = new CelConverter(meter);
  const fail = (path: string, rule: ValidationRule, message: string): void => {
    errors.push({ path: appendRelativePath(path, rule.fieldPath ?? ''), message });
  };
  try {
    walkSchema(schema, value, '', (node, v, path) => {
      const rules = node['x-kubernetes-validations'];
      if (!rules || v === null) return;
      const self = converter.convert(v, node);
      for (const rule of rules) {
        const compiled = compileRule(rule);
        if (compiled.transition) continue;
        if (!compiled.evaluate) {
          fail(path, rule, `rule does not compile: ${compiled.error ?? 'unknown error'}: ${rule.rule.trim()}`);
          continue;
        }
        const result = compiled.evaluate(self);
        if (meter.exceeded) {
          fail(
            path,
            rule,
            `Forbidden: validation rule cost budget exceeded, no further rules were run: ${rule.rule.trim()}`,
          );
          throw new BudgetExhausted();
        }
        if (result === true) continue;
        if (result === false) fail(path, rule, failureMessage(compiled, self));
        else if (isCelError(result))
          fail(path, rule, `Invalid value: ${result.message} evaluating rule: ${rule.rule.trim()}`);
        else fail(path, rule, `Invalid value: rule did not evaluate to a bool: ${rule.rule.trim()}`);
      }
    });
  } catch (e) {
    if (!(e instanceof BudgetExhausted)) throw e;
  }
}
