/**
 * Policies on the request's path: what the IR carries that a policy sets
 * (listener TLS settings and PROXY protocol, backend TLS and PROXY
 * protocol), and every policy object whose targetRefs name the Gateway,
 * the listener, the route or a backend of this request. An object of a kind
 * whose effect the IR does not carry is listed as not applied, so users see
 * that it targets the path; as translation grows, effects move to `irEffects`.
 */
import type { KubeObject } from '../api/object.ts';
import type { GatewayIR, HTTPRouteIR, ListenerIR, WeightedBackendIR } from '../ir/types.ts';
import { array, conditions, record, spec, statusOf, str, type ResourceIndex } from './resources.ts';
import type { ConditionSummary, PolicyExplanation } from './types.ts';

type At = PolicyExplanation['at'];

interface Target {
  at: At;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  /** Listener name, route rule name, or Service port name. */
  sections: string[];
  label: string;
  backend?: WeightedBackendIR;
}

interface Effect {
  at: At;
  target: string;
  /** Policy kinds that produce it. */
  from: string[];
  text: string;
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export function explainPolicies(
  gw: GatewayIR,
  l: ListenerIR,
  r: HTTPRouteIR,
  resources: ResourceIndex,
): PolicyExplanation[] {
  const targets = pathTargets(gw, l, r);
  const effects = irEffects(l, r);
  const out: PolicyExplanation[] = [];
  for (const policy of policyObjects(resources)) {
    for (const t of targets) {
      if (!targetsIt(policy, t)) continue;
      const mine = effects.filter((e) => e.from.includes(policy.kind) && e.at === t.at && e.target === t.label);
      for (const e of mine) effects.splice(effects.indexOf(e), 1);
      out.push({
        at: t.at,
        target: t.label,
        policy: { kind: policy.kind, namespace: policy.metadata.namespace ?? '', name: policy.metadata.name },
        effect: mine.length
          ? mine.map((e) => e.text).join('; ')
          : `no effect in the IR (Sluice does not apply ${policy.kind} here yet)`,
        applied: mine.length > 0,
        conditions: ancestorConditions(policy, gw),
      });
    }
  }
  // Settings the IR carries whose policy object is not among the resources (or of a kind not known here).
  for (const e of effects) out.push({ at: e.at, target: e.target, effect: e.text, applied: true, conditions: [] });
  return out;
}

function pathTargets(gw: GatewayIR, l: ListenerIR, r: HTTPRouteIR): Target[] {
  const gwLabel = `Gateway ${gw.namespace}/${gw.name}`;
  const out: Target[] = [
    {
      at: 'gateway',
      group: GATEWAY_GROUP,
      kind: 'Gateway',
      namespace: gw.namespace,
      name: gw.name,
      sections: [],
      label: gwLabel,
    },
    {
      at: 'listener',
      group: GATEWAY_GROUP,
      kind: 'Gateway',
      namespace: gw.namespace,
      name: gw.name,
      sections: [l.sectionName],
      label: `listener ${l.name}`,
    },
    {
      at: 'route',
      group: GATEWAY_GROUP,
      kind: r.route.kind,
      namespace: r.route.namespace,
      name: r.route.name,
      sections: r.ruleName !== undefined ? [r.ruleName] : [],
      label: `${r.route.kind} ${r.route.namespace}/${r.route.name}`,
    },
  ];
  for (const b of r.backends) {
    const group = b.ref.kind === 'Service' ? '' : 'gateway.envoyproxy.io';
    out.push({
      at: 'backend',
      group,
      kind: b.ref.kind,
      namespace: b.ref.namespace,
      name: b.ref.name,
      sections: [],
      label: b.name,
      backend: b,
    });
  }
  return out;
}

function irEffects(l: ListenerIR, r: HTTPRouteIR): Effect[] {
  const out: Effect[] = [];
  const listener = `listener ${l.name}`;
  const s = l.tls?.settings;
  if (s !== undefined) {
    const parts = [
      s.minVersion !== undefined ? `min TLS ${s.minVersion}` : '',
      s.maxVersion !== undefined ? `max TLS ${s.maxVersion}` : '',
      s.ciphers?.length ? `ciphers ${s.ciphers.join(':')}` : '',
      s.alpnProtocols?.length ? `ALPN ${s.alpnProtocols.join(',')}` : '',
    ].filter((p) => p !== '');
    out.push({
      at: 'listener',
      target: listener,
      from: ['ClientTrafficPolicy'],
      text: `TLS settings: ${parts.join(', ') || 'as given'}`,
    });
  }
  if (l.enableProxyProtocol === true) {
    out.push({
      at: 'listener',
      target: listener,
      from: ['ClientTrafficPolicy'],
      text:
        l.proxyProtocolOptional === true
          ? 'a PROXY protocol header from clients is read when present (optional)'
          : 'clients must send a PROXY protocol header',
    });
  }
  for (const b of r.backends) {
    if (b.tls !== undefined) {
      const ca = b.tls.systemCAs ? 'system CAs' : `${b.tls.caPems.length} CA certificate(s)`;
      out.push({
        at: 'backend',
        target: b.name,
        from: ['BackendTLSPolicy'],
        text: b.tls.insecureSkipVerify
          ? `TLS to the backend: SNI ${b.tls.sni}, certificate not verified (insecureSkipVerify)`
          : `TLS to the backend: SNI ${b.tls.sni}, verified with ${ca}`,
      });
    }
    if (b.proxyProtocol !== undefined) {
      out.push({
        at: 'backend',
        target: b.name,
        from: ['BackendTrafficPolicy'],
        text: `PROXY protocol ${b.proxyProtocol.version} towards the backend`,
      });
    }
  }
  return out;
}

/** Kinds named `*Policy` in the Gateway API and Envoy Gateway groups. */
function policyObjects(resources: ResourceIndex): KubeObject[] {
  return resources
    .all()
    .filter(
      (o) => o.kind.endsWith('Policy') && /(gateway\.networking\.k8s\.io|gateway\.envoyproxy\.io)\//.test(o.apiVersion),
    );
}

function targetsIt(policy: KubeObject, t: Target): boolean {
  if ((policy.metadata.namespace ?? '') !== t.namespace) return false;
  const s = spec(policy);
  const refs = [...array(s.targetRefs), ...(s.targetRef !== undefined ? [s.targetRef] : [])];
  return refs.some((x) => {
    const ref = record(x);
    if (ref?.kind !== t.kind || ref.name !== t.name || str(ref.group) !== t.group) return false;
    const section = typeof ref.sectionName === 'string' ? ref.sectionName : undefined;
    if (t.at === 'gateway') return section === undefined;
    if (t.at === 'listener') return section !== undefined && t.sections.includes(section);
    return section === undefined || t.sections.includes(section) || t.at === 'backend';
  });
}

/** The policy's conditions for this Gateway (`status.ancestors[]`), else its own. */
function ancestorConditions(policy: KubeObject, gw: GatewayIR): ConditionSummary[] {
  const status = statusOf(policy);
  for (const a of array(status.ancestors)) {
    const ref = record(record(a)?.ancestorRef);
    if (ref?.name === gw.name && (ref.namespace ?? policy.metadata.namespace) === gw.namespace) {
      return conditions(record(a)?.conditions);
    }
  }
  return conditions(status.conditions);
}
