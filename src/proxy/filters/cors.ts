/**
 * CORS (Gateway API HTTPCORSFilter). Preflights (OPTIONS with Origin and
 * Access-Control-Request-Method) are answered by the gateway; other requests
 * with an allowed Origin get the CORS response headers on the way back.
 * The allowed origin is always echoed (never `*`), which is valid with and
 * without credentials. With credentials, wildcard methods/headers are
 * answered with what the browser asked for, since browsers ignore a literal
 * `*` then.
 */
import type { CORSIR } from '../../ir/types.ts';
import { addHeader, getHeader, setHeader } from '../http/headers.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { HttpFilter } from './filter.ts';

export class OriginMatcher {
  private readonly any: boolean;
  private readonly exact = new Set<string>();
  private readonly wildcards: Array<{ prefix: string; suffix: string }> = [];

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    for (const o of origins) {
      const lower = o.toLowerCase();
      const star = lower.indexOf('*');
      if (star === -1) this.exact.add(lower);
      else if (lower !== '*') this.wildcards.push({ prefix: lower.slice(0, star), suffix: lower.slice(star + 1) });
    }
  }

  matches(origin: string): boolean {
    if (this.any) return true;
    const o = origin.toLowerCase();
    if (this.exact.has(o)) return true;
    for (const w of this.wildcards) {
      if (o.length > w.prefix.length + w.suffix.length && o.startsWith(w.prefix) && o.endsWith(w.suffix)) {
        // The wildcard stands for host labels only: no scheme, path or port may hide in it.
        const middle = o.slice(w.prefix.length, o.length - w.suffix.length);
        if (/^[a-z0-9.-]+$/.test(middle)) return true;
      }
    }
    return false;
  }
}

export class CORSFilter implements HttpFilter {
  readonly type = 'CORS';
  private readonly origins: OriginMatcher;
  private readonly credentials: boolean;
  private readonly anyMethod: boolean;
  private readonly methods: string;
  private readonly anyHeader: boolean;
  private readonly allowHeaders: string;
  private readonly expose: string;
  private readonly maxAge: string | null;

  constructor(c: CORSIR) {
    this.origins = new OriginMatcher(c.allowOrigins);
    this.credentials = c.allowCredentials;
    this.anyMethod = c.allowMethods.includes('*');
    this.methods = c.allowMethods.join(', ');
    this.anyHeader = c.allowHeaders.includes('*');
    this.allowHeaders = c.allowHeaders.join(', ');
    this.expose = c.exposeHeaders.join(', ');
    this.maxAge = c.maxAge === undefined ? null : String(c.maxAge);
  }

  onRequest(ctx: RequestContext): boolean {
    if (ctx.method !== 'OPTIONS') return true;
    const origin = getHeader(ctx.rawHeaders, 'origin');
    const requestedMethod = getHeader(ctx.rawHeaders, 'access-control-request-method');
    if (origin === undefined || requestedMethod === undefined) return true;
    if (!this.origins.matches(origin)) {
      ctx.respond(403, ['vary', 'Origin'], null);
      return false;
    }
    const h: string[] = ['access-control-allow-origin', origin, 'vary', 'Origin'];
    if (this.credentials) h.push('access-control-allow-credentials', 'true');
    const methods = this.anyMethod ? (this.credentials ? requestedMethod : '*') : this.methods;
    if (methods !== '') h.push('access-control-allow-methods', methods);
    const requestedHeaders = getHeader(ctx.rawHeaders, 'access-control-request-headers');
    const headers = this.anyHeader ? (this.credentials ? (requestedHeaders ?? '') : '*') : this.allowHeaders;
    if (headers !== '') h.push('access-control-allow-headers', headers);
    if (this.expose !== '') h.push('access-control-expose-headers', this.expose);
    if (this.maxAge !== null) h.push('access-control-max-age', this.maxAge);
    ctx.respond(200, h, null);
    return false;
  }

  onResponse(ctx: RequestContext, headers: string[]): void {
    if (ctx.method === 'OPTIONS' && getHeader(ctx.rawHeaders, 'access-control-request-method') !== undefined) {
      return; // a preflight, answered in onRequest with its own headers
    }
    const origin = getHeader(ctx.rawHeaders, 'origin');
    if (origin === undefined || !this.origins.matches(origin)) return;
    setHeader(headers, 'access-control-allow-origin', 'access-control-allow-origin', origin);
    if (this.credentials) {
      setHeader(headers, 'access-control-allow-credentials', 'access-control-allow-credentials', 'true');
    }
    if (this.expose !== '') {
      setHeader(headers, 'access-control-expose-headers', 'access-control-expose-headers', this.expose);
    }
    addHeader(headers, 'vary', 'vary', 'Origin');
  }
}
