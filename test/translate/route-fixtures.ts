/**
 * Test helper for route translation: GatewayContext/ListenerContext objects
 * built straight from the Gateways (and ListenerSets) of a snapshot, without
 * the gateway half of the translator, so route tests see only route logic.
 *
 * Every Gateway counts as accepted and every listener as programmed unless
 * the options say otherwise; supportedKinds follow the listener protocol
 * (and allowedRoutes.kinds), allowedRoutes.namespaces is honoured (From
 * Same/All/Selector with matchLabels).
 */
import type { Gateway, ListenerSet } from '../../src/api/generated/index.ts';
import type { HTTPRouteIR, ListenerIR, ListenerProtocol } from '../../src/ir/types.ts';
import type { ResourceSnapshot } from '../../src/providers/snapshot.ts';
import {
  defaultOptions,
  GATEWAY_GROUP,
  TranslationContext,
  type GatewayContext,
  type ListenerContext,
  type RouteGroupKind,
} from '../../src/translate/context.ts';
import { translateRoutes } from '../../src/translate/route/index.ts';
import type { StatusEntry } from '../../src/translate/status.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';

export const NOW = '2026-01-01T00:00:00Z';

type ListenerSpec = Gateway['spec']['listeners'][number];

export interface FixtureOptions {
  /** `ns/name` of Gateways to treat as not accepted. */
  notAccepted?: string[];
  /** `ns/name/listener` of listeners that do not accept routes (invalid or conflicted). */
  rejectListeners?: string[];
  /** `ns/name/listener` of listeners without IR (not programmed). */
  unprogrammed?: string[];
  /** `ns/name` of ListenerSets their Gateway does not accept. */
  detachedListenerSets?: string[];
}

function kindsFor(spec: ListenerSpec): RouteGroupKind[] {
  const byProtocol: Record<string, string[]> = {
    HTTP: ['HTTPRoute', 'GRPCRoute'],
    HTTPS: ['HTTPRoute', 'GRPCRoute'],
    TLS: spec.tls?.mode === 'Terminate' ? ['TLSRoute', 'TCPRoute'] : ['TLSRoute'],
    TCP: ['TCPRoute'],
    UDP: ['UDPRoute'],
  };
  const possible = byProtocol[spec.protocol] ?? [];
  const allowed = spec.allowedRoutes?.kinds;
  const kinds = allowed?.length ? possible.filter((k) => allowed.some((a) => a.kind === k)) : possible;
  return kinds.map((kind) => ({ group: GATEWAY_GROUP, kind }));
}

function namespaceFilter(
  ctx: TranslationContext,
  spec: ListenerSpec,
  ownerNamespace: string,
): (namespace: string) => boolean {
  const ns = spec.allowedRoutes?.namespaces;
  const from = ns?.from ?? 'Same';
  if (from === 'All') return () => true;
  if (from === 'Selector') {
    const labels = ns?.selector?.matchLabels ?? {};
    return (n) => {
      const have = ctx.namespaceLabels(n);
      return Object.entries(labels).every(([k, v]) => have[k] === v);
    };
  }
  return (n) => n === ownerNamespace;
}

function listener(
  ctx: TranslationContext,
  gateway: Gateway,
  spec: ListenerSpec,
  owner: { namespace: string; name: string },
  options: FixtureOptions,
  listenerSet?: ListenerSet,
): ListenerContext {
  const key = `${owner.namespace}/${owner.name}/${spec.name}`;
  const l: ListenerContext = {
    gateway,
    name: spec.name,
    port: spec.port,
    protocol: spec.protocol,
    supportedKinds: kindsFor(spec),
    allowsNamespace: namespaceFilter(ctx, spec, owner.namespace),
    acceptsRoutes: !options.rejectListeners?.includes(key),
    attachedRoutes: 0,
  };
  if (listenerSet) l.listenerSet = listenerSet;
  if (spec.hostname) l.hostname = spec.hostname;
  if (spec.tls?.mode ?? (spec.protocol === 'HTTPS' || spec.protocol === 'TLS')) {
    l.tlsMode = spec.tls?.mode ?? 'Terminate';
  }
  if (!options.unprogrammed?.includes(key)) {
    const ir: ListenerIR = {
      name: key,
      sectionName: spec.name,
      port: spec.port,
      protocol: spec.protocol as ListenerProtocol,
    };
    if (listenerSet) ir.listenerSet = { namespace: owner.namespace, name: owner.name };
    if (spec.hostname) ir.hostname = spec.hostname;
    if (l.tlsMode) ir.tls = { mode: l.tlsMode, certificates: [] };
    l.ir = ir;
  }
  return l;
}

