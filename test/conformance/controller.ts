/**
 * One reconcile pass, as Sluice's controller would run against a real API
 * server: endpoint slices settle, the admitted objects become a snapshot,
 * the translator computes status, and the status is written back. The
 * translator is pure and synchronous, so one pass reaches the final state.
 */
import type { KubeObject } from '../../src/api/object.ts';
import { apiGroup, buildSnapshot } from '../../src/providers/build-snapshot.ts';
import { translate, type TranslateResult } from '../../src/translate/index.ts';
import type { FakeClock } from './clock.ts';
import { ObjectStore } from './object-store.ts';

export interface ControllerOptions {
  controllerName: string;
  addressPool: string;
}

export function reconcile(store: ObjectStore, clock: FakeClock, opts: ControllerOptions): TranslateResult {
  store.syncEndpointSlices();
  const objects: KubeObject[] = store.admittedObjects();
  const { snapshot } = buildSnapshot(objects);
  const result = translate(snapshot, {
    controllerName: opts.controllerName,
    addressPool: opts.addressPool,
    now: clock.iso(),
  });
  const written = new Set<string>();
  for (const e of result.status) {
    const key = ObjectStore.key(apiGroup(e.apiVersion), e.kind, e.namespace, e.name);
    store.writeStatus(key, e.status);
    written.add(key);
  }
  // Sluice is the only status writer here and translation is stateless: an object it no longer reports has no status.
  for (const o of objects) {
    const key = ObjectStore.keyOf(o);
    if (o.status !== undefined && !written.has(key)) store.writeStatus(key, undefined);
  }
  return result;
}
