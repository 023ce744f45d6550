/**
 * RequestRedirect: answers with a Location built from the request. The port
 * rule (Gateway API): the filter's port if set; else, when it sets a scheme,
 * that scheme's default; else the port the request arrived on. A port that is
 * the default for the final scheme is left out.
 */
import type { PathMatchIR, RedirectIR } from '../../ir/types.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { HttpFilter } from './filter.ts';
import { compilePathModifier, type PathModifier } from './path-modifier.ts';

export class RequestRedirectFilter implements HttpFilter {
  readonly type = 'RequestRedirect';
  private readonly scheme: string | null;
  private readonly hostname: string | null;
  private readonly port: number | null;
  private readonly path: PathModifier | null;
  private readonly status: number;

  constructor(r: RedirectIR, routePath: PathMatchIR, where: string) {
    this.scheme = r.scheme?.toLowerCase() ?? null;
    this.hostname = r.hostname ?? null;
    this.port = r.port ?? null;
    this.path = r.path ? compilePathModifier(r.path, routePath, where) : null;
    this.status = r.statusCode;
  }

  onRequest(ctx: RequestContext): boolean {
    const scheme = this.scheme ?? ctx.listener.scheme;
    const port = this.port ?? (this.scheme !== null ? null : ctx.localPort);
    const portPart = port === null || port === defaultPort(scheme) ? '' : `:${port}`;
    const host = this.hostname ?? (ctx.host !== '' ? ctx.host : localHost(ctx));
    const path = this.path === null ? ctx.path : this.path(ctx.path);
    ctx.respond(this.status, ['location', `${scheme}://${host}${portPart}${path}${ctx.query}`], null);
    return false;
  }
}

/** Without a Host header (HTTP/1.0), the address the request arrived on. */
function localHost(ctx: RequestContext): string {
  const a = ctx.socket.localAddress ?? '';
  return a.includes(':') ? `[${a}]` : a;
}

function defaultPort(scheme: string): number {
  return scheme === 'https' ? 443 : scheme === 'http' ? 80 : -1;
}
