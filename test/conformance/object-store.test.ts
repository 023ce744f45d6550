import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../src/api/object.ts';
import type { Admit } from './admission.ts';
import { FakeClock } from './clock.ts';
import { ApiError, MANAGED_BY_LABEL, ObjectStore } from './object-store.ts';
import { performStep } from './steps.ts';
import { loopbackEndpoints } from './endpoints.ts';

/** Admission stand-in: accepts everything except objects labelled reject=yes; Deployments are ignored kinds. */
const admit: Admit = (obj) => {
  const o = obj as KubeObject;
  if (o.metadata.labels?.reject === 'yes')
    return { problems: [{ kind: o.kind, name: o.metadata.name, message: 'nope' }], warnings: [] };
  return { object: o, problems: [], warnings: [], ignored: o.kind === 'Deployment' };
};

function newStore() {
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  return { clock, store: new ObjectStore({ admit, clock }) };
}

const G = 'gateway.networking.k8s.io';
const route = (spec: unknown) => ({
  apiVersion: `${G}/v1`,
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'ns' },
  spec,
});

describe('ObjectStore', () => {
  test('server metadata: uid, increasing creationTimestamps, generation 1, namespace label', () => {
    const { store } = newStore();
    const ns = store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }, {});
    const r = store.apply(route({ a: 1 }), {});
    assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'ns' });
    assert.equal(ns.metadata.creationTimestamp, '2030-01-01T00:00:00Z');
    assert.equal(r.metadata.creationTimestamp, '2030-01-01T00:00:01Z');
    assert.equal(r.metadata.generation, 1);
    assert.notEqual(r.metadata.uid, ns.metadata.uid);
  });
  test('namespaced objects without a namespace land in default', () => {
    const { store } = newStore();
    store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, {});
    assert.ok(store.get({ group: '', kind: 'ConfigMap', namespace: 'default', name: 'c' }));
  });
  test('generation moves only when the spec changes; status and creation time survive updates', () => {
    const { store } = newStore();
    store.apply(route({ a: 1 }), {});
    const key = ObjectStore.key(G, 'HTTPRoute', 'ns', 'r');
    store.writeStatus(key, { parents: [] });
    const ref = { group: G, kind: 'HTTPRoute', namespace: 'ns', name: 'r' };
    const created = store.get(ref)!.metadata.creationTimestamp;
    assert.deepEqual(store.patch(ref, { metadata: { labels: { x: 'y' } } }, {}), { before: 1, after: 1 });
    assert.deepEqual(store.patch(ref, { spec: { a: 2 } }, {}), { before: 1, after: 2 });
    assert.deepEqual(store.patch(ref, { status: { parents: ['x'] } }, {}), { before: 2, after: 2 });
    const r = store.get(ref)!;
    assert.deepEqual(r.status, { parents: [] });
    assert.equal(r.metadata.creationTimestamp, created);
    assert.equal(r.metadata.labels?.x, 'y');
  });
  test('apply versions share one object (group/kind/namespace/name)', () => {
    const { store } = newStore();
    store.apply({ ...route({}), kind: 'TCPRoute', apiVersion: `${G}/v1alpha2` }, {});
    store.apply({ ...route({ b: 1 }), kind: 'TCPRoute', apiVersion: `${G}/v1` }, {});
    assert.equal(store.list().length, 1);
    assert.equal(store.get({ kind: 'TCPRoute', namespace: 'ns', name: 'r' })!.metadata.generation, 2);
  });
  test('rejected objects and missing targets are API errors', () => {
    const { store } = newStore();
    assert.throws(
      () =>
        store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { reject: 'yes' } } }, {}),
      (e: unknown) => e instanceof ApiError && /ConfigMap default\/c rejected: .*nope/.test(e.message),
    );
    assert.throws(() => store.delete({ kind: 'HTTPRoute', namespace: 'ns', name: 'r' }), ApiError);
    assert.throws(() => store.patch({ kind: 'HTTPRoute', namespace: 'ns', name: 'r' }, {}, {}), ApiError);
  });
  test('ignored kinds are stored but not handed to the translator', () => {
    const { store } = newStore();
    store.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' } }, {});
    assert.equal(store.list().length, 1);
    assert.equal(store.admittedObjects().length, 0);
  });
});

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'echo', namespace: 'ns' },
  spec: {
    template: {
      metadata: { labels: { app: 'echo' } },
      spec: { containers: [{ ports: [{ name: 'web', containerPort: 3000 }] }] },
    },
  },
};
const service = (selector?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'svc', namespace: 'ns' },
  spec: {
    ...(selector ? { selector } : {}),
    ports: [
      { name: 'a', port: 8080, targetPort: 3000 },
      { name: 'b', port: 8081, targetPort: 'web', appProtocol: 'kubernetes.io/h2c' },
    ],
  },
});

