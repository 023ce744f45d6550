/**
 * The filter contract (Envoy's model): a request phase that continues or
 * answers locally, and a response phase that edits the response headers.
 * Chains are built per route at compile time, so a request only runs the
 * filters its route has. Both phases are synchronous; a filter that must
 * wait on I/O (ext auth, global rate limit) will add a suspend result here.
 */
import type { RequestContext } from '../http/request-context.ts';

export interface HttpFilter {
  readonly type: string;
  /**
   * Request phase, in IR order. Returns false when the filter has answered
   * the request itself (redirect, direct response, CORS preflight); the
   * chain stops there.
   */
  onRequest?(ctx: RequestContext): boolean;
  /** Response phase: edit `headers` (`[name, value, ...]`) before they are written downstream. */
  onResponse?(ctx: RequestContext, headers: string[]): void;
}
