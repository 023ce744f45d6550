/**
 * An in-memory stand-in for the API server, one per case: objects pass
 * admission before they are stored, the server fills uid,
 * creationTimestamp (from the fake clock), generation and resourceVersion,
 * and an EndpointSlice "controller" keeps one slice set per selected Service.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Service } from '../../src/api/core.ts';
import { SERVICE_NAME_LABEL } from '../../src/api/core.ts';
import type { KubeObject } from '../../src/api/object.ts';
import { apiGroup } from '../../src/providers/build-snapshot.ts';
import { formatProblem } from '../../src/providers/snapshot.ts';
import type { Admit, Where } from './admission.ts';
import type { FakeClock } from './clock.ts';
import { loopbackEndpoints, selectedDeployments, type EndpointSource } from './endpoints.ts';
import { applyMergePatch, isPlainObject } from './merge-patch.ts';

export interface ObjectRef {
  /** Either apiVersion or group narrows the lookup; without both, kind alone decides. */
  apiVersion?: string;
  group?: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** An API call the server refused (admission problem, not found). */
export class ApiError extends Error {}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'GatewayClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'IngressClass',
]);

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const MANAGED_BY = 'endpointslice-controller.k8s.io';
const SLICE_CONTROLLER: Where = { file: 'endpointslice-controller' };

interface Entry {
  obj: KubeObject;
  ignored: boolean;
}

function describe(r: { kind: string; namespace?: string; name: string }): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** Everything an update can change that counts for metadata.generation: all but metadata and status. */
function generationContent(o: Record<string, unknown>): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

export interface StoreOptions {
  admit: Admit;
  clock: FakeClock;
  endpoints?: EndpointSource;
}

export class ObjectStore {
  readonly #entries = new Map<string, Entry>();
  readonly #admit: Admit;
  readonly #clock: FakeClock;
  readonly #endpoints: EndpointSource;
  /** What the slice controller last wrote per slice, to skip unchanged rewrites (admission adds defaults). */
  readonly #sliceInputs = new Map<string, Record<string, unknown>>();
  #uids = 0;
  #version = 0;

  constructor(opts: StoreOptions) {
    this.#admit = opts.admit;
    this.#clock = opts.clock;
    this.#endpoints = opts.endpoints ?? loopbackEndpoints;
  }

  static key(group: string, kind: string, namespace: string | undefined, name: string): string {
    return `${group}/${kind}/${namespace ?? ''}/${name}`;
  }

  static keyOf(o: KubeObject): string {
    return ObjectStore.key(apiGroup(o.apiVersion), o.kind, o.metadata.namespace, o.metadata.name);
  }

