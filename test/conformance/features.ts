/**
 * The upstream conformance features Sluice claims, and the skip rules of
 * TRANSPORT-KINDS.md 2 that depend on them. Provisional features are
 * claimed too: the runner behaves like upstream with provisional tests on.
 */
import type { CaseFile } from './case-types.ts';

export const SUPPORTED_FEATURES: ReadonlySet<string> = new Set([
  // Core
  'Gateway',
  'HTTPRoute',
  'ReferenceGrant',
  // Gateway extended
  'GatewayPort8080',
  'GatewayStaticAddresses',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback',
  'GatewayBackendClientCertificate',
  'GatewayAddressEmpty',
  'ListenerSet',
  // HTTPRoute extended
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendRequestRedirect',
  'HTTPRouteBackendURLRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteSchemeRedirect',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteBackendTimeout',
  'HTTPRouteParentRefPort',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteRetry',
  'HTTPRouteRetryConnectionError',
  'HTTPRouteRetryBackendTimeout',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteCORS',
  // Other route kinds and policies
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'GRPCRouteRequestHeaderModifier',
  'TLSRoute',
  'TLSRouteModeTerminate',
  'TLSRouteModeMixed',
  'TCPRoute',
  'UDPRoute',
  'BackendTLSPolicy',
  // Deliberately absent: GatewayInfrastructurePropagation (Sluice creates no per-Gateway Kubernetes objects).
]);

/** The case's features that Sluice does not claim (the case is skipped when any; see run-case.ts for --status-only). */
export function unclaimedFeatures(c: CaseFile, claimed: ReadonlySet<string> = SUPPORTED_FEATURES): string[] {
  return c.features.filter((f) => !claimed.has(f));
}

/** Why upstream would return early without checking anything (skipIfFeatures / skipUnlessFeatures), or undefined. */
export function earlyReturnReason(c: CaseFile, claimed: ReadonlySet<string> = SUPPORTED_FEATURES): string | undefined {
  const claimedSkip = (c.skipIfFeatures ?? []).filter((f) => claimed.has(f));
  if (claimedSkip.length)
    return `skipIfFeatures: Sluice claims ${claimedSkip.join(', ')} (upstream passes without checks)`;
  const unclaimed = (c.skipUnlessFeatures ?? []).filter((f) => !claimed.has(f));
  if (unclaimed.length)
    return `skipUnlessFeatures: Sluice does not claim ${unclaimed.join(', ')} (upstream passes without checks)`;
  return undefined;
}

/** Why a case does not run, or undefined when it runs. */
export function skipReason(c: CaseFile, claimed: ReadonlySet<string> = SUPPORTED_FEATURES): string | undefined {
  const missing = unclaimedFeatures(c, claimed);
  if (missing.length) return `unsupported feature ${missing.join(', ')}`;
  // Upstream returns early (and passes) in these two situations; nothing is checked, so report a skip.
  return earlyReturnReason(c, claimed);
}
