/**
 * Judges one HTTP response against an `http`-like check, exactly as
 * EXTRA-KINDS.md 1.3 spells out upstream's CompareRoundTrip: status (408
 * and 504 interchangeable), then for 200/204 the response headers, the
 * echoed request, backend and namespace, and for redirects the Location.
 * Pure: response in, verdict out.
 */
import type { HttpResult } from './http-client.ts';
import type { ExpectedRequestSpec, HttpCheck, RedirectSpec } from './types.ts';

/** What the echo reported (every field empty when the response is not an echo). */
export interface Echoed {
  path: string;
  host: string;
  method: string;
  headers: Record<string, string[]>;
  namespace: string;
  pod: string;
  httpPort: string;
  tls?: { serverName?: string; peerCertificates?: string[] };
}

export type TryVerdict = { ok: true; echo: Echoed } | { ok: false; reason: string; fatal?: boolean };

export interface JudgeContext {
  /** `scheme://address:port/target` as dialled: the base for a relative Location. */
  requestUrl: string;
  /** The listener port as the gateway really serves it (listenerPort + offset). */
  servedPort: number;
  /** expectedRequest.path after per-try substitutions. */
  expectedPath?: string;
  /** PEM of expectedRequest.clientCertificate (looked up by the caller). */
  clientCertificatePem?: string;
}

const EMPTY: Echoed = { path: '', host: '', method: '', headers: {}, namespace: '', pod: '', httpPort: '' };

export function headerValues(headers: readonly [string, string][], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** The allowed status codes; 408 and 504 stand for each other (upstream's rule). */
export function allowedStatuses(spec: number | number[] | undefined): number[] {
  const list = spec === undefined ? [200] : Array.isArray(spec) ? spec : [spec];
  return list.some((c) => c === 408 || c === 504) ? [...new Set([...list, 408, 504])] : list;
}

/** The echo body, read only when Content-Type is exactly application/json. */
export function parseEcho(res: HttpResult): Echoed | string {
  if (headerValues(res.headers, 'content-type')[0] !== 'application/json') return EMPTY;
  try {
    const j = JSON.parse(res.body) as Partial<Echoed>;
    return { ...EMPTY, ...j, headers: j.headers ?? {} };
  } catch (err) {
    return `echo body is not JSON: ${(err as Error).message}`;
  }
}

function fail(reason: string, fatal = false): TryVerdict {
  return fatal ? { ok: false, reason, fatal } : { ok: false, reason };
}

function squash(s: string, ignoreWhitespace: boolean | undefined): string {
  return ignoreWhitespace ? s.replaceAll(' ', '') : s;
}

function responseHeadersMismatch(check: HttpCheck, res: HttpResult): string | undefined {
  const spec = check.response ?? {};
  const ws = spec.ignoreWhitespace;
  for (const [name, want] of Object.entries(spec.headers ?? {})) {
    const got = headerValues(res.headers, name);
    if (!got.length) return `response header ${name} missing`;
    if (squash(got.join(','), ws) !== squash(want, ws))
      return `response header ${name}: want ${JSON.stringify(want)}, got ${JSON.stringify(got.join(','))}`;
  }
  for (const [name, options] of Object.entries(spec.validHeaderValues ?? {})) {
    const got = headerValues(res.headers, name);
    if (!got.length) return `response header ${name} missing`;
    const joined = squash(got.join(','), ws);
    if (!options.some((o) => squash(o, ws) === joined))
      return `response header ${name}: ${JSON.stringify(got.join(','))} is none of ${JSON.stringify(options)}`;
  }
  for (const name of spec.absentHeaders ?? []) {
    const got = headerValues(res.headers, name);
    if (got.length) return `response header ${name} must be absent, got ${JSON.stringify(got.join(','))}`;
  }
  if (spec.protocol !== undefined && res.protocol !== spec.protocol)
    return `response protocol: want ${spec.protocol}, got ${res.protocol}`;
  return undefined;
}

function echoedHeader(echo: Echoed, name: string): string[] | undefined {
  const lower = name.toLowerCase();
  const key = Object.keys(echo.headers).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : echo.headers[key];
}

function expectedRequestMismatch(
  want: ExpectedRequestSpec | undefined,
  echo: Echoed,
  ctx: JudgeContext,
): string | undefined {
  if (!want) return undefined;
  const path = ctx.expectedPath ?? want.path;
  if (path !== undefined && echo.path !== path)
    return `backend saw path ${JSON.stringify(echo.path)}, want ${JSON.stringify(path)}`;
  if (want.method !== undefined && echo.method !== want.method)
    return `backend saw method ${JSON.stringify(echo.method)}, want ${want.method}`;
  if (want.host !== undefined && echo.host !== want.host)
    return `backend saw host ${JSON.stringify(echo.host)}, want ${JSON.stringify(want.host)}`;
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = echoedHeader(echo, name);
    if (!got) return `backend did not see header ${name} (want ${JSON.stringify(value)})`;
    if (got.join(',') !== value)
      return `backend saw header ${name}: ${JSON.stringify(got.join(','))}, want ${JSON.stringify(value)}`;
  }
  for (const name of want.absentHeaders ?? []) {
    const got = echoedHeader(echo, name);
    if (got) return `backend saw header ${name}: ${JSON.stringify(got.join(','))}, want it absent`;
  }
  if (want.sni !== undefined && (echo.tls?.serverName ?? '') !== want.sni)
    return `backend saw TLS server name ${JSON.stringify(echo.tls?.serverName ?? '')}, want ${JSON.stringify(want.sni)}`;
  if (want.clientCertificate) {
    const pem = ctx.clientCertificatePem;
    if (pem === undefined) return `client certificate ${want.clientCertificate.name} not found`;
    if (!(echo.tls?.peerCertificates ?? []).includes(pem))
      return `backend did not see client certificate ${want.clientCertificate.namespace}/${want.clientCertificate.name}`;
  }
  if (want.httpPort !== undefined && echo.httpPort !== want.httpPort)
    return `backend httpPort ${JSON.stringify(echo.httpPort)}, want ${JSON.stringify(want.httpPort)}`;
  return undefined;
}

const REDIRECTS = new Set([300, 301, 302, 303, 304, 305, 307, 308]);

/** Scheme, host name and port as written in Location (Go's url.Port(): "" when absent, kept when default). */
export function locationParts(
  location: string,
  base: string,
): { scheme: string; host: string; port: string; path: string } {
  const resolved = new URL(location, base);
  const abs = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)/.exec(location);
  let port: string;
  let host: string;
  if (abs) {
    const authority = abs[2].replace(/^.*@/, '');
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
    host = (m?.[1] ?? authority).replace(/^\[|\]$/g, '');
    port = m?.[2] ?? '';
  } else {
    const b = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(base)![1];
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(b);
    host = (m?.[1] ?? b).replace(/^\[|\]$/g, '');
    port = m?.[2] ?? '';
  }
  let path = resolved.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // Go would have refused the Location; compare the raw path.
  }
  return { scheme: resolved.protocol.replace(/:$/, ''), host, port, path };
}

