/**
 * BackendTLSPolicy (gateway.networking.k8s.io/v1): how the gateway speaks
 * TLS to a Service.
 *
 * Each policy is validated once (CA references, well-known CAs), conflicts
 * are settled per target (Service, or Service port by `sectionName`: the
 * oldest policy wins, then the first by name; a port-specific policy is more
 * specific than a whole-Service one and does not conflict with it), and
 * route translation asks for the policy of each Service backend it resolves.
 * Status is written per ancestor: every Gateway with an attached route that
 * uses a targeted Service.
 */
import type { BackendTLSPolicy, Gateway } from '../../api/generated/index.ts';
import type { BackendTLSIR } from '../../ir/types.ts';
import { carryTransitionTimes, setCondition, type Condition, type ConditionStatus } from '../conditions.ts';
import { GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { compareRouteAge } from '../precedence.ts';
import { resolveCARef } from './ca-bundle.ts';

interface ConditionSpec {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** A policy as validated once, independent of where it is used. */
interface ValidatedPolicy {
  policy: BackendTLSPolicy;
  accepted: ConditionSpec;
  resolvedRefs: ConditionSpec;
  /** Undefined when the policy cannot be honoured: connections through it must fail. */
  tls?: BackendTLSIR;
  /** It lost a conflict on at least one target. */
  conflicted: boolean;
  /** Gateways (ns/name) whose routes use a Service it targets, in first-use order. */
  ancestors: Map<string, Gateway>;
}

/** What a Service backend gets from the policies that target it. */
export interface BackendTLSLookup {
  /** TLS to originate; undefined when no policy applies. */
  tls?: BackendTLSIR;
  /** A policy applies but is invalid: the backend must not be reached. */
  error?: string;
  /** Every policy targeting the Service (port), to record ancestors once the route attaches. */
  targeting: BackendTLSPolicy[];
}

const POLICY_KIND = 'BackendTLSPolicy';

function policyKey(p: BackendTLSPolicy): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name}`;
}

function targetKey(namespace: string, service: string, section: string | undefined): string {
  return `${namespace}/${service}#${section ?? ''}`;
}

export class BackendTLSPolicies {
  readonly #ctx: TranslationContext;
  readonly #validated = new Map<string, ValidatedPolicy>();
  /** Target key → candidate policies, winner first. */
  readonly #byTarget = new Map<string, ValidatedPolicy[]>();

  constructor(ctx: TranslationContext) {
    this.#ctx = ctx;
    for (const policy of ctx.snapshot.backendTLSPolicies) {
      const v = validate(ctx, policy);
      this.#validated.set(policyKey(policy), v);
      const seen = new Set<string>();
      for (const t of policy.spec?.targetRefs ?? []) {
        // Only Services are supported targets; other kinds never match a backend.
        if ((t.group ?? '') !== '' || t.kind !== 'Service') continue;
        const key = targetKey(policy.metadata.namespace ?? '', t.name, t.sectionName || undefined);
        if (seen.has(key)) continue;
        seen.add(key);
        const list = this.#byTarget.get(key);
        if (list) list.push(v);
        else this.#byTarget.set(key, [v]);
      }
    }
    // Conflict resolution is decided here, once per target, for every policy.
    for (const list of this.#byTarget.values()) {
      list.sort((a, b) =>
        compareRouteAge(
          { namespace: '', name: a.policy.metadata.name, creationTimestamp: a.policy.metadata.creationTimestamp },
          { namespace: '', name: b.policy.metadata.name, creationTimestamp: b.policy.metadata.creationTimestamp },
        ),
      );
      for (const loser of list.slice(1)) loser.conflicted = true;
    }
  }

