/**
 * One listener, of a Gateway or of a ListenerSet, validated on its own:
 * protocol, route kinds, hostname, TLS mode and certificates, and
 * allowedRoutes.namespaces. The result is a `ListenerState` that the
 * Gateway step completes (conflicts, frontend client validation, the
 * Gateway's own acceptance and addresses) before `listenerOutcome`,
 * `listenerConditions` and `listenerIR` turn it into status and IR.
 *
 * A listener is Accepted unless its configuration cannot produce any data
 * plane config (unsupported protocol, invalid settings, a conflict, no
 * usable client CA). Unresolved references (certificates, route kinds)
 * only set ResolvedRefs=False: routes still attach, and the listener is
 * Programmed when it has what the data plane needs (at least one valid
 * certificate for TLS termination).
 */
import type { Gateway } from '../api/generated/index.ts';
import type { CertificateIR, ListenerIR, ListenerProtocol, ListenerTLSIR } from '../ir/types.ts';
import { GATEWAY_GROUP, listenerProtocolIR, type RouteGroupKind, type TranslationContext } from './context.ts';
import { ConditionList, mergeProblems, type Problem } from './gateway-conditions.ts';
import { compileSelector } from './label-selector.ts';
import { resolveListenerCertificates } from './tls/certificates.ts';

export type ListenerSpec = Gateway['spec']['listeners'][number];

/** The resource a listener is written in. */
export interface ListenerOwner {
  kind: 'Gateway' | 'ListenerSet';
  namespace: string;
  name: string;
  generation?: number;
}

export interface ListenerState {
  spec: ListenerSpec;
  owner: ListenerOwner;
  /** Undefined for an unsupported protocol. */
  protocol?: ListenerProtocol;
  tlsMode?: 'Terminate' | 'Passthrough';
  supportedKinds: RouteGroupKind[];
  /** Why the listener's own configuration is not Accepted. */
  invalid?: Problem;
  /** Set by conflict detection: the listener lost to (or tied with) another on its port. */
  conflict?: Problem;
  /** Causes of ResolvedRefs=False, in the order found. */
  refProblems: Problem[];
  certificates: CertificateIR[];
  clientValidation?: ListenerTLSIR['clientValidation'];
  /** OverlappingTLSConfig message, when an HTTPS listener on the same port matches overlapping hostnames. */
  overlappingTLS?: string;
  allowsNamespace: (namespace: string) => boolean;
}

const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Route kinds a listener can serve, by protocol (TLS: by mode; a terminated TLS stream can also carry TCPRoutes). */
export function routeKindsFor(protocol: ListenerProtocol, tlsMode?: 'Terminate' | 'Passthrough'): string[] {
  switch (protocol) {
    case 'HTTP':
    case 'HTTPS':
      return ['HTTPRoute', 'GRPCRoute'];
    case 'TLS':
      return tlsMode === 'Passthrough' ? ['TLSRoute'] : ['TLSRoute', 'TCPRoute'];
    case 'TCP':
      return ['TCPRoute'];
    case 'UDP':
      return ['UDPRoute'];
  }
}

export function validateListener(ctx: TranslationContext, spec: ListenerSpec, owner: ListenerOwner): ListenerState {
  const state: ListenerState = {
    spec,
    owner,
    supportedKinds: [],
    refProblems: [],
    certificates: [],
    allowsNamespace: () => false,
  };
  state.protocol = listenerProtocolIR(spec.protocol);
  if (!state.protocol) {
    state.invalid = {
      reason: 'UnsupportedProtocol',
      message: `Protocol ${spec.protocol} is not supported; use HTTP, HTTPS, TLS, TCP or UDP`,
    };
    return state;
  }
  if (spec.tls && (state.protocol === 'HTTPS' || state.protocol === 'TLS')) {
    state.tlsMode = spec.tls.mode ?? 'Terminate';
  }
  validateKinds(state);
  state.invalid = hostnameProblem(state) ?? tlsProblem(state);
  if (state.tlsMode === 'Terminate' && !state.invalid) {
    const holder = { kind: owner.kind, namespace: owner.namespace };
    const r = resolveListenerCertificates(ctx, spec.tls?.certificateRefs ?? [], holder, 'tls.certificateRefs');
    state.certificates = r.certificates;
    state.refProblems.push(...r.problems);
  }
  const namespaces = namespacePolicy(ctx, spec, owner.namespace);
  if ('invalid' in namespaces) state.invalid ??= namespaces.invalid;
  else state.allowsNamespace = namespaces.allows;
  return state;
}