/** The allowed Location ports, with portFromListener mapped to the port the gateway really serves. */
export function allowedPorts(want: RedirectSpec, listenerPort: number, servedPort: number): string[] | undefined {
  if (want.port === undefined) return undefined;
  const list = Array.isArray(want.port) ? want.port : [want.port];
  if (!want.portFromListener || servedPort === listenerPort) return list;
  const defaultPort = (want.scheme ?? 'http') === 'https' ? 443 : 80;
  return list
    .map((p) => (p === String(listenerPort) ? String(servedPort) : p))
    .filter((p) => p !== '' || servedPort === defaultPort);
}

function redirectMismatch(check: HttpCheck, res: HttpResult, ctx: JudgeContext): string | undefined {
  const want = check.redirect!;
  const location = headerValues(res.headers, 'location')[0];
  if (location === undefined) return 'redirect without Location header';
  let got;
  try {
    got = locationParts(location, ctx.requestUrl);
  } catch {
    return `unparsable Location ${JSON.stringify(location)}`;
  }
  const where = `Location ${JSON.stringify(location)}`;
  if (want.scheme !== undefined && got.scheme !== want.scheme)
    return `${where}: scheme ${got.scheme}, want ${want.scheme}`;
  if (want.host !== undefined && got.host !== want.host) return `${where}: host ${got.host}, want ${want.host}`;
  const ports = allowedPorts(want, check.listenerPort, ctx.servedPort);
  if (ports && !ports.includes(got.port))
    return `${where}: port ${JSON.stringify(got.port)}, want one of ${JSON.stringify(ports)}`;
  if (want.path !== undefined && got.path !== want.path) return `${where}: path ${got.path}, want ${want.path}`;
  return undefined;
}

export function judgeHttpResult(check: HttpCheck, res: HttpResult, ctx: JudgeContext): TryVerdict {
  const spec = check.response ?? {};
  if (spec.expectFailure) {
    if (res.status === 200) return fail('got 200, the request must fail', true);
    if (res.status === 408 || res.status === 504) return fail(`got ${res.status} (not settled yet)`);
    return { ok: true, echo: EMPTY };
  }
  const allowed = allowedStatuses(spec.statusCode);
  if (!allowed.includes(res.status)) {
    const loc = headerValues(res.headers, 'location')[0];
    const extra =
      loc !== undefined ? ` (Location ${loc})` : res.body ? ` (body ${JSON.stringify(res.body.slice(0, 120))})` : '';
    return fail(`status ${res.status}, want ${allowed.join(' or ')}${extra}`);
  }
  if (res.status === 200 || res.status === 204) {
    const h = responseHeadersMismatch(check, res);
    if (h) return fail(h);
    const echo = parseEcho(res);
    if (typeof echo === 'string') return fail(echo);
    if (check.fromBackend === false) {
      if (headerValues(res.headers, 'content-type')[0] === 'application/json')
        return fail(`the response came from a backend (pod ${echo.pod || '?'}); the gateway must answer itself`);
      return { ok: true, echo };
    }
    const e = expectedRequestMismatch(check.expectedRequest, echo, ctx);
    if (e) return fail(e);
    if (check.backend && !echo.pod.startsWith(check.backend))
      return fail(`answered by pod ${JSON.stringify(echo.pod)}, want backend ${check.backend}`);
    if (check.namespace !== undefined && echo.namespace !== check.namespace)
      return fail(`answered from namespace ${JSON.stringify(echo.namespace)}, want ${check.namespace}`);
    return { ok: true, echo };
  }
  if (REDIRECTS.has(res.status) && check.redirect) {
    const r = redirectMismatch(check, res, ctx);
    if (r) return fail(r);
  }
  return { ok: true, echo: EMPTY };
}
