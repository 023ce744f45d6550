/**
 * What happens once a route entry is chosen, in the data plane's order
 * (http/handle-request.ts `run`): the request filters in IR order until one
 * answers (redirect, direct response, CORS preflight), the entry's own
 * direct response, then a backend picked by weight and its filters. Filter
 * phases come from the data plane's filter compiler; redirect and rewrite
 * paths from its path modifier.
 */
import type { BackendIR, FilterIR, HTTPRouteIR, WeightedBackendIR } from '../ir/types.ts';
import { OriginMatcher } from '../proxy/filters/cors.ts';
import { compileFilters } from '../proxy/filters/index.ts';
import { compilePathModifier } from '../proxy/filters/path-modifier.ts';
import { getHeader } from '../proxy/http/headers.ts';
import { CompiledBackend } from '../proxy/upstream/backend.ts';
import { flatHeaders, type CompiledRoute } from './dataplane.ts';
import type { BackendExplanation, ExplainRequest, FilterStep, Outcome, TrafficSettings } from './types.ts';

export interface Actions {
  filters: FilterStep[];
  backends: BackendExplanation[];
  upstream?: { host: string; path: string };
  traffic?: TrafficSettings;
  outcome: Outcome;
}

/** `invalidReason(b)`: why backend `b` of the entry is invalid, from the route's status. */
export function explainActions(
  r: HTTPRouteIR,
  compiled: CompiledRoute,
  req: ExplainRequest,
  where: string,
  errors: readonly string[],
  invalidReason: (backend: WeightedBackendIR) => string,
): Actions {
  const filters = r.filters.map((f) => filterStep(f, r, where, 'route'));
  const backends = explainBackends(r, where, invalidReason);
  const traffic = trafficOf(r);
  const upstream = { host: req.authority, path: req.path + req.query };
  const done = (outcome: Outcome): Actions => ({
    filters,
    backends,
    ...(outcome.kind === 'proxied' ? { upstream } : {}),
    ...(traffic ? { traffic } : {}),
    outcome,
  });

  const broken = errors.filter((e) => e.startsWith(`${where}`) && e.endsWith('the route entry answers 500'));
  if (broken.length > 0) return done({ kind: 'error', status: 500, summary: `500: ${broken.join('; ')}` });

  for (const [i, f] of r.filters.entries()) {
    if (!filters[i].phases.includes('request')) continue;
    const answer = requestPhase(f, r, req, where, upstream);
    if (answer !== undefined) return done(answer);
  }
  if (compiled.directResponse !== null) {
    const d = compiled.directResponse;
    const body = d.body?.toString();
    // The translator turns a rule with no usable backendRef into a 500 (none given, all invalid, all weight 0).
    const unusable = d.status === 500 && !r.backends.some((b) => b.invalid !== true && b.weight > 0);
    return done({
      kind: 'direct-response',
      status: d.status,
      summary: unusable
        ? '500: no backendRef of the rule can be used (none given, all invalid, or all weight 0)'
        : `${d.status} from the route entry itself`,
      ...(body !== undefined ? { body } : {}),
    });
  }
  const total = r.backends.reduce((s, b) => s + Math.max(0, b.weight), 0);
  if (total === 0) return done({ kind: 'error', status: 500, summary: '500: no backendRef with a weight above 0' });
  const live = backends.filter((b) => b.weight > 0);
  const invalidShare = live.filter((b) => b.invalid !== undefined).reduce((s, b) => s + b.percent, 0);
  const pick = live.length === 1 ? `proxied to ${live[0].name}` : `proxied to one of ${live.length} backends by weight`;
  const partial = invalidShare > 0 ? `; ${round(invalidShare)}% of requests get 500 (invalid backendRef)` : '';
  return done({ kind: 'proxied', summary: pick + partial });
}