function validateKinds(state: ListenerState): void {
  const supported = routeKindsFor(state.protocol!, state.tlsMode);
  const requested = state.spec.allowedRoutes?.kinds ?? [];
  if (requested.length === 0) {
    state.supportedKinds = supported.map((kind) => ({ group: GATEWAY_GROUP, kind }));
    return;
  }
  const invalid: string[] = [];
  for (const k of requested) {
    const group = k.group ?? GATEWAY_GROUP;
    if (group === GATEWAY_GROUP && supported.includes(k.kind)) {
      if (!state.supportedKinds.some((s) => s.kind === k.kind)) state.supportedKinds.push({ group, kind: k.kind });
    } else invalid.push(group === GATEWAY_GROUP ? k.kind : `${group || 'core'}/${k.kind}`);
  }
  if (invalid.length) {
    const mode = state.tlsMode ? ` (${state.tlsMode})` : '';
    state.refProblems.push({
      reason: 'InvalidRouteKinds',
      message: `allowedRoutes.kinds: ${invalid.join(', ')} not supported on a ${state.protocol}${mode} listener (supported: ${supported.join(', ')})`,
    });
  }
}

function hostnameProblem(state: ListenerState): Problem | undefined {
  const { hostname } = state.spec;
  if (hostname === undefined || hostname === '') return undefined;
  if (state.protocol === 'TCP' || state.protocol === 'UDP') {
    return { reason: 'Invalid', message: `hostname must not be set on a ${state.protocol} listener` };
  }
  if (!HOSTNAME.test(hostname) || hostname.length > 253) {
    return { reason: 'Invalid', message: `hostname ${hostname} is not a valid DNS name (optionally prefixed with *.)` };
  }
  return undefined;
}

function tlsProblem(state: ListenerState): Problem | undefined {
  const { protocol, spec } = state;
  if (protocol === 'HTTP' || protocol === 'TCP' || protocol === 'UDP') {
    return spec.tls ? { reason: 'Invalid', message: `tls must not be set on a ${protocol} listener` } : undefined;
  }
  if (!spec.tls) return { reason: 'Invalid', message: `tls is required on a ${protocol} listener` };
  if (protocol === 'HTTPS' && state.tlsMode === 'Passthrough') {
    return { reason: 'UnsupportedValue', message: 'tls.mode Passthrough is only supported on TLS listeners' };
  }
  if (state.tlsMode === 'Terminate' && !spec.tls.certificateRefs?.length) {
    return {
      reason: 'Invalid',
      message: 'tls.certificateRefs must name at least one certificate when tls.mode is Terminate',
    };
  }
  return undefined;
}

/** allowedRoutes.namespaces; `Same` means the namespace of the listener's own resource (Gateway or ListenerSet). */
function namespacePolicy(
  ctx: TranslationContext,
  spec: ListenerSpec,
  ownNamespace: string,
): { allows: (ns: string) => boolean } | { invalid: Problem } {
  const namespaces = spec.allowedRoutes?.namespaces;
  switch (namespaces?.from ?? 'Same') {
    case 'All':
      return { allows: () => true };
    case 'Same':
      return { allows: (ns) => ns === ownNamespace };
    default: {
      if (!namespaces?.selector) {
        return {
          invalid: {
            reason: 'Invalid',
            message: 'allowedRoutes.namespaces.selector is required when from is Selector',
          },
        };
      }
      const compiled = compileSelector(namespaces.selector);
      if ('error' in compiled) {
        return { invalid: { reason: 'Invalid', message: `allowedRoutes.namespaces.selector: ${compiled.error}` } };
      }
      return { allows: (ns) => compiled.matches(ctx.namespaceLabels(ns)) };
    }
  }
}

