/**
 * Gateway API path modifiers, shared by RequestRedirect and URLRewrite.
 * ReplacePrefixMatch replaces the matched prefix segment-wise, so that with
 * prefix `/foo`: `/foo/bar` → `/xyz/bar`, `/foo` with `/` → `/`, `/foo/`
 * with `/xyz` → `/xyz/` (the table in the HTTPPathModifier docs).
 */
import type { PathMatchIR } from '../../ir/types.ts';
import { compileRegex, toJsSubstitution } from '../router/regex.ts';
import { trimTrailingSlash } from '../router/route-matcher.ts';

export type PathModifierIR =
  | { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; value: string }
  | { type: 'RegexReplace'; pattern: string; substitution: string };

/** Maps the request path (no query) to the new one. */
export type PathModifier = (path: string) => string;

export function compilePathModifier(m: PathModifierIR, routePath: PathMatchIR, where: string): PathModifier {
  switch (m.type) {
    case 'ReplaceFullPath': {
      const full = m.value === '' ? '/' : m.value;
      return () => full;
    }
    case 'ReplacePrefixMatch': {
      if (routePath.type !== 'PathPrefix') {
        throw new Error(`${where}: ReplacePrefixMatch needs a PathPrefix match, the route has ${routePath.type}`);
      }
      const prefix = trimTrailingSlash(routePath.value);
      const matched = prefix === '/' ? 0 : prefix.length;
      const replacement = trimTrailingSlash(m.value);
      const repl = replacement === '/' ? '' : replacement;
      return (path) => replacePrefix(path, matched, repl);
    }
    case 'RegexReplace': {
      const re = compileRegex(m.pattern, `${where}: RegexReplace`);
      const substitution = toJsSubstitution(m.substitution);
      return (path) => re.replaceAll(path, substitution);
    }
  }
}

function replacePrefix(path: string, matchedLength: number, replacement: string): string {
  const rest = path.slice(matchedLength);
  const out = replacement + rest;
  if (out === '') return '/';
  return out.charCodeAt(0) === 47 ? out : `/${out}`;
}