/** The answer of a filter that ends the request phase, or undefined when the chain goes on (URLRewrite updates `upstream`). */
function requestPhase(
  f: FilterIR,
  r: HTTPRouteIR,
  req: ExplainRequest,
  where: string,
  upstream: { host: string; path: string },
): Outcome | undefined {
  switch (f.type) {
    case 'RequestRedirect': {
      const rd = f.redirect;
      // The port rule of filters/request-redirect.ts: the filter's port; none when it sets a scheme; else the request's.
      const scheme = rd.scheme?.toLowerCase() ?? req.scheme;
      const port = rd.port ?? (rd.scheme !== undefined ? null : req.port);
      const portPart = port === null || port === defaultPort(scheme) ? '' : `:${port}`;
      const path = rd.path ? compilePathModifier(rd.path, r.path, where)(req.path) : req.path;
      const location = `${scheme}://${rd.hostname ?? req.host}${portPart}${path}${req.query}`;
      return { kind: 'redirect', status: rd.statusCode, summary: `${rd.statusCode} redirect to ${location}`, location };
    }
    case 'DirectResponse': {
      const d = f.response;
      return {
        kind: 'direct-response',
        status: d.statusCode,
        summary: `${d.statusCode} from the DirectResponse filter`,
        ...(d.body !== undefined ? { body: d.body } : {}),
      };
    }
    case 'CORS': {
      const headers = flatHeaders(req);
      const origin = getHeader(headers, 'origin');
      if (req.method !== 'OPTIONS' || origin === undefined) return undefined;
      if (getHeader(headers, 'access-control-request-method') === undefined) return undefined;
      const allowed = new OriginMatcher(f.cors.allowOrigins).matches(origin);
      return allowed
        ? { kind: 'cors-preflight', status: 200, summary: `200: CORS preflight from allowed origin ${origin}` }
        : { kind: 'cors-preflight', status: 403, summary: `403: CORS preflight from origin ${origin}, not allowed` };
    }
    case 'URLRewrite': {
      const rw = f.rewrite;
      if (rw.hostname !== undefined) upstream.host = rw.hostname;
      else if (rw.hostFromHeader !== undefined) {
        const v = getHeader(flatHeaders(req), rw.hostFromHeader.toLowerCase());
        if (v !== undefined && v !== '') upstream.host = v;
      }
      if (rw.hostFromBackend === true) upstream.host = "(the picked endpoint's host)";
      if (rw.path !== undefined) upstream.path = compilePathModifier(rw.path, r.path, where)(req.path) + req.query;
      return undefined;
    }
    default:
      return undefined;
  }
}

function explainBackends(
  r: HTTPRouteIR,
  where: string,
  invalidReason: (backend: WeightedBackendIR) => string,
): BackendExplanation[] {
  const total = r.backends.reduce((s, b) => s + Math.max(0, b.weight), 0);
  return r.backends.map((b, i) => {
    const notes: string[] = [];
    if (b.invalid !== true && b.endpoints.length === 0) notes.push('no endpoints: requests picked for it get 503');
    if (b.tls !== undefined) notes.push(`TLS to the backend (SNI ${b.tls.sni})`);
    const out: BackendExplanation = {
      name: b.name,
      ref: { ...b.ref },
      weight: b.weight,
      percent: total === 0 ? 0 : round((Math.max(0, b.weight) / total) * 100),
      protocol: b.protocol,
      endpoints: b.endpoints.map(endpointText),
      notes,
      filters: b.filters.map((f) => ({
        ...filterStep(f, r, `${where}: backendRefs[${i}]`, 'backend'),
        backend: b.name,
      })),
    };
    if (b.invalid === true) out.invalid = invalidReason(b);
    return out;
  });
}