  /**
   * The policy for a Service port: a policy naming the port (`sectionName`
   * is the Service port name) beats one naming the whole Service.
   */
  lookup(namespace: string, service: string, portName: string | undefined): BackendTLSLookup {
    const sectioned = portName ? (this.#byTarget.get(targetKey(namespace, service, portName)) ?? []) : [];
    const whole = this.#byTarget.get(targetKey(namespace, service, undefined)) ?? [];
    const targeting = [...sectioned, ...whole].map((v) => v.policy);
    const winner = sectioned[0] ?? whole[0];
    if (!winner) return { targeting };
    if (!winner.tls) {
      return {
        targeting,
        error: `BackendTLSPolicy ${policyKey(winner.policy)} is not accepted: ${winner.accepted.message}`,
      };
    }
    return { tls: winner.tls, targeting };
  }

  /** A route using a targeted Service attached to `gateway`: the policy reports status for it. */
  recordAncestor(policy: BackendTLSPolicy, gateway: Gateway): void {
    const v = this.#validated.get(policyKey(policy));
    if (!v) return;
    const key = `${gateway.metadata.namespace ?? ''}/${gateway.metadata.name}`;
    if (!v.ancestors.has(key)) v.ancestors.set(key, gateway);
  }

  /** Writes `status.ancestors` of every policy with an ancestor now or one of ours before. */
  writeStatus(): void {
    const controllerName = this.#ctx.options.controllerName;
    for (const v of this.#validated.values()) {
      const p = v.policy;
      const previous = p.status?.ancestors ?? [];
      const hadOurs = previous.some((a) => a.controllerName === controllerName);
      if (v.ancestors.size === 0 && !hadOurs) continue;
      const generation = p.metadata.generation;
      const accepted: ConditionSpec = v.conflicted
        ? {
            status: 'False',
            reason: 'Conflicted',
            message: 'An older BackendTLSPolicy (or one first by name) targets the same Service or Service port',
          }
        : v.accepted;
      const ours = [...v.ancestors.values()].map((gw) => {
        const ancestorRef = {
          group: GATEWAY_GROUP,
          kind: 'Gateway',
          namespace: gw.metadata.namespace ?? '',
          name: gw.metadata.name,
        };
        const conditions: Condition[] = [];
        const now = this.#ctx.now;
        setCondition(conditions, 'Accepted', accepted.status, accepted.reason, accepted.message, generation, now);
        const rr = v.resolvedRefs;
        setCondition(conditions, 'ResolvedRefs', rr.status, rr.reason, rr.message, generation, now);
        const before = previous.find(
          (a) =>
            a.controllerName === controllerName &&
            a.ancestorRef.name === ancestorRef.name &&
            (a.ancestorRef.namespace ?? p.metadata.namespace) === ancestorRef.namespace,
        );
        carryTransitionTimes(conditions, before?.conditions);
        return { ancestorRef, controllerName, conditions };
      });
      const others = previous.filter((a) => a.controllerName !== controllerName);
      const status = this.#ctx.status.of(p.apiVersion, POLICY_KIND, p.metadata.namespace, p.metadata.name);
      status.ancestors = [...others, ...ours];
    }
  }
}

/** Validation of one policy, where its Accepted/ResolvedRefs are decided. */
function validate(ctx: TranslationContext, policy: BackendTLSPolicy): ValidatedPolicy {
  const namespace = policy.metadata.namespace ?? '';
  const validation = policy.spec?.validation;
  const base = { policy, conflicted: false, ancestors: new Map<string, Gateway>() };
  const resolved: ConditionSpec = {
    status: 'True',
    reason: 'ResolvedRefs',
    message: 'All CA certificate references resolved',
  };
  const wellKnown = validation?.wellKnownCACertificates;
  const caRefs = validation?.caCertificateRefs ?? [];
  const common = {
    sni: validation?.hostname ?? '',
    subjectAltNames: (validation?.subjectAltNames ?? []).map((s) =>
      s.type === 'Hostname'
        ? { type: 'Hostname' as const, value: s.hostname ?? '' }
        : { type: 'URI' as const, value: s.uri ?? '' },
    ),
    ...(policy.spec?.options && Object.keys(policy.spec.options).length > 0
      ? { options: { ...policy.spec.options } }
      : {}),
  };

  if (wellKnown !== undefined && wellKnown !== '') {
    if (wellKnown !== 'System') {
      return {
        ...base,
        accepted: {
          status: 'False',
          reason: 'Invalid',
          message: `spec.validation.wellKnownCACertificates: unsupported value ${wellKnown}; only System is supported`,
        },
        resolvedRefs: resolved,
      };
    }
    return {
      ...base,
      accepted: { status: 'True', reason: 'Accepted', message: 'Policy accepted' },
      resolvedRefs: resolved,
      tls: { ...common, caPems: [], systemCAs: true },
    };
  }

  const pems: string[] = [];
  const errors: Array<{ reason: string; message: string }> = [];
  caRefs.forEach((ref, i) => {
    const r = resolveCARef(ctx, namespace, ref, `spec.validation.caCertificateRefs[${i}]`);
    if (r.ok) pems.push(...r.pems);
    else errors.push({ reason: r.reason, message: r.message });
  });
  const resolvedRefs: ConditionSpec =
    errors.length === 0
      ? resolved
      : { status: 'False', reason: errors[0].reason, message: errors.map((e) => e.message).join('; ') };
  if (pems.length === 0) {
    return {
      ...base,
      accepted: {
        status: 'False',
        reason: 'NoValidCACertificate',
        message:
          caRefs.length === 0
            ? 'spec.validation: neither caCertificateRefs nor wellKnownCACertificates is set'
            : 'No valid CA certificate among spec.validation.caCertificateRefs',
      },
      resolvedRefs,
    };
  }
  return {
    ...base,
    accepted: { status: 'True', reason: 'Accepted', message: 'Policy accepted' },
    resolvedRefs,
    tls: { ...common, caPems: pems, systemCAs: false },
  };
}
