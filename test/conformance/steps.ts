/**
 * Step kinds (TRANSPORT-KINDS.md 5, EXTRA-KINDS.md 8): they change the
 * store between checks and fail only when the API call would fail.
 * Sleeps advance the fake clock instead of waiting.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Endpoint } from '../../src/api/core.ts';
import type { Where } from './admission.ts';
import type { FillEndpointSlicesStep, Step } from './case-types.ts';
import type { FakeClock } from './clock.ts';
import type { EndpointSource } from './endpoints.ts';
import { ApiError, type ObjectStore } from './object-store.ts';
import { resolveCopyFrom } from './placeholders.ts';

export interface StepContext {
  store: ObjectStore;
  clock: FakeClock;
  endpoints: EndpointSource;
  /** Reported with admission problems, e.g. `cases/http/X/case.json#5`. */
  where: Where;
}

/** A patch whose generation must have changed by the end of the case. */
export interface GenerationExpectation {
  index: number;
  target: string;
  before: number;
  after: number;
}

export function performStep(step: Step, index: number, ctx: StepContext): GenerationExpectation | undefined {
  const { store } = ctx;
  const lookup = (ref: { kind: string; namespace?: string; name: string }) => store.get({ group: '', ...ref });
  switch (step.kind) {
    case 'apply':
      ctx.clock.advance(step.sleepBeforeSeconds ?? 0);
      store.apply(resolveCopyFrom(step.object, lookup), ctx.where);
      return undefined;
    case 'patch': {
      const { before, after } = store.patch(step.target, resolveCopyFrom(step.mergePatch, lookup), ctx.where);
      if (!step.expectGenerationChange) return undefined;
      const t = step.target;
      return { index, target: `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`, before, after };
    }
    case 'delete':
      store.delete(step.target);
      return undefined;
    case 'sleep':
      ctx.clock.advance(step.seconds);
      return undefined;
    case 'fillEndpointSlices':
      fillEndpointSlices(step, ctx);
      return undefined;
  }
}

function fillEndpointSlices(step: FillEndpointSlicesStep, ctx: StepContext): void {
  const { store } = ctx;
  const deployment = store.get({
    group: 'apps',
    kind: 'Deployment',
    namespace: step.namespace,
    name: step.fromBackend,
  });
  if (!deployment) throw new ApiError(`Deployment ${step.namespace}/${step.fromBackend} not found`);
  const addresses = ctx.endpoints.addressesOf(deployment);
  const conditions = step.conditions ?? { ready: true, serving: true, terminating: false };
  for (const sliceName of step.endpointSlices) {
    const ref = { group: 'discovery.k8s.io', kind: 'EndpointSlice', namespace: step.namespace, name: sliceName };
    const slice = store.get(ref);
    if (!slice) throw new ApiError(`EndpointSlice ${step.namespace}/${sliceName} not found`);
    const family = slice.addressType === 'IPv6' ? isIPv6 : isIPv4;
    const matching = addresses.filter((a) => family(a));
    if (!matching.length) continue; // no process of this family: the slice stays as written
    const endpoints: Endpoint[] = matching.map((a, i) => ({
      addresses: [a],
      conditions,
      targetRef: { kind: 'Pod', namespace: step.namespace, name: `${step.fromBackend}-pod-${i}` },
    }));
    const copy = structuredClone(slice);
    const mapPort = ctx.endpoints.mapPort?.bind(ctx.endpoints);
    if (mapPort && Array.isArray(copy.ports))
      copy.ports = (copy.ports as { port?: number }[]).map((p) =>
        typeof p.port === 'number' ? { ...p, port: mapPort(deployment, p.port) } : p,
      );
    store.apply({ ...copy, endpoints }, ctx.where);
  }
}