function endpointText(e: WeightedBackendIR['endpoints'][number]): string {
  if (e.kind === 'unix') return `unix:${e.address}`;
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** The phases come from compiling the one filter with the data plane's filter compiler. */
function filterStep(f: FilterIR, r: HTTPRouteIR, where: string, scope: FilterStep['scope']): FilterStep {
  const phases: FilterStep['phases'] = [];
  try {
    const chain = compileFilters([f], {
      routePath: r.path,
      where,
      mirrorBackend: (b: BackendIR) => new CompiledBackend(b.name, [], false, [], []),
    });
    if (chain.request.length > 0) phases.push('request');
    if (chain.response.length > 0) phases.push('response');
  } catch {
    // Left without phases: the data plane could not build it either (the entry answers 500).
  }
  return { type: f.type, phases, summary: filterSummary(f), scope };
}

export function filterSummary(f: FilterIR): string {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const m = f.modifier;
      const parts = [
        ...(m.set ?? []).map((h) => `set ${h.name}: ${h.value}`),
        ...(m.add ?? []).map((h) => `add ${h.name}: ${h.value}`),
        ...(m.remove ?? []).map((n) => `remove ${n}`),
      ];
      return parts.join(', ') || 'no changes';
    }
    case 'RequestRedirect': {
      const rd = f.redirect;
      const parts = [
        rd.scheme !== undefined ? `scheme ${rd.scheme}` : '',
        rd.hostname !== undefined ? `hostname ${rd.hostname}` : '',
        rd.port !== undefined ? `port ${rd.port}` : '',
        rd.path !== undefined ? `path ${rd.path.type} ${rd.path.value}` : '',
        `status ${rd.statusCode}`,
      ];
      return parts.filter((p) => p !== '').join(', ');
    }
    case 'URLRewrite': {
      const rw = f.rewrite;
      const path = rw.path;
      const parts = [
        rw.hostname !== undefined ? `hostname ${rw.hostname}` : '',
        rw.hostFromHeader !== undefined ? `host from header ${rw.hostFromHeader}` : '',
        rw.hostFromBackend === true ? 'host from the backend endpoint' : '',
        path === undefined
          ? ''
          : path.type === 'RegexReplace'
            ? `path RegexReplace ${JSON.stringify(path.pattern)} → ${JSON.stringify(path.substitution)}`
            : `path ${path.type} ${path.value}`,
      ];
      return parts.filter((p) => p !== '').join(', ');
    }
    case 'RequestMirror':
      return `mirror ${f.mirror.percent}% to ${f.mirror.backend.name}`;
    case 'CORS': {
      const c = f.cors;
      const parts = [`origins ${c.allowOrigins.join(' ') || '(none)'}`];
      if (c.allowMethods.length) parts.push(`methods ${c.allowMethods.join(' ')}`);
      if (c.allowHeaders.length) parts.push(`headers ${c.allowHeaders.join(' ')}`);
      if (c.allowCredentials) parts.push('credentials');
      return parts.join(', ');
    }
    case 'DirectResponse': {
      const d = f.response;
      return d.body === undefined
        ? `status ${d.statusCode}`
        : `status ${d.statusCode}, ${d.body.length}-character body`;
    }
  }
}

function trafficOf(r: HTTPRouteIR): TrafficSettings | undefined {
  const t: TrafficSettings = {};
  if (r.timeouts?.requestMs !== undefined) t.requestTimeoutMs = r.timeouts.requestMs;
  if (r.timeouts?.backendRequestMs !== undefined) t.backendRequestTimeoutMs = r.timeouts.backendRequestMs;
  if (r.retry !== undefined) {
    t.retry = {
      attempts: r.retry.attempts,
      codes: [...r.retry.codes],
      ...(r.retry.backoffMs !== undefined ? { backoffMs: r.retry.backoffMs } : {}),
    };
  }
  if (r.sessionPersistence !== undefined) t.sessionPersistence = r.sessionPersistence;
  return Object.keys(t).length === 0 ? undefined : t;
}

function defaultPort(scheme: string): number {
  return scheme === 'https' ? 443 : scheme === 'http' ? 80 : -1;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
