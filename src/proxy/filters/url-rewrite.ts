/**
 * URLRewrite: the Host and/or path the backend sees. The query is kept.
 * Envoy Gateway's extensions: the host from a request header, or the host of
 * the backend endpoint picked (applied at dispatch, once it is known).
 */
import type { PathMatchIR, URLRewriteIR } from '../../ir/types.ts';
import { getHeader } from '../http/headers.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { HttpFilter } from './filter.ts';
import { compilePathModifier, type PathModifier } from './path-modifier.ts';

export class URLRewriteFilter implements HttpFilter {
  readonly type = 'URLRewrite';
  private readonly hostname: string | null;
  private readonly hostHeader: string | null;
  private readonly hostFromBackend: boolean;
  private readonly path: PathModifier | null;

  constructor(r: URLRewriteIR, routePath: PathMatchIR, where: string) {
    this.hostname = r.hostname ?? null;
    this.hostHeader = r.hostFromHeader?.toLowerCase() ?? null;
    this.hostFromBackend = r.hostFromBackend === true;
    this.path = r.path ? compilePathModifier(r.path, routePath, where) : null;
  }

  onRequest(ctx: RequestContext): boolean {
    if (this.hostname !== null) {
      ctx.headers[1] = this.hostname;
    } else if (this.hostHeader !== null) {
      const v = getHeader(ctx.rawHeaders, this.hostHeader);
      if (v !== undefined && v !== '') ctx.headers[1] = v;
    }
    if (this.hostFromBackend) ctx.hostFromBackend = true;
    if (this.path !== null) ctx.upstreamUrl = this.path(ctx.path) + ctx.query;
    return true;
  }
}
