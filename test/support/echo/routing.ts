/**
 * The router of the HTTP and TLS listeners (ECHO.md section 3), as Go's
 * ServeMux behind echo-basic's `//` → `/` rewrite: which handler a request
 * target reaches, and the 301s for unclean paths and `/status`, `/retry`.
 */

export type Route =
  | { kind: 'health' }
  | { kind: 'status' }
  | { kind: 'retry' }
  | { kind: 'ws' }
  | { kind: 'echo' }
  | { kind: 'redirect'; location: string }
  | { kind: 'bad-request' };

/** Go's path.Clean. */
export function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** net/http's cleanPath: rooted, cleaned, trailing slash kept. */
export function muxCleanPath(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = `/${p}`;
  let np = cleanPath(p);
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** The path and raw query of a request target (origin-form or absolute-form). */
export function splitTarget(target: string): { rawPath: string; rawQuery: string | undefined } {
  let rest = target;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(rest);
  if (abs) rest = rest.slice(abs[0].length) || '/';
  const q = rest.indexOf('?');
  return q === -1 ? { rawPath: rest, rawQuery: undefined } : { rawPath: rest.slice(0, q), rawQuery: rest.slice(q + 1) };
}

/** Go's path unescaping: %XX only (a `+` stays); undefined for a malformed escape. */
export function unescapePath(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Bytes that are not UTF-8: Go keeps them as bytes; latin1 keeps one char per byte.
    return raw.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

export function routeRequest(method: string, target: string): Route {
  const { rawPath, rawQuery } = splitTarget(target);
  const decoded = unescapePath(rawPath);
  if (decoded === undefined) return { kind: 'bad-request' };
  const path = decoded.replaceAll('//', '/');
  const withQuery = (p: string): string => (rawQuery !== undefined && rawQuery !== '' ? `${p}?${rawQuery}` : p);
  if (method !== 'CONNECT') {
    const clean = muxCleanPath(path);
    if (clean !== path) return { kind: 'redirect', location: withQuery(clean) };
  }
  if (path === '/health') return { kind: 'health' };
  if (path === '/ws') return { kind: 'ws' };
  if (path.startsWith('/status/')) return { kind: 'status' };
  if (path.startsWith('/retry/')) return { kind: 'retry' };
  if (path === '/status' || path === '/retry') return { kind: 'redirect', location: withQuery(`${path}/`) };
  return { kind: 'echo' };
}
