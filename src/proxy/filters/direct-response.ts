/** DirectResponse: the gateway answers with a fixed status and body. */
import type { DirectResponseIR } from '../../ir/types.ts';
import type { LocalResponse } from '../compile/compiled-route.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { HttpFilter } from './filter.ts';

export function compileLocalResponse(r: DirectResponseIR): LocalResponse {
  if (r.body === undefined || r.body === '') return { status: r.statusCode, headers: [], body: null };
  return {
    status: r.statusCode,
    headers: ['content-type', r.contentType ?? 'text/plain'],
    body: Buffer.from(r.body),
  };
}

export class DirectResponseFilter implements HttpFilter {
  readonly type = 'DirectResponse';
  private readonly response: LocalResponse;

  constructor(r: DirectResponseIR) {
    this.response = compileLocalResponse(r);
  }

  onRequest(ctx: RequestContext): boolean {
    ctx.respondLocal(this.response);
    return false;
  }
}
