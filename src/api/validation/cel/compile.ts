/**
 * Compiles `x-kubernetes-validations` rules with cel-es. cel-es resolves
 * functions only when a call runs, so compiling also walks the syntax tree
 * and checks that every identifier and function (with its arity) exists:
 * a rule that would fail at run time fails here instead.
 */
import { celEnv, parse, plan, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from 're2js';
import type { ValidationRule } from '../kube-schema.ts';
import { kubernetesLibrary } from './kubernetes-library.ts';

type Expr = ReturnType<typeof parse>['expr'];

/** Patterns in rules are nearly all constants; the cap only guards data-driven ones. */
const MAX_CACHED_PATTERNS = 1000;
const patterns = new Map<string, RE2JS>();

const env = celEnv({
  funcs: [...strings, ...kubernetesLibrary],
  re2: {
    compile(pattern: string) {
      let re = patterns.get(pattern);
      if (!re) {
        re = RE2JS.compile(pattern);
        if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
        patterns.set(pattern, re);
      }
      const compiled = re;
      return { test: (s: string) => compiled.test(s) };
    },
  },
});

/** Calls the planner handles itself rather than through the function registry. */
const SPECIAL_CALLS = new Set([
  '_&&_',
  '_||_',
  '_?_:_',
  '_[_]',
  '_[?_]',
  '_?._',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

/** Type names usable as values, e.g. `type(self) == string`. */
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);

export type Evaluator = (self: unknown) => CelResult;

export interface CompiledRule {
  rule: ValidationRule;
  /** Transition rules compare with the previous object; a file has none, so they are skipped. */
  transition: boolean;
  evaluate?: Evaluator;
  evaluateMessage?: Evaluator;
  /** Why the rule (or its messageExpression) does not compile. */
  error?: string;
}

/** `a.b.c` for a chain of selects on an identifier, else undefined. */
function qualifiedName(e: Expr | undefined): string | undefined {
  if (!e) return undefined;
  if (e.exprKind.case === 'identExpr') return e.exprKind.value.name;
  if (e.exprKind.case === 'selectExpr') {
    const operand = qualifiedName(e.exprKind.value.operand);
    return operand === undefined ? undefined : `${operand}.${e.exprKind.value.field}`;
  }
  return undefined;
}

function hasOverload(name: string, arity: number, method: boolean): boolean {
  const group = env.funcs.find(name);
  if (!group) return false;
  for (const f of group) if (f.arguments.length === arity && (f.target !== undefined) === method) return true;
  return false;
}

/** Problems with the expression, and whether it references `oldSelf`. */
function checkExpr(e: Expr | undefined, scope: ReadonlySet<string>, out: { errors: string[]; oldSelf: boolean }): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr':
      if (k.value.name === 'oldSelf') out.oldSelf = true;
      else if (!scope.has(k.value.name) && !TYPE_NAMES.has(k.value.name))
        out.errors.push(`undeclared reference to '${k.value.name}'`);
      return;
    case 'selectExpr':
      checkExpr(k.value.operand, scope, out);
      return;
    case 'callExpr': {
      const { function: fn, target, args } = k.value;
      for (const a of args) checkExpr(a, scope, out);
      if (SPECIAL_CALLS.has(fn)) {
        checkExpr(target, scope, out);
        return;
      }
      // `format.dns1123Label()` is a namespaced function, not a method on an identifier.
      const qualified = qualifiedName(target);
      if (
        qualified !== undefined &&
        !scope.has(qualified.split('.')[0]) &&
        hasOverload(`${qualified}.${fn}`, args.length, false)
      )
        return;
      checkExpr(target, scope, out);
      if (!env.funcs.find(fn)) out.errors.push(`undeclared reference to '${fn}'`);
      else if (!hasOverload(fn, args.length, target !== undefined))
        out.errors.push(`no overload of '${fn}' takes ${args.length} argument(s)${target ? ' as a method' : ''}`);
      return;
    }
    case 'listExpr':
      for (const el of k.value.elements) checkExpr(el, scope, out);
      return;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') checkExpr(entry.keyKind.value, scope, out);
        checkExpr(entry.value, scope, out);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      checkExpr(c.iterRange, scope, out);
      checkExpr(c.accuInit, scope, out);
      const inner = new Set(scope);
      for (const v of [c.iterVar, c.iterVar2, c.accuVar]) if (v) inner.add(v);
      checkExpr(c.loopCondition, inner, out);
      checkExpr(c.loopStep, inner, out);
      checkExpr(c.result, new Set([...scope, c.accuVar]), out);
      return;
    }
    default:
      return;
  }
}

function compileExpr(source: string): { evaluate?: Evaluator; oldSelf: boolean; error?: string } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (e) {
    return { oldSelf: false, error: `syntax error: ${(e as Error).message.split('\n')[0]}` };
  }
  const out = { errors: [] as string[], oldSelf: false };
  checkExpr(parsed.expr, new Set(['self']), out);
  if (out.errors.length) return { oldSelf: out.oldSelf, error: out.errors.join('; ') };
  const run = plan(env, parsed);
  return { oldSelf: out.oldSelf, evaluate: (self) => run({ self: self as never }) };
}

const cache = new Map<string, CompiledRule>();

export function compileRule(rule: ValidationRule): CompiledRule {
  const key = `${rule.rule}\0${rule.messageExpression ?? ''}\0${rule.optionalOldSelf ?? ''}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const main = compileExpr(rule.rule);
  const compiled: CompiledRule = {
    rule,
    transition: main.oldSelf || rule.optionalOldSelf === true,
    evaluate: main.evaluate,
    error: main.error,
  };
  if (rule.messageExpression !== undefined && !compiled.error) {
    const msg = compileExpr(rule.messageExpression);
    if (msg.error) compiled.error = `messageExpression: ${msg.error}`;
    else if (msg.oldSelf) compiled.error = 'messageExpression: may not reference oldSelf';
    compiled.evaluateMessage = msg.evaluate;
  }
  cache.set(key, compiled);
  return compiled;
}