describe('EndpointSlices', () => {
  test('one managed slice per selected Service, loopback endpoint when a Deployment backs it', () => {
    const { store } = newStore();
    store.apply(deployment, {});
    store.apply(service({ app: 'echo' }), {});
    store.syncEndpointSlices();
    const slices = store.list().filter((o) => o.kind === 'EndpointSlice');
    assert.equal(slices.length, 1);
    assert.equal(slices[0].metadata.labels?.['kubernetes.io/service-name'], 'svc');
    assert.equal(slices[0].metadata.labels?.[MANAGED_BY_LABEL], 'endpointslice-controller.k8s.io');
    assert.deepEqual(slices[0].endpoints, [
      { addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } },
    ]);
    assert.deepEqual(slices[0].ports, [
      { name: 'a', port: 3000, protocol: 'TCP' },
      { name: 'b', port: 3000, protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
    ]);
    const rv = slices[0].metadata.resourceVersion;
    store.syncEndpointSlices();
    assert.equal(
      store.list().find((o) => o.kind === 'EndpointSlice')!.metadata.resourceVersion,
      rv,
      'unchanged slice not rewritten',
    );
  });
  test('no backing Deployment: empty slice; no selector: no slice; deleted Service: slice removed', () => {
    const { store } = newStore();
    store.apply(service({ app: 'other' }), {});
    store.syncEndpointSlices();
    assert.deepEqual(store.list().find((o) => o.kind === 'EndpointSlice')!.endpoints, []);
    store.apply(service(), {});
    store.syncEndpointSlices();
    assert.equal(store.list().filter((o) => o.kind === 'EndpointSlice').length, 0);
  });
  test('fillEndpointSlices fills slices of the matching IP family only', () => {
    const { store, clock } = newStore();
    store.apply(deployment, {});
    for (const [name, addressType] of [
      ['s4', 'IPv4'],
      ['s6', 'IPv6'],
    ])
      store.apply(
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name, namespace: 'ns' },
          addressType,
          ports: [{ port: 3000 }],
        },
        {},
      );
    performStep(
      {
        kind: 'fillEndpointSlices',
        namespace: 'ns',
        endpointSlices: ['s4', 's6'],
        fromBackend: 'echo',
        conditions: { ready: true },
      },
      0,
      { store, clock, endpoints: loopbackEndpoints, where: {} },
    );
    const s4 = store.get({ group: 'discovery.k8s.io', kind: 'EndpointSlice', namespace: 'ns', name: 's4' })!;
    const s6 = store.get({ group: 'discovery.k8s.io', kind: 'EndpointSlice', namespace: 'ns', name: 's6' })!;
    assert.deepEqual(
      (s4.endpoints as { addresses: string[] }[]).map((e) => e.addresses),
      [['127.0.0.1']],
    );
    assert.equal(s6.endpoints, undefined);
    assert.deepEqual(s4.ports, [{ port: 3000 }]);
  });
});

describe('steps', () => {
  test('apply with sleepBeforeSeconds advances the clock instead of sleeping; sleep too', () => {
    const { store, clock } = newStore();
    const ctx = { store, clock, endpoints: loopbackEndpoints, where: {} };
    store.apply(route({}), {});
    performStep({ kind: 'sleep', seconds: 5 }, 0, ctx);
    performStep(
      { kind: 'apply', sleepBeforeSeconds: 1, object: { ...route({}), metadata: { name: 'r2', namespace: 'ns' } } },
      1,
      ctx,
    );
    const t = (n: string) =>
      Date.parse(store.get({ kind: 'HTTPRoute', namespace: 'ns', name: n })!.metadata.creationTimestamp!);
    assert.equal(t('r2') - t('r'), 7000);
  });
  test('patch reports generations for expectGenerationChange; delete removes', () => {
    const { store, clock } = newStore();
    const ctx = { store, clock, endpoints: loopbackEndpoints, where: {} };
    store.apply(route({ a: 1 }), {});
    const target = { apiVersion: `${G}/v1`, kind: 'HTTPRoute', namespace: 'ns', name: 'r' };
    assert.deepEqual(
      performStep({ kind: 'patch', target, mergePatch: { spec: { a: 2 } }, expectGenerationChange: true }, 3, ctx),
      {
        index: 3,
        target: 'HTTPRoute ns/r',
        before: 1,
        after: 2,
      },
    );
    assert.equal(performStep({ kind: 'patch', target, mergePatch: { spec: { a: 3 } } }, 4, ctx), undefined);
    performStep({ kind: 'delete', target }, 5, ctx);
    assert.equal(store.get(target), undefined);
  });
});