  /** Creates the object or replaces an existing one (keeping its status), as `kubectl apply` would. */
  apply(input: Record<string, unknown>, where: Where): KubeObject {
    const raw = structuredClone(input);
    const meta = isPlainObject(raw.metadata) ? raw.metadata : (raw.metadata = {});
    const kind = typeof raw.kind === 'string' ? raw.kind : '';
    // kubectl puts namespaced objects without a namespace into "default".
    if (!CLUSTER_SCOPED.has(kind) && meta.namespace === undefined) meta.namespace = 'default';
    if (kind === 'Namespace' && typeof meta.name === 'string')
      meta.labels = { ...(isPlainObject(meta.labels) ? meta.labels : {}), 'kubernetes.io/metadata.name': meta.name };
    for (const k of ['uid', 'creationTimestamp', 'generation', 'resourceVersion']) delete meta[k];
    delete raw.status;

    const result = this.#admit(raw, where);
    if (result.problems.length) {
      const what = describe({ kind, namespace: meta.namespace as string, name: String(meta.name) });
      throw new ApiError(`${what} rejected: ${result.problems.map(formatProblem).join('; ')}`);
    }
    const obj = result.object ?? (raw as KubeObject);
    const key = ObjectStore.keyOf(obj);
    const old = this.#entries.get(key);
    if (old) {
      const m = old.obj.metadata;
      const changed = !isDeepStrictEqual(generationContent(old.obj), generationContent(obj));
      obj.metadata = {
        ...obj.metadata,
        uid: m.uid,
        creationTimestamp: m.creationTimestamp,
        generation: (m.generation ?? 1) + (changed ? 1 : 0),
        resourceVersion: String(++this.#version),
      };
      if (old.obj.status !== undefined) obj.status = old.obj.status;
    } else {
      obj.metadata = {
        ...obj.metadata,
        uid: this.#uid(),
        creationTimestamp: this.#clock.tick(),
        generation: 1,
        resourceVersion: String(++this.#version),
      };
    }
    this.#entries.set(key, { obj, ignored: result.ignored === true });
    return obj;
  }

  /** JSON merge patch of an existing object (status cannot be patched through the main resource). */
  patch(ref: ObjectRef, mergePatch: Record<string, unknown>, where: Where): { before: number; after: number } {
    const current = this.get(ref);
    if (!current) throw new ApiError(`${describe(ref)} not found`);
    const before = current.metadata.generation ?? 0;
    const { status: _ignored, ...patch } = mergePatch;
    const next = applyMergePatch(structuredClone(current), patch) as Record<string, unknown>;
    const after = this.apply(next, where).metadata.generation ?? 0;
    return { before, after };
  }

  delete(ref: ObjectRef): void {
    const current = this.get(ref);
    if (!current) throw new ApiError(`${describe(ref)} not found`);
    this.#entries.delete(ObjectStore.keyOf(current));
    // Deleting a namespace removes everything in it.
    if (current.kind === 'Namespace') {
      for (const [k, e] of this.#entries)
        if (e.obj.metadata.namespace === current.metadata.name) this.#entries.delete(k);
    }
  }

  get(ref: ObjectRef): KubeObject | undefined {
    const group = ref.group ?? (ref.apiVersion !== undefined ? apiGroup(ref.apiVersion) : undefined);
    if (group !== undefined) return this.#entries.get(ObjectStore.key(group, ref.kind, ref.namespace, ref.name))?.obj;
    for (const e of this.#entries.values()) {
      const m = e.obj.metadata;
      if (e.obj.kind === ref.kind && m.name === ref.name && (m.namespace ?? '') === (ref.namespace ?? '')) return e.obj;
    }
    return undefined;
  }

  /** Every stored object, in creation order. */
  list(): KubeObject[] {
    return [...this.#entries.values()].map((e) => e.obj);
  }

  /** Deep copies of the objects Sluice reads (what a provider would hand to the translator). */
  admittedObjects(): KubeObject[] {
    return [...this.#entries.values()].filter((e) => !e.ignored).map((e) => structuredClone(e.obj));
  }

  /** Writes an object's status subresource (undefined clears it); generation does not change. */
  writeStatus(key: string, status: Record<string, unknown> | undefined): void {
    const e = this.#entries.get(key);
    if (!e) return;
    if (isDeepStrictEqual(e.obj.status, status)) return;
    if (status === undefined) delete e.obj.status;
    else e.obj.status = structuredClone(status);
    e.obj.metadata.resourceVersion = String(++this.#version);
  }

  /** Brings the managed EndpointSlices in line with Services and Deployments, like kube-controller-manager. */
  syncEndpointSlices(): void {
    const all = this.list();
    const deployments = all.filter((o) => o.kind === 'Deployment' && apiGroup(o.apiVersion) === 'apps');
    const wanted = new Map<string, Record<string, unknown>>();
    for (const svc of all) {
      if (svc.kind !== 'Service' || apiGroup(svc.apiVersion) !== '') continue;
      const service = svc as unknown as Service;
      if (!service.spec?.selector || !Object.keys(service.spec.selector).length) continue;
      const slices = this.#endpoints.slicesFor(service, selectedDeployments(service, deployments));
      slices.forEach((s, i) => {
        const name = `${service.metadata.name}-${i === 0 ? 'auto' : `auto${i}`}`;
        wanted.set(ObjectStore.key('discovery.k8s.io', 'EndpointSlice', service.metadata.namespace, name), {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name,
            namespace: service.metadata.namespace,
            labels: { [SERVICE_NAME_LABEL]: service.metadata.name, [MANAGED_BY_LABEL]: MANAGED_BY },
          },
          addressType: s.addressType,
          endpoints: s.endpoints,
          ports: s.ports,
        });
      });
    }
    for (const [key, e] of this.#entries) {
      if (
        e.obj.kind === 'EndpointSlice' &&
        e.obj.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY &&
        !wanted.has(key)
      )
        this.#entries.delete(key);
    }
    for (const [key, slice] of wanted) {
      if (this.#entries.has(key) && isDeepStrictEqual(this.#sliceInputs.get(key), slice)) continue;
      this.apply(slice, SLICE_CONTROLLER);
      this.#sliceInputs.set(key, slice);
    }
  }

  #uid(): string {
    return `00000000-0000-4000-8000-${(++this.#uids).toString(16).padStart(12, '0')}`;
  }
}
