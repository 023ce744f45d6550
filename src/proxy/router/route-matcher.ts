/**
 * One route entry's match (path, headers, query parameters, method),
 * compiled from the IR once. Everything a request is compared with is
 * prepared here: lower-cased header names, trimmed prefixes, RE2 programs.
 */
import type { HeaderMatchIR, PathMatchIR } from '../../ir/types.ts';
import { getHeader } from '../http/headers.ts';
import { compileRegex, type CompiledRegex } from './regex.ts';

/** What the router reads from a request. */
export interface MatchInput {
  /** Lower case, without port. */
  readonly host: string;
  /** Path without the query. */
  readonly path: string;
  readonly method: string;
  /** Request headers as received, `[name, value, ...]`. */
  readonly rawHeaders: readonly string[];
  /** First value of a query parameter (percent-decoded), parsed on first use. */
  queryParam(name: string): string | undefined;
}

const EXACT = 0;
const PREFIX = 1;
const REGEX = 2;

interface ValueMatch {
  /** Header names lower case; query parameter names as written (they are case-sensitive). */
  readonly name: string;
  readonly exact: string | null;
  readonly regex: CompiledRegex | null;
}

export class RouteMatcher {
  private readonly pathKind: number;
  /** Exact path, or the prefix without its trailing slash (`/` stays `/`). */
  private readonly pathValue: string;
  private readonly pathRegex: CompiledRegex | null;
  private readonly method: string | null;
  private readonly headers: readonly ValueMatch[] | null;
  private readonly query: readonly ValueMatch[] | null;

  constructor(
    path: PathMatchIR,
    headers: readonly HeaderMatchIR[],
    query: ReadonlyArray<{ name: string; type: 'Exact' | 'RegularExpression'; value: string }>,
    method: string | undefined,
    where: string,
  ) {
    this.pathRegex = null;
    if (path.type === 'Exact') {
      this.pathKind = EXACT;
      this.pathValue = path.value;
    } else if (path.type === 'PathPrefix') {
      this.pathKind = PREFIX;
      this.pathValue = trimTrailingSlash(path.value);
    } else {
      this.pathKind = REGEX;
      this.pathValue = path.value;
      this.pathRegex = compileRegex(path.value, `${where}: path`);
    }
    this.method = method ?? null;
    this.headers = headers.length === 0 ? null : valueMatches(headers, (n) => n.toLowerCase(), `${where}: headers`);
    this.query = query.length === 0 ? null : valueMatches(query, (n) => n, `${where}: queryParams`);
  }

  matches(req: MatchInput): boolean {
    if (!this.pathMatches(req.path)) return false;
    if (this.method !== null && req.method !== this.method) return false;
    if (this.headers !== null) {
      for (const h of this.headers) {
        const v = getHeader(req.rawHeaders, h.name);
        if (v === undefined || !valueMatches1(h, v)) return false;
      }
    }
    if (this.query !== null) {
      for (const q of this.query) {
        const v = req.queryParam(q.name);
        if (v === undefined || !valueMatches1(q, v)) return false;
      }
    }
    return true;
  }

  private pathMatches(path: string): boolean {
    switch (this.pathKind) {
      case EXACT:
        return path === this.pathValue;
      case PREFIX: {
        // Segment-wise: `/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`.
        const p = this.pathValue;
        if (p === '/') return true;
        return path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47); /* / */
      }
      default:
        return this.pathRegex!.fullMatch(path);
    }
  }
}

function valueMatches1(m: ValueMatch, value: string): boolean {
  return m.exact !== null ? value === m.exact : m.regex!.fullMatch(value);
}

function valueMatches(
  list: ReadonlyArray<{ name: string; type: 'Exact' | 'RegularExpression'; value: string }>,
  normalize: (name: string) => string,
  where: string,
): ValueMatch[] {
  const out: ValueMatch[] = [];
  const seen = new Set<string>();
  for (const m of list) {
    const name = normalize(m.name);
    // Spec: only the first entry with an equivalent name counts.
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({
      name,
      exact: m.type === 'Exact' ? m.value : null,
      regex: m.type === 'RegularExpression' ? compileRegex(m.value, `${where}: ${m.name}`) : null,
    });
  }
  return out;
}

export function trimTrailingSlash(prefix: string): string {
  let end = prefix.length;
  while (end > 1 && prefix.charCodeAt(end - 1) === 47) end--;
  return end === prefix.length ? prefix : prefix.slice(0, end);
}