/** What the Gateway step knows when a listener is finished. */
export interface ListenerEnv {
  /** The Gateway (and, for ListenerSet listeners, the ListenerSet's attachment) is accepted. */
  parentAccepted: boolean;
  /** The Gateway has at least one usable address. */
  hasAddress: boolean;
}

export interface ListenerOutcome {
  accepted: boolean;
  notAccepted?: Problem;
  notProgrammed?: Problem;
  refs?: Problem;
  /** Accepted and every reference resolved. */
  valid: boolean;
  /** Its own configuration can be programmed (accepted, with a certificate where one is needed). */
  usable: boolean;
}

export function listenerOutcome(state: ListenerState, env: ListenerEnv): ListenerOutcome {
  const notAccepted = state.conflict ?? state.invalid;
  const refs = mergeProblems(state.refProblems);
  const noCertificate = state.tlsMode === 'Terminate' && state.certificates.length === 0;
  let notProgrammed: Problem | undefined;
  if (notAccepted)
    notProgrammed = { reason: state.conflict ? notAccepted.reason : 'Invalid', message: notAccepted.message };
  else if (noCertificate)
    notProgrammed = { reason: 'Invalid', message: `No valid TLS certificate: ${refs?.message ?? 'none given'}` };
  else if (!env.parentAccepted) notProgrammed = { reason: 'Invalid', message: 'The parent Gateway is not accepted' };
  else if (!env.hasAddress) notProgrammed = { reason: 'Pending', message: 'The Gateway has no usable address yet' };
  const usable = !notAccepted && !noCertificate;
  return { accepted: !notAccepted, notAccepted, notProgrammed, refs, valid: !notAccepted && !refs, usable };
}

export function listenerConditions(state: ListenerState, outcome: ListenerOutcome, now: string): ConditionList {
  const c = new ConditionList(state.owner.generation, now);
  c.setFrom('Accepted', outcome.notAccepted, 'Accepted', 'Listener is valid');
  c.setFrom('Programmed', outcome.notProgrammed, 'Programmed', 'Listener is programmed in the data plane');
  c.setFrom('ResolvedRefs', outcome.refs, 'ResolvedRefs', 'All references are resolved');
  if (state.conflict) c.set('Conflicted', 'True', state.conflict.reason, state.conflict.message);
  if (state.overlappingTLS) c.set('OverlappingTLSConfig', 'True', 'OverlappingHostnames', state.overlappingTLS);
  return c;
}

/** `<ns>/<gateway>/<listener>`, or `<ns>/<gateway>/<listenerset ns>/<listenerset>/<listener>`. */
export function listenerIRName(gateway: Gateway, state: ListenerState): string {
  const gw = `${gateway.metadata.namespace ?? ''}/${gateway.metadata.name}`;
  const { owner, spec } = state;
  return owner.kind === 'ListenerSet' ? `${gw}/${owner.namespace}/${owner.name}/${spec.name}` : `${gw}/${spec.name}`;
}

/** The IR of a programmed listener, with empty route tables for the route step to fill. */
export function listenerIR(gateway: Gateway, state: ListenerState): ListenerIR {
  const { spec, owner } = state;
  const protocol = state.protocol!;
  const ir: ListenerIR = { name: listenerIRName(gateway, state), sectionName: spec.name, port: spec.port, protocol };
  if (owner.kind === 'ListenerSet') ir.listenerSet = { namespace: owner.namespace, name: owner.name };
  if (spec.hostname) ir.hostname = spec.hostname;
  if (state.tlsMode) {
    ir.tls = { mode: state.tlsMode, certificates: state.tlsMode === 'Terminate' ? state.certificates : [] };
    if (state.clientValidation) ir.tls.clientValidation = state.clientValidation;
    if (spec.tls?.options && Object.keys(spec.tls.options).length) ir.tls.options = { ...spec.tls.options };
  }
  switch (protocol) {
    case 'HTTP':
    case 'HTTPS':
      ir.virtualHosts = [];
      break;
    case 'TLS':
      ir.tlsRoutes = [];
      if (state.tlsMode === 'Terminate') ir.tcpRoutes = [];
      break;
    case 'TCP':
      ir.tcpRoutes = [];
      break;
    case 'UDP':
      ir.udpRoutes = [];
      break;
  }
  return ir;
}
