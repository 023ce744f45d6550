// Placeholder: implemented by the gateway-side translator work.
import type { GatewayClass } from '../api/generated/index.ts';
import type { TranslationContext } from './context.ts';

/** Returns the accepted GatewayClasses this controller owns, by name. */
export function translateGatewayClasses(_ctx: TranslationContext): Map<string, GatewayClass> {
  return new Map();
}
