/**
 * What one ClientTrafficPolicy does to a listener's IR, computed once per
 * policy and applied to every listener it wins:
 * - `proxyProtocol` (newer, takes precedence) or `enableProxyProtocol`:
 *   clients must send a PROXY header (not on UDP listeners);
 * - `tls`: parameters and client validation, on listeners that terminate
 *   TLS (HTTPS, TLS Terminate). A policy's client validation replaces the
 *   Gateway's `spec.tls.frontend` validation on the listeners it wins.
 * When the TLS part cannot be built (an unusable CA reference) a listener
 * that terminates TLS fails closed, as in Envoy Gateway: HTTP routes answer
 * 500 and L4 routes are dropped, rather than serve clients the policy meant
 * to authenticate.
 * Other fields are not in the IR yet; they never fail a policy.
 */
import type { ClientTrafficPolicy } from '../../api/generated/index.ts';
import type { ClientValidationIR, ListenerIR, TLSSettingsIR } from '../../ir/types.ts';
import type { TranslationContext } from '../context.ts';
import { clientValidation, tlsSettings } from './tls.ts';

export interface ListenerEffect {
  proxyProtocol?: { optional: boolean };
  settings?: TLSSettingsIR;
  clientValidation?: ClientValidationIR;
  /** The TLS part is unusable: TLS-terminating listeners fail closed. */
  tlsError?: string;
}

export function listenerEffect(ctx: TranslationContext, policy: ClientTrafficPolicy): ListenerEffect {
  const spec = policy.spec;
  const effect: ListenerEffect = {};
  if (spec.proxyProtocol) effect.proxyProtocol = { optional: spec.proxyProtocol.optional === true };
  else if (spec.enableProxyProtocol === true) effect.proxyProtocol = { optional: false };
  const settings = tlsSettings(spec.tls);
  if (settings) effect.settings = settings;
  const v = clientValidation(ctx, policy, spec.tls?.clientValidation);
  if ('error' in v) effect.tlsError = `TLS: ${v.error}`;
  else if (v.validation) effect.clientValidation = v.validation;
  return effect;
}

/** Applies the effect to one listener; returns the error that made it fail closed, if any. */
export function applyListenerEffect(ir: ListenerIR, effect: ListenerEffect): string | undefined {
  if (effect.proxyProtocol && ir.protocol !== 'UDP') {
    ir.enableProxyProtocol = true;
    if (effect.proxyProtocol.optional) ir.proxyProtocolOptional = true;
  }
  const tls = ir.tls;
  if (!tls || tls.mode !== 'Terminate') return undefined;
  if (effect.tlsError !== undefined) {
    failClosed(ir);
    return effect.tlsError;
  }
  if (effect.settings) tls.settings = structuredClone(effect.settings);
  if (effect.clientValidation) tls.clientValidation = structuredClone(effect.clientValidation);
  return undefined;
}

function failClosed(ir: ListenerIR): void {
  for (const vh of ir.virtualHosts ?? []) {
    for (const r of vh.routes) {
      r.filters = [];
      r.backends = [];
      r.directResponse = { statusCode: 500 };
    }
  }
  if (ir.tlsRoutes) ir.tlsRoutes = [];
  if (ir.tcpRoutes) ir.tcpRoutes = [];
  if (ir.udpRoutes) ir.udpRoutes = [];
}
