// Placeholder: implemented by the gateway-side translator work.
import type { GatewayClass } from '../api/generated/index.ts';
import type { GatewayContext, TranslationContext } from './context.ts';

export function translateGateways(_ctx: TranslationContext, _classes: Map<string, GatewayClass>): GatewayContext[] {
  return [];
}

export function finalizeGateways(_ctx: TranslationContext, _gateways: GatewayContext[]): void {}
