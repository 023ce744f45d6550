/**
 * RE2 regular expressions (Gateway API `RegularExpression` matches are RE2 in
 * Envoy): linear time whatever the input, compiled once per IR.
 */
import { RE2JS } from 're2js';

/**
 * Envoy refuses programs above 100 instructions by default
 * (`re2.max_program_size.error_level`); re2js counts differently, so the cap
 * here is looser. It only bounds the cost of a hostile pattern.
 */
const MAX_PROGRAM_SIZE = 1000;

export interface CompiledRegex {
  /** True when the whole input matches (Gateway API semantics: full match). */
  fullMatch(input: string): boolean;
  /** Replaces every match; `substitution` uses `\1`-style groups as in Envoy's regex_rewrite. */
  replaceAll(input: string, substitution: string): string;
}

export function compileRegex(pattern: string, where: string): CompiledRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    throw new Error(`${where}: invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) {
    throw new Error(`${where}: regular expression ${JSON.stringify(pattern)} is too complex`);
  }
  return {
    fullMatch: (input) => re.testExact(input),
    replaceAll: (input, substitution) => re.matcher(input).replaceAll(substitution),
  };
}

/** Converts an RE2/Envoy substitution (`\1`, literal `$`) into re2js's JS replacement syntax (`$1`, `$$`). */
export function toJsSubstitution(substitution: string): string {
  let out = '';
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i];
    if (c === '$') {
      out += '$$';
    } else if (c === '\\' && i + 1 < substitution.length) {
      const next = substitution[i + 1];
      i++;
      out += next >= '0' && next <= '9' ? `$${next}` : next === '$' ? '$$' : next;
    } else {
      out += c;
    }
  }
  return out;
}
