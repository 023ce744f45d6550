/**
 * HTTPRoute and GRPCRoute filters (rule level and per backendRef) to IR
 * filters, in the order written, as the spec asks implementations to run
 * them.
 *
 * Failure handling follows the spec and Envoy Gateway:
 * - a filter the spec forbids or Sluice cannot honour (unknown type,
 *   ExternalAuth, bad values, incompatible combination) makes the rule
 *   invalid (Accepted=False / PartiallyInvalid, UnsupportedValue or
 *   IncompatibleFilters) and its requests get a 500, so nothing the filter
 *   should have guarded is reached;
 * - an ExtensionRef that cannot be resolved is a reference failure
 *   (ResolvedRefs=False) and requests it would process get a 500;
 * - a RequestMirror whose backendRef is invalid is dropped (ResolvedRefs=False),
 *   the rule keeps serving.
 */
import type { CORSIR, FilterIR, HeaderModifierIR, RedirectIR, URLRewriteIR } from '../../ir/types.ts';
import type { RouteKind } from '../backend/index.ts';
import { resolveRouteBackend, type RouteScope } from './backends.ts';
import { extensionRefFilter } from './extension-filter.ts';
import type { RouteIssue } from './types.ts';

interface HeaderSpec {
  name: string;
  value: string;
}
interface HeaderModifierSpec {
  set?: HeaderSpec[];
  add?: HeaderSpec[];
  remove?: string[];
}
interface PathModifierSpec {
  type: string;
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

/** The union of the HTTPRoute and GRPCRoute filter shapes (rule level and backendRef level). */
export interface FilterSpec {
  type: string;
  requestHeaderModifier?: HeaderModifierSpec;
  responseHeaderModifier?: HeaderModifierSpec;
  requestRedirect?: {
    scheme?: string;
    hostname?: string;
    port?: number;
    path?: PathModifierSpec;
    statusCode?: number;
  };
  urlRewrite?: { hostname?: string; path?: PathModifierSpec };
  requestMirror?: {
    backendRef: { group?: string; kind?: string; name: string; namespace?: string; port?: number };
    percent?: number;
    fraction?: { numerator: number; denominator?: number };
  };
  cors?: {
    allowOrigins?: string[];
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    maxAge?: number;
    allowCredentials?: boolean;
  };
  extensionRef?: { group: string; kind: string; name: string };
}

export interface FilterBuild {
  filters: FilterIR[];
  /** A filter answers the request itself (redirect or direct response): backends are not used. */
  terminal: boolean;
  /** The rule is invalid because of its filters (an Accepted-type decision). */
  invalid?: RouteIssue;
  /** A filter reference did not resolve (a ResolvedRefs-type decision). */
  unresolved?: RouteIssue;
}

const HTTP_TYPES = new Set([
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestRedirect',
  'URLRewrite',
  'RequestMirror',
  'CORS',
  'ExtensionRef',
]);
const GRPC_TYPES = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
/** The spec's default for Access-Control-Max-Age when maxAge is not set. */
const CORS_DEFAULT_MAX_AGE = 5;

export function translateFilters(
  scope: RouteScope,
  specs: FilterSpec[] | undefined,
  field: string,
  routeKind: RouteKind,
): FilterBuild {
  const out: FilterBuild = { filters: [], terminal: false };
  const supported = routeKind === 'GRPCRoute' ? GRPC_TYPES : HTTP_TYPES;
  for (const [k, f] of (specs ?? []).entries()) {
    const at = `${field}[${k}]`;
    if (!supported.has(f.type)) {
      out.invalid ??= {
        reason: 'UnsupportedValue',
        message: `${at}.type: filter ${f.type} is not supported on ${routeKind}`,
      };
      continue;
    }
    const problem = addFilter(scope, out, f, at, routeKind);
    if (problem) out.invalid ??= { reason: 'UnsupportedValue', message: problem };
  }
  const combination = incompatibility(out.filters, field);
  if (combination) out.invalid ??= { reason: 'IncompatibleFilters', message: combination };
  return out;
}

/** Adds the IR of one filter; returns a message when its configuration is invalid. */
function addFilter(
  scope: RouteScope,
  out: FilterBuild,
  f: FilterSpec,
  at: string,
  routeKind: RouteKind,
): string | undefined {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const spec = f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier;
      if (!spec) return `${at}: ${f.type} filter without its configuration`;
      out.filters.push({ type: f.type, modifier: headerModifier(spec) });
      return undefined;
    }
    case 'RequestRedirect': {
      const r = f.requestRedirect;
      if (!r) return `${at}: RequestRedirect filter without its configuration`;
      const statusCode = r.statusCode ?? 302;
      if (!REDIRECT_CODES.has(statusCode)) return `${at}.requestRedirect.statusCode: unsupported value ${statusCode}`;
      if (r.scheme !== undefined && r.scheme !== 'http' && r.scheme !== 'https') {
        return `${at}.requestRedirect.scheme: unsupported value ${r.scheme}`;
      }
      const path = pathModifier(r.path, `${at}.requestRedirect.path`);
      if (typeof path === 'string') return path;
      const redirect: RedirectIR = {
        statusCode,
        ...(r.scheme !== undefined ? { scheme: r.scheme } : {}),
        ...(r.hostname !== undefined ? { hostname: r.hostname } : {}),
        // Without a port the data plane derives it (scheme's well-known port, else the listener's).
        ...(r.port !== undefined ? { port: r.port } : {}),
        ...(path ? { path } : {}),
      };
      out.filters.push({ type: 'RequestRedirect', redirect });
      out.terminal = true;
      return undefined;
    }
    case 'URLRewrite': {
      const u = f.urlRewrite;
      if (!u) return `${at}: URLRewrite filter without its configuration`;
      const path = pathModifier(u.path, `${at}.urlRewrite.path`);
      if (typeof path === 'string') return path;
      const rewrite: URLRewriteIR = {
        ...(u.hostname !== undefined ? { hostname: u.hostname } : {}),
        ...(path ? { path } : {}),
      };
      out.filters.push({ type: 'URLRewrite', rewrite });
      return undefined;
    }
    case 'RequestMirror': {
      const m = f.requestMirror;
      if (!m) return `${at}: RequestMirror filter without its configuration`;
      const percent = mirrorPercent(m);
      if (percent === undefined)
        return `${at}.requestMirror: percent must be 0..100 and fraction numerator <= denominator`;
      const r = resolveRouteBackend(scope, m.backendRef, `${at}.requestMirror.backendRef`);
      if (!r.ok) {
        // The spec: an invalid mirror backendRef is not configured; the rule still serves.
        scope.issues.unresolved(r.error.reason, r.error.message);
        return undefined;
      }
      out.filters.push({ type: 'RequestMirror', mirror: { backend: r.backend, percent } });
      return undefined;
    }
    case 'CORS': {
      const c = f.cors;
      if (!c) return `${at}: CORS filter without its configuration`;
      const cors: CORSIR = {
        allowOrigins: [...(c.allowOrigins ?? [])],
        allowMethods: [...(c.allowMethods ?? [])],
        allowHeaders: [...(c.allowHeaders ?? [])],
        exposeHeaders: [...(c.exposeHeaders ?? [])],
        maxAge: c.maxAge ?? CORS_DEFAULT_MAX_AGE,
        allowCredentials: c.allowCredentials ?? false,
      };
      out.filters.push({ type: 'CORS', cors });
      return undefined;
    }
    case 'ExtensionRef': {
      if (!f.extensionRef) return `${at}: ExtensionRef filter without extensionRef`;
      const ext = extensionRefFilter(scope, f.extensionRef, `${at}.extensionRef`, routeKind);
      if (ext.unresolved) {
        out.unresolved ??= ext.unresolved;
        return undefined;
      }
      if (ext.invalid) return ext.invalid;
      out.filters.push(...ext.filters);
      if (ext.terminal) out.terminal = true;
      return undefined;
    }
    default:
      return `${at}.type: unsupported value ${f.type}`;
  }
}

