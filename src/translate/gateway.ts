/**
 * Gateways of our accepted GatewayClasses, with their listeners and the
 * ListenerSets attached to them. For each Gateway this step decides its
 * addresses, every listener's status (validation in listener.ts, conflicts
 * in listener-conflicts.ts, client validation and certificates in tls/),
 * the ListenerSets' status, and builds the GatewayIR with empty route
 * tables. Route translation then attaches routes through the returned
 * contexts, and `finalizeGateways` writes the attachedRoutes counts.
 *
 * Gateway conditions:
 * - Accepted: False for an unusable infrastructure.parametersRef
 *   (InvalidParameters), an unsupported or malformed address
 *   (UnsupportedAddress, Invalid), or when no listener is Accepted
 *   (ListenersNotValid); True with reason ListenersNotValid when only some
 *   listeners are valid.
 * - Programmed: False when not Accepted (Invalid) or when an address cannot
 *   be used or assigned (AddressNotUsable, AddressNotAssigned).
 * - ResolvedRefs: the backend client certificate, then a summary of the
 *   listeners' ResolvedRefs (ListenersNotResolved).
 * - InsecureFrontendValidationMode: only while some client validation uses
 *   AllowInsecureFallback.
 */
import type { Gateway, GatewayClass, ListenerSet } from '../api/generated/index.ts';
import type { ListenerIR } from '../ir/types.ts';
import { assignAddresses, type AddressResult } from './addresses.ts';
import type { Condition } from './conditions.ts';
import type { GatewayContext, ListenerContext, RouteGroupKind, TranslationContext } from './context.ts';
import { ConditionList, type Problem } from './gateway-conditions.ts';
import { parametersRefProblem } from './gatewayclass.ts';
import { EnvoyProxyTelemetry } from './envoyproxy/telemetry.ts';
import { ConflictTracker, markOverlappingTLS } from './listener-conflicts.ts';
import {
  listenerConditions,
  listenerIR,
  listenerOutcome,
  validateListener,
  type ListenerEnv,
  type ListenerOutcome,
  type ListenerOwner,
  type ListenerState,
} from './listener.ts';
import {
  listenerSetConditions,
  listenerSetNotAllowed,
  listenerSetsByGateway,
  listenerSetsFor,
  writeRejectedListenerSet,
} from './listenerset.ts';
import { resolveBackendClientCertificate } from './tls/backend-client-cert.ts';
import {
  frontendValidationFor,
  insecureFallbackMessage,
  resolveFrontendValidation,
  type ResolvedValidation,
} from './tls/frontend-validation.ts';

interface ListenerStatusEntry {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

/** The status entry of every listener, so that finalizeGateways can write the attachedRoutes counts. */
const listenerStatus = new WeakMap<ListenerContext, ListenerStatusEntry>();

export function translateGateways(ctx: TranslationContext, classes: Map<string, GatewayClass>): GatewayContext[] {
  const gateways = ctx.snapshot.gateways.filter((g) => classes.has(g.spec.gatewayClassName));
  const addresses = assignAddresses(ctx, gateways);
  const sets = listenerSetsByGateway(ctx);
  const telemetry = new EnvoyProxyTelemetry(ctx);
  const out = gateways.map((gateway) =>
    new GatewayTranslation(ctx, gateway, addresses.get(gateway)!).run(
      classes.get(gateway.spec.gatewayClassName)!,
      listenerSetsFor(sets, gateway),
      telemetry,
    ),
  );
  telemetry.write();
  return out;
}

export function finalizeGateways(_ctx: TranslationContext, gateways: GatewayContext[]): void {
  for (const g of gateways) {
    for (const listener of g.listeners) {
      const entry = listenerStatus.get(listener);
      if (entry) entry.attachedRoutes = listener.attachedRoutes;
    }
  }
}

interface FinishedListener {
  entry: ListenerStatusEntry;
  outcome: ListenerOutcome;
}

/** One Gateway's translation; holds what its listeners and ListenerSets share. */
class GatewayTranslation {
  readonly #namespace: string;
  readonly #frontend = new Map<string, ResolvedValidation>();
  readonly #conflicts = new ConflictTracker();
  readonly #irListeners: ListenerIR[] = [];
  #context!: GatewayContext;
  #env!: ListenerEnv;

  constructor(
    private readonly ctx: TranslationContext,
    private readonly gateway: Gateway,
    private readonly address: AddressResult,
  ) {
    this.#namespace = gateway.metadata.namespace ?? '';
  }

