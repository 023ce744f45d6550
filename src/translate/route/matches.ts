/**
 * HTTPRoute and GRPCRoute matches to IR matches, with the CRD defaults
 * applied (no matches = PathPrefix `/`; path type PathPrefix, value `/`;
 * header and query types Exact) and the values the spec says must make the
 * rule invalid (unknown types, unknown methods, bad regular expressions)
 * reported as UnsupportedValue.
 *
 * GRPCRoute method matches become path matches, since a gRPC call is
 * `POST /<service>/<method>`: service and method exact = Exact path; service
 * only = PathPrefix `/<service>` (prefix matching is per path segment);
 * method only, and every RegularExpression form, = a regular expression.
 */
import type { GRPCRouteSpec, HTTPRouteSpec } from '../../api/generated/index.ts';
import type { HeaderMatchIR, PathMatchIR } from '../../ir/types.ts';
import type { GRPCMatchPrecedence, HTTPMatchPrecedence } from '../precedence.ts';
import { escapeRegex, regexError } from './regex.ts';

type HTTPRule = NonNullable<HTTPRouteSpec['rules']>[number];
type HTTPMatch = NonNullable<HTTPRule['matches']>[number];
type GRPCRule = NonNullable<GRPCRouteSpec['rules']>[number];
type GRPCMatch = NonNullable<GRPCRule['matches']>[number];

export interface BuiltMatch {
  path: PathMatchIR;
  headers: HeaderMatchIR[];
  queryParams: Array<{ name: string; type: 'Exact' | 'RegularExpression'; value: string }>;
  method?: string;
  precedence: HTTPMatchPrecedence | GRPCMatchPrecedence;
}

export type MatchResult = { ok: true; matches: BuiltMatch[] } | { ok: false; message: string };

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const MATCH_ALL: PathMatchIR = { type: 'PathPrefix', value: '/' };
/** Valid gRPC service and method names (the GRPCMethodMatch CEL rules), without inline flags so any RE2 engine takes them. */
const GRPC_SERVICE = '\\.?[A-Za-z_][A-Za-z_0-9]*(\\.[A-Za-z_][A-Za-z_0-9]*)*';
const GRPC_METHOD = '[A-Za-z_][A-Za-z_0-9]*';

export function httpMatches(matches: HTTPMatch[] | undefined, field: string): MatchResult {
  const list = matches && matches.length > 0 ? matches : [{}];
  const out: BuiltMatch[] = [];
  for (const [j, m] of list.entries()) {
    const at = `${field}.matches[${j}]`;
    const type = m.path?.type ?? 'PathPrefix';
    const value = m.path?.value ?? '/';
    if (type !== 'Exact' && type !== 'PathPrefix' && type !== 'RegularExpression') {
      return { ok: false, message: `${at}.path.type: unsupported value ${String(type)}` };
    }
    if (type === 'RegularExpression') {
      const err = regexError(value);
      if (err) return { ok: false, message: `${at}.path.value: invalid regular expression: ${err}` };
    }
    const headers = headerMatches(m.headers, `${at}.headers`);
    if (typeof headers === 'string') return { ok: false, message: headers };
    const queryParams = queryMatches(m.queryParams, `${at}.queryParams`);
    if (typeof queryParams === 'string') return { ok: false, message: queryParams };
    if (m.method !== undefined && !METHODS.has(m.method)) {
      return { ok: false, message: `${at}.method: unsupported value ${m.method}` };
    }
    out.push({
      path: { type, value },
      headers,
      queryParams,
      ...(m.method !== undefined ? { method: m.method } : {}),
      precedence: {
        kind: 'HTTPRoute',
        pathType: type,
        pathLength: value.length,
        method: m.method !== undefined,
        headers: headers.length,
        queryParams: queryParams.length,
      },
    });
  }
  return { ok: true, matches: out };
}

export function grpcMatches(matches: GRPCMatch[] | undefined, field: string): MatchResult {
  const list = matches && matches.length > 0 ? matches : [{}];
  const out: BuiltMatch[] = [];
  for (const [j, m] of list.entries()) {
    const at = `${field}.matches[${j}]`;
    const headers = headerMatches(m.headers, `${at}.headers`);
    if (typeof headers === 'string') return { ok: false, message: headers };
    const path = grpcPath(m.method, `${at}.method`);
    if (typeof path === 'string') return { ok: false, message: path };
    const service = m.method?.service ?? '';
    const method = m.method?.method ?? '';
    out.push({
      path,
      headers,
      queryParams: [],
      precedence: {
        kind: 'GRPCRoute',
        serviceChars: service.length,
        methodChars: method.length,
        regex: m.method?.type === 'RegularExpression',
        headers: headers.length,
      },
    });
  }
  return { ok: true, matches: out };
}

function grpcPath(m: GRPCMatch['method'], at: string): PathMatchIR | string {
  const service = m?.service || undefined;
  const method = m?.method || undefined;
  if (!service && !method) return MATCH_ALL;
  const type = m?.type ?? 'Exact';
  if (type === 'Exact') {
    if (service && method) return { type: 'Exact', value: `/${service}/${method}` };
    if (service) return { type: 'PathPrefix', value: `/${service}` };
    return { type: 'RegularExpression', value: `^/${GRPC_SERVICE}/${escapeRegex(method!)}$` };
  }
  if (type !== 'RegularExpression') return `${at}.type: unsupported value ${String(type)}`;
  for (const [name, v] of [
    ['service', service],
    ['method', method],
  ] as const) {
    const err = v ? regexError(v) : undefined;
    if (err) return `${at}.${name}: invalid regular expression: ${err}`;
  }
  return { type: 'RegularExpression', value: `^/${service ?? GRPC_SERVICE}/${method ?? GRPC_METHOD}$` };
}

type HeaderSpec = { name: string; type?: string; value: string };

/** Header matches; of several with the same name (case-insensitive) only the first counts, as the spec says. */
function headerMatches(headers: HeaderSpec[] | undefined, at: string): HeaderMatchIR[] | string {
  const out: HeaderMatchIR[] = [];
  const seen = new Set<string>();
  for (const [k, h] of (headers ?? []).entries()) {
    const key = h.name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const type = h.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression') return `${at}[${k}].type: unsupported value ${type}`;
    if (type === 'RegularExpression') {
      const err = regexError(h.value);
      if (err) return `${at}[${k}].value: invalid regular expression: ${err}`;
    }
    out.push({ name: h.name, type, value: h.value });
  }
  return out;
}

/** Query param matches; names compare exactly and only the first of a name counts. */
function queryMatches(params: HeaderSpec[] | undefined, at: string): BuiltMatch['queryParams'] | string {
  const out: BuiltMatch['queryParams'] = [];
  const seen = new Set<string>();
  for (const [k, q] of (params ?? []).entries()) {
    if (seen.has(q.name)) continue;
    seen.add(q.name);
    const type = q.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression') return `${at}[${k}].type: unsupported value ${type}`;
    if (type === 'RegularExpression') {
      const err = regexError(q.value);
      if (err) return `${at}[${k}].value: invalid regular expression: ${err}`;
    }
    out.push({ name: q.name, type, value: q.value });
  }
  return out;
}
