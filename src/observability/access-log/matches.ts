/**
 * EnvoyProxy access-log `matches`: CEL expressions over Envoy's attributes
 * (`request.method`, `request.path`, `request.headers['x']`,
 * `response.code`, `response.flags`, `source.address`, `xds.route_name`...;
 * see ./cel-attributes.ts). Compiled once per expression; a
 * line is written when any expression is true. An expression that fails at
 * run time (a missing header in a map, a type mismatch) counts as false, as
 * Envoy's CEL filter does.
 */
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import type { CelAttributes, LineMatch } from './cel-attributes.ts';

const env = celEnv({});
const cache = new Map<string, (a: CelAttributes) => boolean>();

/** One expression; throws with the parser's message when it is not CEL. */
export function compileMatch(expr: string): (a: CelAttributes) => boolean {
  let fn = cache.get(expr);
  if (fn === undefined) {
    const run = plan(env, parse(expr));
    fn = (a) => {
      try {
        const r = run(a as never);
        return r === true && !isCelError(r);
      } catch {
        return false;
      }
    };
    cache.set(expr, fn);
  }
  return fn;
}

/** A `matches` list; null when empty (every line). */
export function compileMatches(exprs: readonly string[]): LineMatch | null {
  if (exprs.length === 0) return null;
  const fns = exprs.map(compileMatch);
  if (fns.length === 1) return fns[0];
  return (a) => {
    for (let i = 0; i < fns.length; i++) if (fns[i](a)) return true;
    return false;
  };
}
