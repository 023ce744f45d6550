/**
 * Listener verdicts: every listener of every Gateway (and attached
 * ListenerSet), whether programmed or not, and why it does or does not take
 * the request. The listener that does is the one the data plane's host
 * table picked on a socket (explain.ts); the reasons for the others are the
 * spec's attributes (port, protocol, hostname, address) and the status the
 * translator wrote (not accepted, not programmed, with its message).
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../api/object.ts';
import type { GatewayIR, IR, ListenerIR } from '../ir/types.ts';
import { DEFAULT_BIND_ADDRESS } from '../proxy/compile/compile-config.ts';
import type { CompiledConfig } from './dataplane.ts';
import {
  conditionText,
  conditions,
  findCondition,
  hostnameCovers,
  listenerConditions,
  listenerSpecs,
  record,
  spec,
  statusOf,
  str,
  type ResourceIndex,
} from './resources.ts';
import type { ConditionSummary, ExplainRequest, ListenerVerdict, NamespacedName } from './types.ts';

interface ListenerRecord {
  name: string;
  gateway: NamespacedName;
  listenerSet?: NamespacedName;
  sectionName: string;
  port: number;
  protocol: string;
  hostname?: string;
  ir?: ListenerIR;
  gatewayIR?: GatewayIR;
  /** Conditions of the listener (status.listeners[]) and of its owners. */
  listenerConditions?: ConditionSummary[];
  gatewayObject?: KubeObject;
  listenerSetObject?: KubeObject;
}

export interface ListenerContext {
  ir: IR;
  resources: ResourceIndex;
  compiled: CompiledConfig;
  request: ExplainRequest;
  portOffset: number;
  gateway?: NamespacedName;
  /** IR listener names picked by a socket's host table for this request. */
  chosen: ReadonlySet<string>;
  /** Per IR listener name: the listener picked instead on the same socket. */
  shadowedBy: ReadonlyMap<string, string>;
}

export function listenerVerdicts(ctx: ListenerContext): ListenerVerdict[] {
  return listenerRecords(ctx).map((l) => {
    const reasons = ctx.chosen.has(l.name) ? [] : reasonsAgainst(l, ctx);
    const v: ListenerVerdict = {
      name: l.name,
      gateway: l.gateway,
      ...(l.listenerSet ? { listenerSet: l.listenerSet } : {}),
      sectionName: l.sectionName,
      port: l.port,
      protocol: l.protocol,
      ...(l.hostname !== undefined ? { hostname: l.hostname } : {}),
      verdict: reasons.length === 0 ? 'accepts' : 'rejects',
      reasons,
    };
    return v;
  });
}

/** The IR's listeners, then the ones only the resources know (not programmed, Gateway not ours or not accepted). */
function listenerRecords(ctx: ListenerContext): ListenerRecord[] {
  const out = new Map<string, ListenerRecord>();
  const wanted = (ns: string, name: string): boolean =>
    ctx.gateway === undefined || (ctx.gateway.namespace === ns && ctx.gateway.name === name);
  for (const g of ctx.ir.gateways) {
    if (!wanted(g.namespace, g.name)) continue;
    for (const l of g.listeners) {
      out.set(l.name, {
        name: l.name,
        gateway: { namespace: g.namespace, name: g.name },
        ...(l.listenerSet ? { listenerSet: l.listenerSet } : {}),
        sectionName: l.sectionName,
        port: l.port,
        protocol: l.protocol,
        ...(l.hostname !== undefined ? { hostname: l.hostname } : {}),
        ir: l,
        gatewayIR: g,
      });
    }
  }
  const listenerSets = ctx.resources.ofKind('ListenerSet');
  for (const gw of ctx.resources.ofKind('Gateway')) {
    const ns = gw.metadata.namespace ?? '';
    const gateway = { namespace: ns, name: gw.metadata.name };
    if (!wanted(ns, gateway.name)) continue;
    const gatewayIR = ctx.ir.gateways.find((g) => g.namespace === ns && g.name === gateway.name);
    const owners: Array<{ obj: KubeObject; prefix: string; ls?: NamespacedName }> = [
      { obj: gw, prefix: `${ns}/${gateway.name}` },
    ];
    for (const ls of listenerSets) {
      const parent = record(spec(ls).parentRef);
      const lsNs = ls.metadata.namespace ?? '';
      if (parent?.name !== gateway.name || (parent.namespace ?? lsNs) !== ns) continue;
      const ref = { namespace: lsNs, name: ls.metadata.name };
      owners.push({ obj: ls, prefix: `${ns}/${gateway.name}/${lsNs}/${ref.name}`, ls: ref });
    }
    for (const { obj, prefix, ls } of owners) {
      for (const s of listenerSpecs(obj)) {
        const name = `${prefix}/${s.name}`;
        const rec: ListenerRecord = out.get(name) ?? {
          name,
          gateway,
          ...(ls ? { listenerSet: ls } : {}),
          sectionName: s.name,
          port: s.port,
          protocol: s.protocol,
          ...(s.hostname !== undefined ? { hostname: s.hostname } : {}),
          ...(gatewayIR ? { gatewayIR } : {}),
        };
        rec.gatewayObject = gw;
        if (ls) rec.listenerSetObject = obj;
        const conds = listenerConditions(obj, s.name);
        if (conds) rec.listenerConditions = conds;
        out.set(name, rec);
      }
    }
  }
  return [...out.values()];
}

