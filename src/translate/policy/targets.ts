/**
 * Which objects a policy names: its `targetRefs` (and the deprecated single
 * `targetRef`), always in the policy's own namespace since they carry no
 * namespace, and its `targetSelectors`, which pick objects of a kind by
 * label. A selector looks in the policy's namespace unless its `namespaces`
 * says otherwise (`All`, or namespaces chosen by label); an object in
 * another namespace is then only taken when a ReferenceGrant in that
 * namespace allows the policy kind to refer to it (Envoy Gateway's rule for
 * cross-namespace attachment). Objects a selector finds come first, oldest
 * first; plain references follow, without repeating a selected object.
 */
import type { ObjectMeta } from '../../api/object.ts';
import { ENVOY_GATEWAY_GROUP, GATEWAY_GROUP, type TranslationContext } from '../context.ts';
import { compileSelector, type LabelSelector } from '../label-selector.ts';
import { compareRouteAge } from '../precedence.ts';

export interface TargetRefSpec {
  group: string;
  kind: string;
  name: string;
  sectionName?: string;
}

export interface TargetSelectorSpec extends LabelSelector {
  group?: string;
  kind: string;
  namespaces?: { from: 'Same' | 'All' | 'Selector'; selector?: LabelSelector };
}

/** The targeting part of an Envoy Gateway policy spec. */
export interface PolicyTargets {
  targetRef?: TargetRefSpec;
  targetRefs?: TargetRefSpec[];
  targetSelectors?: TargetSelectorSpec[];
}

/** A policy object as attachment sees it. */
export interface PolicyObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: PolicyTargets;
}

/** One resolved target: an object (and maybe a section of it) in a known namespace. */
export interface PolicyTarget {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  sectionName?: string;
  /** Found by a targetSelector (selectors cannot name a section). */
  selected: boolean;
}

/** An object a selector may pick. */
export interface Candidate {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

export function targetKey(t: Pick<PolicyTarget, 'group' | 'kind' | 'namespace' | 'name' | 'sectionName'>): string {
  return `${t.group}/${t.kind}/${t.namespace}/${t.name}#${t.sectionName ?? ''}`;
}

export function resolveTargets(ctx: TranslationContext, policy: PolicyObject, candidates: Candidate[]): PolicyTarget[] {
  const namespace = policy.metadata.namespace ?? '';
  const selected = selectorTargets(ctx, policy, candidates);
  const out: PolicyTarget[] = [];
  const seen = new Set<string>();
  for (const t of selected) {
    const key = targetKey(t);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(t);
    }
  }
  const refs = policy.spec.targetRefs ?? (policy.spec.targetRef ? [policy.spec.targetRef] : []);
  for (const r of refs) {
    const t: PolicyTarget = { group: r.group, kind: r.kind, namespace, name: r.name, selected: false };
    if (r.sectionName !== undefined && r.sectionName !== '') t.sectionName = r.sectionName;
    const key = targetKey(t);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(t);
    }
  }
  return out;
}

function selectorTargets(ctx: TranslationContext, policy: PolicyObject, candidates: Candidate[]): PolicyTarget[] {
  const policyNamespace = policy.metadata.namespace ?? '';
  const found: Array<{ target: PolicyTarget; meta: ObjectMeta }> = [];
  for (const sel of policy.spec.targetSelectors ?? []) {
    const group = sel.group ?? GATEWAY_GROUP;
    const labels = compileSelector(sel);
    // A malformed selector selects nothing, as Kubernetes' labels.Nothing().
    if ('error' in labels) continue;
    const inNamespace = namespaceFilter(ctx, sel, policyNamespace);
    for (const obj of candidates) {
      if (obj.kind !== sel.kind || groupOf(obj.apiVersion) !== group) continue;
      const namespace = obj.metadata.namespace ?? '';
      if (!inNamespace(namespace) || !labels.matches(obj.metadata.labels ?? {})) continue;
      const granted = ctx.referenceAllowed(
        { group: ENVOY_GATEWAY_GROUP, kind: policy.kind, namespace: policyNamespace },
        { group, kind: obj.kind, namespace, name: obj.metadata.name },
      );
      if (!granted) continue;
      found.push({
        target: { group, kind: obj.kind, namespace, name: obj.metadata.name, selected: true },
        meta: obj.metadata,
      });
    }
  }
  return found
    .sort((a, b) =>
      compareRouteAge(
        { namespace: a.meta.namespace ?? '', name: a.meta.name, creationTimestamp: a.meta.creationTimestamp },
        { namespace: b.meta.namespace ?? '', name: b.meta.name, creationTimestamp: b.meta.creationTimestamp },
      ),
    )
    .map((f) => f.target);
}

function namespaceFilter(
  ctx: TranslationContext,
  sel: TargetSelectorSpec,
  policyNamespace: string,
): (namespace: string) => boolean {
  const ns = sel.namespaces;
  switch (ns?.from ?? 'Same') {
    case 'All':
      return () => true;
    case 'Selector': {
      const compiled = ns?.selector ? compileSelector(ns.selector) : { error: 'no selector' };
      if ('error' in compiled) return () => false;
      return (namespace) => compiled.matches(ctx.namespaceLabels(namespace));
    }
    default:
      return (namespace) => namespace === policyNamespace;
  }
}
