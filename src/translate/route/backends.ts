/**
 * Route-level backend handling: a backendRef resolved (src/translate/backend)
 * and given its BackendTLSPolicy; weighted backend lists with the spec's
 * failure rules (an invalid ref keeps its weight and its share answers 500;
 * weight 0 is excluded); every failure recorded as ResolvedRefs=False.
 */
import type { BackendTLSPolicy } from '../../api/generated/index.ts';
import type { BackendIR, FilterIR, WeightedBackendIR } from '../../ir/types.ts';
import {
  defaultProtocol,
  resolveBackendRef,
  type BackendReferrer,
  type BackendRefError,
  type BackendRefSpec,
} from '../backend/index.ts';
import { pickServicePort } from '../backend/service.ts';
import type { TranslationContext } from '../context.ts';
import type { RouteEnv, RouteIssue, RouteIssues } from './types.ts';

/** Everything backend handling of one route needs and writes to. */
export interface RouteScope {
  ctx: TranslationContext;
  env: RouteEnv;
  referrer: BackendReferrer;
  issues: RouteIssues;
  tlsPolicies: Set<BackendTLSPolicy>;
}

export type RouteBackendResult = { ok: true; backend: BackendIR } | { ok: false; error: BackendRefError };

/**
 * Resolves `ref` and adds TLS towards it: an Envoy Gateway Backend's own
 * `spec.tls`, or the BackendTLSPolicy of a Service port.
 */
export function resolveRouteBackend(scope: RouteScope, ref: BackendRefSpec, field: string): RouteBackendResult {
  const r = resolveBackendRef(scope.ctx, ref, scope.referrer, field);
  if (!r.ok) return r;
  const backend = r.backend;
  if (backend.ref.kind === 'Backend') return withEnvoyBackendTLS(scope, backend, field);
  if (backend.ref.kind !== 'Service' || backend.ref.port === undefined) return r;
  const svc = scope.ctx.service(backend.ref.namespace, backend.ref.name);
  const portName = svc ? pickServicePort(svc, backend.ref.port, scope.referrer.kind)?.name : undefined;
  const lookup = scope.env.tlsPolicies.lookup(backend.ref.namespace, backend.ref.name, portName);
  for (const p of lookup.targeting) scope.tlsPolicies.add(p);
  if (lookup.error) {
    // Envoy Gateway's reason: the ref resolves, but TLS towards it cannot be set up.
    return { ok: false, error: { reason: 'InvalidBackendTLS', message: `${field}: ${lookup.error}` } };
  }
  if (lookup.tls) backend.tls = lookup.tls;
  return { ok: true, backend };
}

function withEnvoyBackendTLS(scope: RouteScope, backend: BackendIR, field: string): RouteBackendResult {
  const object = scope.ctx.backend(backend.ref.namespace, backend.ref.name);
  if (!object) return { ok: true, backend };
  const c = scope.env.envoyBackends.check(object);
  if (c.error !== undefined) {
    // Envoy Gateway's reason: the Backend exists but is not accepted.
    const message = `${field}: Backend ${backend.ref.namespace}/${backend.ref.name} is not accepted: ${c.error}`;
    return { ok: false, error: { reason: 'InvalidBackendRef', message } };
  }
  if (c.tls) backend.tls = structuredClone(c.tls);
  return { ok: true, backend };
}

/** A stand-in for a ref that did not resolve: it keeps its name and weight so its share can answer 500. */
export function invalidBackend(ref: BackendRefSpec, referrer: BackendReferrer): BackendIR {
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? referrer.namespace;
  const port = ref.port !== undefined ? `:${ref.port}` : '';
  return {
    name: `${kind}/${namespace}/${ref.name}${port}`,
    ref: { kind, namespace, name: ref.name, ...(ref.port !== undefined ? { port: ref.port } : {}) },
    protocol: defaultProtocol(referrer.kind),
    endpoints: [],
  };
}

export interface WeightedRef extends BackendRefSpec {
  weight?: number;
}

/** Per-backendRef filters, translated by the caller (HTTPRoute/GRPCRoute only). */
export type BackendFilters<R> = (ref: R, field: string) => { filters: FilterIR[]; issue?: RouteIssue };

/**
 * The weighted backends of one rule. Invalid refs stay in the list (marked
 * `invalid`, weight kept) so their share of requests fails as the spec
 * demands; refs with weight 0 carry no traffic and are left out.
 */
export function weightedBackends<R extends WeightedRef>(
  scope: RouteScope,
  refs: R[] | undefined,
  field: string,
  backendFilters?: BackendFilters<R>,
): WeightedBackendIR[] {
  const out: WeightedBackendIR[] = [];
  for (const [i, ref] of (refs ?? []).entries()) {
    const at = `${field}.backendRefs[${i}]`;
    const weight = ref.weight ?? 1;
    const r = resolveRouteBackend(scope, ref, at);
    if (!r.ok) scope.issues.unresolved(r.error.reason, r.error.message);
    if (weight === 0) continue;
    if (!r.ok) {
      out.push({ ...invalidBackend(ref, scope.referrer), weight, filters: [], invalid: true });
      continue;
    }
    const f = backendFilters?.(ref, at);
    if (f?.issue) {
      scope.issues.unresolved(f.issue.reason, f.issue.message);
      out.push({ ...r.backend, weight, filters: [], invalid: true });
      continue;
    }
    out.push({ ...r.backend, weight, filters: f?.filters ?? [] });
  }
  return out;
}

/** True when no request of the rule can reach a backend (none given, all invalid, or all weight 0). */
export function noUsableBackend(backends: WeightedBackendIR[]): boolean {
  return !backends.some((b) => !b.invalid && b.weight > 0);
}