export function fixtureGateways(ctx: TranslationContext, options: FixtureOptions = {}): GatewayContext[] {
  return ctx.snapshot.gateways.map((gateway) => {
    const namespace = gateway.metadata.namespace ?? '';
    const owner = { namespace, name: gateway.metadata.name };
    const accepted = !options.notAccepted?.includes(`${namespace}/${gateway.metadata.name}`);
    const listeners = gateway.spec.listeners.map((s) => listener(ctx, gateway, s, owner, options));
    const listenerSets = ctx.snapshot.listenerSets.filter(
      (ls) =>
        ls.spec.parentRef.name === gateway.metadata.name &&
        (ls.spec.parentRef.namespace ?? ls.metadata.namespace) === namespace &&
        !options.detachedListenerSets?.includes(`${ls.metadata.namespace ?? ''}/${ls.metadata.name}`),
    );
    for (const ls of listenerSets) {
      const lsOwner = { namespace: ls.metadata.namespace ?? '', name: ls.metadata.name };
      for (const s of ls.spec.listeners) listeners.push(listener(ctx, gateway, s, lsOwner, options, ls));
    }
    const gc: GatewayContext = {
      gateway,
      gatewayClass: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: gateway.spec.gatewayClassName },
        spec: { controllerName: ctx.options.controllerName },
      },
      accepted,
      listeners,
      listenerSets,
      ir: {
        namespace,
        name: gateway.metadata.name,
        addresses: ['127.0.0.1'],
        listeners: listeners.flatMap((l) => (l.ir ? [l.ir] : [])),
      },
    };
    return gc;
  });
}

export interface RouteRun {
  ctx: TranslationContext;
  gateways: GatewayContext[];
  status: StatusEntry[];
}

/** Runs route translation alone over `yaml` with fixture gateways. */
export function runRoutes(yaml: string, options: FixtureOptions = {}): RouteRun {
  return runRoutesOn(snapshotFromYaml(yaml), options);
}

export function runRoutesOn(snapshot: ResourceSnapshot, options: FixtureOptions = {}): RouteRun {
  const ctx = new TranslationContext(snapshot, defaultOptions({ now: NOW }));
  const gateways = fixtureGateways(ctx, options);
  translateRoutes(ctx, gateways);
  return { ctx, gateways, status: ctx.status.entries() };
}

export interface ParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: Array<{
    type: string;
    status: string;
    reason: string;
    message: string;
    observedGeneration?: number;
    lastTransitionTime: string;
  }>;
}

export function routeParents(
  run: { status: StatusEntry[] },
  kind: string,
  namespace: string,
  name: string,
): ParentStatus[] {
  const e = run.status.find((s) => s.kind === kind && s.namespace === namespace && s.name === name);
  return (e?.status.parents as ParentStatus[] | undefined) ?? [];
}

/** `type=status/reason` of each condition, for compact assertions. */
export function conditionsOf(parent: ParentStatus | undefined): string[] {
  return (parent?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

export function listenerOf(run: RouteRun, gateway: string, name: string): ListenerContext {
  const [namespace, gwName] = gateway.split('/');
  const g = run.gateways.find((x) => x.gateway.metadata.namespace === namespace && x.gateway.metadata.name === gwName);
  const l = g?.listeners.find((x) => x.name === name);
  if (!l) throw new Error(`no listener ${gateway}/${name}`);
  return l;
}

/** A namespace, a Gateway with the given listeners (YAML list items) and a Service with endpoints. */
export function gatewayYaml(listeners: string, opts: { name?: string; namespace?: string } = {}): string {
  const name = opts.name ?? 'gw';
  const namespace = opts.namespace ?? 'infra';
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  gatewayClassName: sluice
  listeners:
${listeners}
`;
}

/** A Service `name` with one port (8080 -> 3000, named `http`) and a ready endpoint per address. */
export function serviceYaml(
  name: string,
  namespace = 'infra',
  addresses: string[] = ['10.0.0.1'],
  port: { port?: number; targetPort?: number; name?: string; protocol?: string; appProtocol?: string } = {},
): string {
  const p = { port: 8080, targetPort: 3000, name: 'http', protocol: 'TCP', ...port };
  return `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  ports:
  - {name: ${p.name}, port: ${p.port}, targetPort: ${p.targetPort}, protocol: ${p.protocol}${p.appProtocol ? `, appProtocol: ${p.appProtocol}` : ''}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-1
  namespace: ${namespace}
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
ports:
- {name: ${p.name}, port: ${p.targetPort}, protocol: ${p.protocol}}
endpoints:
${addresses.map((a) => `- {addresses: ["${a}"], conditions: {ready: true}}`).join('\n')}
`;
}

/** The HTTP route entries of a listener, virtual host by virtual host, in IR order. */
export function httpEntries(run: RouteRun, gateway: string, listenerName: string): HTTPRouteIR[] {
  return (listenerOf(run, gateway, listenerName).ir?.virtualHosts ?? []).flatMap((vh) => vh.routes);
}