function reasonsAgainst(l: ListenerRecord, ctx: ListenerContext): string[] {
  const req = ctx.request;
  const reasons: string[] = [];
  reasons.push(...ownerReasons(l, ctx.resources));
  const bound = l.port + ctx.portOffset;
  if (bound !== req.port) {
    const offset = ctx.portOffset === 0 ? '' : ` (bound ${bound})`;
    reasons.push(`port ${l.port}${offset}, the request is for port ${req.port}`);
  }
  const wantProtocol = req.scheme === 'https' ? 'HTTPS' : 'HTTP';
  if (l.protocol !== wantProtocol) {
    reasons.push(`protocol ${l.protocol}, the request is ${req.scheme} (${wantProtocol})`);
  }
  if (!hostnameCovers(l.hostname, req.host)) reasons.push(`hostname ${l.hostname} does not match ${req.host}`);
  const target = req.connectHost.replace(/^\[|\]$/g, '');
  if (isIP(target) !== 0 && l.gatewayIR !== undefined) {
    const addresses = l.gatewayIR.addresses.length > 0 ? l.gatewayIR.addresses : [DEFAULT_BIND_ADDRESS];
    if (!addresses.some((a) => a === target || a === '0.0.0.0' || a === '::')) {
      reasons.push(`Gateway addresses ${addresses.join(', ')} do not include ${target}`);
    }
  }
  reasons.push(...notTrue('listener', l.listenerConditions ?? []));
  if (l.ir !== undefined && l.gatewayIR !== undefined && !servedByDataPlane(l.name, ctx.compiled)) {
    if (l.ir.protocol === 'HTTP' || l.ir.protocol === 'HTTPS') {
      const why = ctx.compiled.errors.filter((e) => e.startsWith(`listener ${l.name}:`));
      reasons.push(`not served by the data plane${why.length ? `: ${why.join('; ')}` : ''}`);
    }
  }
  if (reasons.length === 0) {
    const other = ctx.shadowedBy.get(l.name);
    reasons.push(
      other === undefined
        ? 'not picked on any address and port the request reaches'
        : `listener ${other} on the same address and port has the more specific hostname`,
    );
  }
  return reasons;
}

/** Why the Gateway (or ListenerSet) itself serves nothing, from its status. */
function ownerReasons(l: ListenerRecord, resources: ResourceIndex): string[] {
  if (l.gatewayIR !== undefined && (l.listenerSet === undefined || l.ir !== undefined)) return [];
  const out: string[] = [];
  const gwConds = conditions(statusOf(l.gatewayObject).conditions);
  const accepted = findCondition(gwConds, 'Accepted');
  if (l.gatewayIR === undefined && (accepted === undefined || accepted.reason === 'Pending')) {
    // The API server's default status ("Pending: Waiting for controller"): no controller of ours wrote it.
    out.push(`Gateway not handled by Sluice: ${classProblem(str(spec(l.gatewayObject).gatewayClassName), resources)}`);
  } else if (l.gatewayIR === undefined) {
    out.push(...notTrue('Gateway', gwConds));
  }
  if (l.listenerSetObject !== undefined) {
    const c = findCondition(conditions(statusOf(l.listenerSetObject).conditions), 'Accepted');
    if (c !== undefined && c.status !== 'True') out.push(`ListenerSet not accepted: ${conditionText(c)}`);
  }
  return out;
}

function classProblem(name: string, resources: ResourceIndex): string {
  const cls = resources.get('GatewayClass', undefined, name);
  if (cls === undefined) return `GatewayClass "${name}" does not exist`;
  const controller = str(spec(cls).controllerName);
  return `GatewayClass "${name}" belongs to controller ${controller || '(none)'}`;
}

/** `listener not accepted: R: M`, `… not programmed: …`; one line when both say the same. */
function notTrue(what: string, conds: readonly ConditionSummary[]): string[] {
  const failed = ['Accepted', 'Programmed'].flatMap((type) => {
    const c = findCondition(conds, type);
    return c !== undefined && c.status !== 'True' ? [{ type: type.toLowerCase(), text: conditionText(c) }] : [];
  });
  if (failed.length === 2 && failed[0].text === failed[1].text) {
    return [`${what} neither accepted nor programmed: ${failed[0].text}`];
  }
  return failed.map((f) => `${what} not ${f.type}: ${f.text}`);
}

function servedByDataPlane(name: string, compiled: CompiledConfig): boolean {
  for (const s of compiled.sockets.values()) if (s.listeners.includes(name)) return true;
  return false;
}