  run(gatewayClass: GatewayClass, listenerSets: ListenerSet[], telemetry?: EnvoyProxyTelemetry): GatewayContext {
    const { ctx, gateway } = this;
    const own = this.#validate(gateway.spec.listeners, {
      kind: 'Gateway',
      namespace: this.#namespace,
      name: gateway.metadata.name,
      generation: gateway.metadata.generation,
    });
    const notAccepted = this.#notAccepted(own);
    this.#context = { gateway, gatewayClass, accepted: !notAccepted, listeners: [], listenerSets: [] };
    const attached = this.#attach(listenerSets);
    markOverlappingTLS([...own, ...attached.flatMap((a) => a.states)]);

    this.#env = { parentAccepted: !notAccepted, hasAddress: this.address.addresses.length > 0 };
    const ownFinished = own.map((s) => this.#finish(s));
    const backend = resolveBackendClientCertificate(ctx, gateway);
    if (backend.certificate) this.#context.backendClientCertificate = backend.certificate;
    const conditions = this.#conditions(notAccepted, ownFinished, backend.problem);
    const programmed = conditions.items.some((c) => c.type === 'Programmed' && c.status === 'True');
    for (const { ls, states } of attached) this.#finishListenerSet(ls, states, programmed);

    const status = ctx.status.of(gateway.apiVersion, 'Gateway', gateway.metadata.namespace, gateway.metadata.name);
    if (!notAccepted && this.#env.hasAddress) status.addresses = this.address.addresses;
    status.conditions = conditions.items;
    status.listeners = ownFinished.map((f) => f.entry);
    status.attachedListenerSets = this.#context.listenerSets.length;

    if (!notAccepted && this.#env.hasAddress) {
      this.#context.ir = {
        namespace: this.#namespace,
        name: gateway.metadata.name,
        addresses: this.address.addresses.map((a) => a.value),
        listeners: this.#irListeners,
      };
      const t = telemetry?.forGateway(gateway, gatewayClass);
      if (t) this.#context.ir.telemetry = t;
    }
    return this.#context;
  }

