// Placeholder: implemented by the route-side translator work.
import type { GatewayContext, TranslationContext } from '../context.ts';

export function translateRoutes(_ctx: TranslationContext, _gateways: GatewayContext[]): void {}
