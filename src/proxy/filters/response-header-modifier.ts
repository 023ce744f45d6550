/** ResponseHeaderModifier: set/add/remove headers of the response sent to the client. */
import type { HeaderModifierIR } from '../../ir/types.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { HttpFilter } from './filter.ts';
import { HeaderEdits } from './header-edits.ts';

export class ResponseHeaderModifierFilter implements HttpFilter {
  readonly type = 'ResponseHeaderModifier';
  private readonly edits: HeaderEdits;

  constructor(m: HeaderModifierIR) {
    this.edits = new HeaderEdits(m);
  }

  onResponse(_ctx: RequestContext, headers: string[]): void {
    this.edits.apply(headers);
  }
}
