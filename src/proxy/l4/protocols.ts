/** Listener protocols served by src/proxy/l4/ rather than the HTTP listeners. */
import type { ListenerProtocol } from '../../ir/types.ts';

export function isL4Protocol(p: ListenerProtocol): boolean {
  return p === 'TLS' || p === 'TCP' || p === 'UDP';
}
