/**
 * `sluice explain`: the path of one request through the gateway, from the IR
 * being served and the status of every resource. Pure apart from compiling
 * the IR (dataplane.ts): the same input gives the same Explanation.
 *
 *   sockets on the request's port → listener by Host → virtual host by Host
 *     → the router's route entry (every other entry judged and explained)
 *     → filters, direct response or backends → policies
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../api/object.ts';
import type { GatewayIR, IR, ListenerIR, WeightedBackendIR } from '../ir/types.ts';
import { explainActions } from './actions.ts';
import { compileForExplain, decide, matchInput, type CompiledConfig, type CompiledSocket } from './dataplane.ts';
import { listenerVerdicts } from './listeners.ts';
import { routesNotServed } from './not-served.ts';
import { explainPolicies } from './policies.ts';
import { conditionText, findCondition, ResourceIndex, routeParents } from './resources.ts';
import { entryVerdicts, findEntry } from './routes.ts';
import type { ExplainRequest, Explanation, GatewayPath, NamespacedName, Outcome } from './types.ts';

export interface ExplainInput {
  ir: IR;
  /** Every resource with its status (`resourcesWithStatus`, or `/api/status`'s `resources`). */
  resources: readonly KubeObject[];
  request: ExplainRequest;
  /** Only this Gateway's listeners. */
  gateway?: NamespacedName;
  /** The running gateway's `--port-offset`: the request's port is a bound port. */
  portOffset?: number;
}

export function explain(input: ExplainInput): Explanation {
  const portOffset = input.portOffset ?? 0;
  const compiled = compileForExplain(input.ir, portOffset);
  const resources = new ResourceIndex(input.resources);
  const req = input.request;
  const owners = listenerOwners(input.ir);

  const chosen = new Set<string>();
  const shadowedBy = new Map<string, string>();
  const served = new Set<string>();
  const paths: GatewayPath[] = [];
  for (const socket of candidateSockets(compiled, req, input.gateway)) {
    const path = explainSocket(socket, req, compiled, owners, resources);
    paths.push(path);
    if (path.listener === undefined) continue;
    chosen.add(path.listener);
    for (const other of socket.listeners) if (other !== path.listener) shadowedBy.set(other, path.listener);
    for (const e of path.entries) served.add(`${e.route.kind}/${e.route.namespace}/${e.route.name}`);
  }
  const touched = new Set(paths.flatMap((p) => p.socketListeners));
  return {
    request: req,
    paths,
    listeners: listenerVerdicts({
      ir: input.ir,
      resources,
      compiled,
      request: req,
      portOffset,
      ...(input.gateway ? { gateway: input.gateway } : {}),
      chosen,
      shadowedBy,
    }),
    routesNotServed: routesNotServed(resources, req, served, input.gateway),
    problems: compiled.errors.filter((e) => [...touched].some((l) => e.startsWith(`listener ${l}:`))),
  };
}

/**
 * Sockets on the request's port. A URL naming an IP address reaches the
 * socket bound to it (else a wildcard one); a DNS name could reach any
 * Gateway's address, so each is a candidate.
 */
function candidateSockets(compiled: CompiledConfig, req: ExplainRequest, gw?: NamespacedName): CompiledSocket[] {
  const onPort = [...compiled.sockets.values()].filter(
    (s) =>
      s.boundPort === req.port &&
      (gw === undefined || s.listeners.some((n) => n.startsWith(`${gw.namespace}/${gw.name}/`))),
  );
  const target = req.connectHost.replace(/^\[|\]$/g, '');
  if (isIP(target) === 0) return onPort;
  const exact = onPort.filter((s) => s.address === target);
  return exact.length > 0 ? exact : onPort.filter((s) => s.address === '0.0.0.0' || s.address === '::');
}

interface Owner {
  gateway: GatewayIR;
  listener: ListenerIR;
}

function listenerOwners(ir: IR): Map<string, Owner> {
  const out = new Map<string, Owner>();
  for (const gateway of ir.gateways)
    for (const listener of gateway.listeners) out.set(listener.name, { gateway, listener });
  return out;
}