  /** ListenerSets the Gateway admits, with their validated listeners; the others get their rejection status. */
  #attach(listenerSets: ListenerSet[]): Array<{ ls: ListenerSet; states: ListenerState[] }> {
    const attached: Array<{ ls: ListenerSet; states: ListenerState[] }> = [];
    for (const ls of listenerSets) {
      const refusal = this.#context.accepted
        ? listenerSetNotAllowed(this.ctx, this.gateway, ls)
        : { reason: 'ParentNotAccepted', message: `Gateway ${this.#key()} is not accepted` };
      if (refusal) {
        writeRejectedListenerSet(this.ctx, ls, refusal);
        continue;
      }
      const states = this.#validate(ls.spec.listeners, {
        kind: 'ListenerSet',
        namespace: ls.metadata.namespace ?? '',
        name: ls.metadata.name,
        generation: ls.metadata.generation,
      });
      attached.push({ ls, states });
    }
    return attached;
  }

  #finishListenerSet(ls: ListenerSet, states: ListenerState[], parentProgrammed: boolean): void {
    const finished = states.map((s) => this.#finish(s, ls));
    const outcomes = finished.map((f) => ({ name: f.entry.name, outcome: f.outcome }));
    const summary = listenerSetConditions(this.ctx, ls, outcomes, parentProgrammed);
    Object.assign(this.ctx.status.of(ls.apiVersion, 'ListenerSet', ls.metadata.namespace, ls.metadata.name), {
      conditions: summary.conditions.items,
      listeners: finished.map((f) => f.entry),
    });
    if (summary.accepted) this.#context.listenerSets.push(ls);
  }

  #key(): string {
    return `${this.#namespace}/${this.gateway.metadata.name}`;
  }

  /** Validates one resource's listeners, adds client validation, and resolves conflicts with earlier ones. */
  #validate(specs: Gateway['spec']['listeners'], owner: ListenerOwner): ListenerState[] {
    const states = specs.map((spec) => validateListener(this.ctx, spec, owner));
    for (const state of states) this.#applyFrontendValidation(state);
    this.#conflicts.addGroup(states);
    return states;
  }

  #applyFrontendValidation(state: ListenerState): void {
    if (state.protocol !== 'HTTPS' || state.invalid) return;
    const found = frontendValidationFor(this.gateway, state.spec.port);
    if (!found) return;
    let resolved = this.#frontend.get(found.field);
    if (!resolved) {
      resolved = resolveFrontendValidation(this.ctx, this.gateway, found.validation, found.field);
      this.#frontend.set(found.field, resolved);
    }
    state.refProblems.push(...resolved.problems);
    if (resolved.clientValidation) state.clientValidation = resolved.clientValidation;
    else state.invalid = { reason: 'NoValidCACertificate', message: `No usable CA certificate in ${found.field}` };
  }

  #notAccepted(own: ListenerState[]): Problem | undefined {
    const ref = this.gateway.spec.infrastructure?.parametersRef;
    const params = ref && parametersRefProblem(this.ctx, ref, this.#namespace, 'spec.infrastructure.parametersRef');
    if (params) return { reason: 'InvalidParameters', message: params };
    if (this.address.notAccepted) return this.address.notAccepted;
    if (!own.some((s) => !s.invalid && !s.conflict)) {
      const why = own.map((s) => `${s.spec.name} (${(s.conflict ?? s.invalid)!.reason})`).join(', ');
      return { reason: 'ListenersNotValid', message: `No listener is valid: ${why || 'none given'}` };
    }
    return undefined;
  }

  /** Turns a listener state into its status entry, ListenerContext and (when programmed) IR. */
  #finish(state: ListenerState, listenerSet?: ListenerSet): FinishedListener {
    const outcome = listenerOutcome(state, this.#env);
    const { spec } = state;
    const listener: ListenerContext = {
      gateway: this.gateway,
      name: spec.name,
      port: spec.port,
      protocol: spec.protocol,
      supportedKinds: state.supportedKinds,
      allowsNamespace: state.allowsNamespace,
      acceptsRoutes: this.#context.accepted && outcome.accepted,
      attachedRoutes: 0,
    };
    if (listenerSet) listener.listenerSet = listenerSet;
    if (spec.hostname) listener.hostname = spec.hostname;
    if (state.tlsMode) listener.tlsMode = state.tlsMode;
    if (!outcome.notProgrammed) {
      listener.ir = listenerIR(this.gateway, state);
      this.#irListeners.push(listener.ir);
    }
    const entry: ListenerStatusEntry = {
      name: spec.name,
      supportedKinds: state.supportedKinds,
      attachedRoutes: 0,
      conditions: listenerConditions(state, outcome, this.ctx.now).items,
    };
    listenerStatus.set(listener, entry);
    this.#context.listeners.push(listener);
    return { entry, outcome };
  }

  #conditions(notAccepted: Problem | undefined, own: FinishedListener[], backend?: Problem): ConditionList {
    const c = new ConditionList(this.gateway.metadata.generation, this.ctx.now);
    const notValid = own.filter((f) => !f.outcome.valid || !f.outcome.usable);
    if (notAccepted) c.set('Accepted', 'False', notAccepted.reason, notAccepted.message);
    else if (notValid.length) {
      const bad = notValid.map((f) => `${f.entry.name} (${(f.outcome.notAccepted ?? f.outcome.refs)!.reason})`);
      const good = own.filter((f) => !notValid.includes(f)).map((f) => f.entry.name);
      const message = `Listeners not valid: ${bad.join(', ')}; valid: ${good.join(', ') || 'none'}`;
      c.set('Accepted', 'True', 'ListenersNotValid', message);
    } else c.set('Accepted', 'True', 'Accepted', 'The Gateway is valid');

    if (notAccepted) c.set('Programmed', 'False', 'Invalid', 'The Gateway is not accepted');
    else if (this.address.notProgrammed) {
      c.set('Programmed', 'False', this.address.notProgrammed.reason, this.address.notProgrammed.message);
    } else {
      const addresses = this.address.addresses.map((a) => a.value).join(', ');
      c.set('Programmed', 'True', 'Programmed', `The Gateway is programmed on ${addresses}`);
    }

    const unresolved = own.filter((f) => f.outcome.refs).map((f) => f.entry.name);
    const listenersProblem: Problem | undefined = unresolved.length
      ? { reason: 'ListenersNotResolved', message: `Listeners with unresolved references: ${unresolved.join(', ')}` }
      : undefined;
    c.setFrom('ResolvedRefs', backend ?? listenersProblem, 'ResolvedRefs', 'All references are resolved');

    const insecure = insecureFallbackMessage(this.gateway);
    if (insecure) c.set('InsecureFrontendValidationMode', 'True', 'ConfigurationChanged', insecure);
    return c;
  }
}
