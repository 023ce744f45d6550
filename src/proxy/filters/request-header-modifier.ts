/** RequestHeaderModifier: set/add/remove headers of the request sent upstream. */
import type { HeaderModifierIR } from '../../ir/types.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { HttpFilter } from './filter.ts';
import { HeaderEdits } from './header-edits.ts';

const HOST = new Set(['host']);

export class RequestHeaderModifierFilter implements HttpFilter {
  readonly type = 'RequestHeaderModifier';
  private readonly edits: HeaderEdits;
  /** `set: host` rewrites the Host the backend sees; Host cannot be added or removed. */
  private readonly host: string | null;

  constructor(m: HeaderModifierIR) {
    this.edits = new HeaderEdits(m, HOST);
    this.host = m.set?.find((s) => s.name.toLowerCase() === 'host')?.value ?? null;
  }

  onRequest(ctx: RequestContext): boolean {
    this.edits.apply(ctx.headers);
    if (this.host !== null) ctx.headers[1] = this.host;
    return true;
  }
}