function headerModifier(spec: HeaderModifierSpec): HeaderModifierIR {
  const m: HeaderModifierIR = {};
  if (spec.set?.length) m.set = spec.set.map((h) => ({ name: h.name, value: h.value }));
  if (spec.add?.length) m.add = spec.add.map((h) => ({ name: h.name, value: h.value }));
  if (spec.remove?.length) m.remove = [...spec.remove];
  return m;
}

type PathModifierIR = NonNullable<RedirectIR['path']>;

function pathModifier(p: PathModifierSpec | undefined, at: string): PathModifierIR | undefined | string {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: p.replaceFullPath ?? '' };
  if (p.type === 'ReplacePrefixMatch') return { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '' };
  return `${at}.type: unsupported value ${p.type}`;
}

/** percent, or 100·numerator/denominator (denominator defaults to 100); neither = 100. */
function mirrorPercent(m: NonNullable<FilterSpec['requestMirror']>): number | undefined {
  if (m.fraction) {
    const den = m.fraction.denominator ?? 100;
    if (den <= 0 || m.fraction.numerator < 0 || m.fraction.numerator > den) return undefined;
    return (100 * m.fraction.numerator) / den;
  }
  const p = m.percent ?? 100;
  return p >= 0 && p <= 100 ? p : undefined;
}

/** Combinations the spec (or one data plane pass) cannot honour. */
function incompatibility(filters: FilterIR[], field: string): string | undefined {
  const redirect = filters.some((f) => f.type === 'RequestRedirect');
  const rewrites = filters.filter((f) => f.type === 'URLRewrite');
  if (redirect && rewrites.length > 0) return `${field}: RequestRedirect and URLRewrite cannot be combined`;
  const paths = rewrites.filter((f) => f.type === 'URLRewrite' && f.rewrite.path).length;
  const hosts = rewrites.filter(
    (f) => f.type === 'URLRewrite' && (f.rewrite.hostname || f.rewrite.hostFromHeader || f.rewrite.hostFromBackend),
  ).length;
  if (paths > 1 || hosts > 1) return `${field}: more than one URL rewrite of the same part`;
  const terminal = filters.filter((f) => f.type === 'RequestRedirect' || f.type === 'DirectResponse').length;
  if (terminal > 1) return `${field}: more than one filter answers the request (redirect / direct response)`;
  return undefined;
}