function explainSocket(
  socket: CompiledSocket,
  req: ExplainRequest,
  compiled: CompiledConfig,
  owners: Map<string, Owner>,
  resources: ResourceIndex,
): GatewayPath {
  const protocol = socket.tls !== null ? 'HTTPS' : 'HTTP';
  const where = `${socket.address}:${socket.boundPort}`;
  const found: Partial<GatewayPath> = {};
  // One key order for every answer, so the JSON reads top-down like the text.
  const end = (outcome: Outcome, rest: Partial<GatewayPath> = {}): GatewayPath => ({
    address: socket.address,
    port: socket.boundPort,
    protocol,
    socketListeners: [...socket.listeners],
    ...(found.gateway ? { gateway: found.gateway } : {}),
    ...(found.listener !== undefined ? { listener: found.listener } : {}),
    ...(found.virtualHost !== undefined ? { virtualHost: found.virtualHost } : {}),
    outcome,
    ...(rest.route ? { route: rest.route } : {}),
    filters: rest.filters ?? [],
    backends: rest.backends ?? [],
    ...(rest.upstream ? { upstream: rest.upstream } : {}),
    ...(rest.traffic ? { traffic: rest.traffic } : {}),
    policies: rest.policies ?? [],
    entries: found.entries ?? [],
  });

  if (protocol !== (req.scheme === 'https' ? 'HTTPS' : 'HTTP')) {
    const summary =
      protocol === 'HTTPS'
        ? `${where} serves HTTPS: a plain-text ${req.scheme} request gets no HTTP answer`
        : `${where} serves plain HTTP: a TLS handshake gets 400 Bad Request`;
    return end({ kind: 'wrong-protocol', summary });
  }
  const d = decide(socket, req, matchInput(req));
  const owner = d.listener === undefined ? undefined : owners.get(d.listener.name);
  if (d.listener !== undefined) found.listener = d.listener.name;
  if (owner) found.gateway = { namespace: owner.gateway.namespace, name: owner.gateway.name };
  const misdirected = misdirection(socket, req, d.listener?.name, d.sniListener?.name);
  if (misdirected !== undefined) return end({ kind: 'misdirected', status: 421, summary: misdirected });
  if (d.listener === undefined) {
    return end({ kind: 'not-found', status: 404, summary: `404: no listener on ${where} takes host ${req.host}` });
  }
  if (owner === undefined) return end({ kind: 'error', summary: `listener ${d.listener.name} is not in the IR` });
  const l = owner.listener;
  found.entries = entryVerdicts({
    listener: l,
    compiled: d.listener,
    vhost: d.vhost,
    winner: d.route,
    input: matchInput(req),
    resources,
    errors: compiled.errors,
  });
  if (d.vhost === undefined) {
    return end({
      kind: 'not-found',
      status: 404,
      summary: `404: listener ${l.name} has no virtual host for ${req.host}`,
    });
  }
  found.virtualHost = d.vhost.hostname;
  const winner = d.route === null ? undefined : findEntry(l, d.route.name);
  if (d.route === null || winner === undefined) {
    return end({
      kind: 'not-found',
      status: 404,
      summary: `404: no route entry of virtual host ${d.vhost.hostname} matches`,
    });
  }
  const actions = explainActions(
    winner,
    d.route,
    req,
    `listener ${l.name}: route ${winner.name}`,
    compiled.errors,
    (b) => invalidBackendReason(resources, owner.gateway, l, winner.route, b),
  );
  const route = found.entries.find((e) => e.verdict === 'selected');
  return end(actions.outcome, {
    ...(route ? { route } : {}),
    filters: actions.filters,
    backends: actions.backends,
    ...(actions.upstream ? { upstream: actions.upstream } : {}),
    ...(actions.traffic ? { traffic: actions.traffic } : {}),
    policies: explainPolicies(owner.gateway, l, winner, resources),
  });
}

/** The data plane's 421 rule (tls/misdirected.ts): the handshake's listener and Host's must be the same. */
function misdirection(
  socket: CompiledSocket,
  req: ExplainRequest,
  byHost: string | undefined,
  bySni: string | undefined,
): string | undefined {
  if (socket.tls === null) return undefined;
  if (req.sni !== undefined) {
    if (bySni === byHost) return undefined;
    return `421: the TLS handshake (SNI ${req.sni}) picked listener ${bySni ?? '(none)'}, Host ${req.host} picks ${byHost ?? '(none)'}`;
  }
  const fallback = socket.tls.noSniListener;
  if (fallback === null || byHost === fallback) return undefined;
  return `421: without SNI the connection counts as made for listener ${fallback}, Host ${req.host} picks ${byHost ?? '(none)'}`;
}

/**
 * Why an invalid backend is, from the route's ResolvedRefs condition for
 * this parent. The condition holds one message; it is this backend's when
 * it names it (IR backends leave out weight-0 refs, so indexes cannot be compared).
 */
function invalidBackendReason(
  resources: ResourceIndex,
  gw: GatewayIR,
  l: ListenerIR,
  ref: { kind: string; namespace: string; name: string },
  b: WeightedBackendIR,
): string {
  const route = resources.get(ref.kind, ref.namespace, ref.name);
  const parents = route === undefined ? [] : routeParents(route);
  const mine = parents.filter(
    (p) =>
      (p.parentRef.namespace ?? ref.namespace) === (l.listenerSet?.namespace ?? gw.namespace) &&
      p.parentRef.name === (l.listenerSet?.name ?? gw.name) &&
      (p.parentRef.sectionName === undefined || p.parentRef.sectionName === l.sectionName),
  );
  const c = mine.map((p) => findCondition(p.conditions, 'ResolvedRefs')).find((x) => x?.status === 'False');
  if (c === undefined) return 'invalid backendRef: requests picked for it get 500';
  return c.message.includes(`${b.ref.namespace}/${b.ref.name}`)
    ? conditionText(c)
    : `invalid backendRef (the route's ResolvedRefs condition: ${conditionText(c)})`;
}
