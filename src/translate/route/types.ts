/**
 * Shapes shared by the route translation steps: a route of any kind, the
 * per-route status decisions that do not depend on the parent, and the
 * per-kind payload that is copied into every listener the route attaches to.
 */
import type {
  BackendTLSPolicy,
  GRPCRoute,
  HTTPRoute,
  TCPRoute,
  TLSRoute,
  UDPRoute,
} from '../../api/generated/index.ts';
import type { HTTPRouteIR, WeightedBackendIR } from '../../ir/types.ts';
import type { BackendTLSPolicies } from '../backendtlspolicy/index.ts';
import type { EnvoyBackends } from '../backend/envoy-backend-tls.ts';
import type { RouteKind } from '../backend/index.ts';
import type { MatchPrecedence, RouteIdentity } from '../precedence.ts';

export type AnyRoute = HTTPRoute | GRPCRoute | TLSRoute | TCPRoute | UDPRoute;

export interface ParentRefSpec {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  sectionName?: string;
}

/** What route translation needs beyond the TranslationContext. */
export interface RouteEnv {
  tlsPolicies: BackendTLSPolicies;
  /** Envoy Gateway Backends: their TLS, and their status once used. */
  envoyBackends: EnvoyBackends;
}

/**
 * A status decision about the route as a whole: the same on every parent
 * entry (Envoy Gateway recomputes it per parentRef and gets the same result).
 */
export interface RouteIssue {
  reason: string;
  message: string;
}

export class RouteIssues {
  /** First ResolvedRefs failure decides the reason; every message is kept. */
  readonly resolvedRefs: RouteIssue[] = [];
  /** Rules that are invalid (Accepted=False when all are, PartiallyInvalid otherwise), by rule index. */
  readonly invalidRules = new Map<number, RouteIssue>();

  unresolved(reason: string, message: string): void {
    this.resolvedRefs.push({ reason, message });
  }

  invalidRule(ruleIndex: number, reason: string, message: string): void {
    if (!this.invalidRules.has(ruleIndex)) this.invalidRules.set(ruleIndex, { reason, message });
  }
}

/** An HTTPRouteIR before it is placed on a hostname, with what orders it. */
export interface HTTPEntryTemplate {
  ir: Omit<HTTPRouteIR, 'name' | 'hostname'>;
  precedence: MatchPrecedence;
  /** `httproute/<ns>/<name>/rule/<i>/match/<j>`; the hostname is appended per virtual host. */
  namePrefix: string;
}

/** One route, translated once, ready to be attached to listeners. */
export interface TranslatedRoute {
  route: AnyRoute;
  kind: RouteKind;
  identity: RouteIdentity;
  ruleCount: number;
  issues: RouteIssues;
  /** HTTPRoute / GRPCRoute entries. */
  http?: HTTPEntryTemplate[];
  /** TLSRoute / TCPRoute / UDPRoute backends (all rules). */
  l4?: WeightedBackendIR[];
  /** BackendTLSPolicies targeting a Service this route uses; they get the route's Gateways as ancestors. */
  tlsPolicies: Set<BackendTLSPolicy>;
}

/** Every rule of the route is invalid: the route is not accepted by any parent. */
export function allRulesInvalid(t: TranslatedRoute): boolean {
  return t.ruleCount > 0 && t.issues.invalidRules.size === t.ruleCount;
}
