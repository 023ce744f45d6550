/**
 * Test helper: a ResourceSnapshot from inline YAML. Objects go through the
 * same admission (validation + defaults) as the file provider, so tests see
 * what a user's YAML would produce.
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/api/object.ts';
import { buildSnapshot } from '../../src/providers/build-snapshot.ts';
import type { ResourceSnapshot } from '../../src/providers/snapshot.ts';

export function snapshotFromYaml(text: string): ResourceSnapshot {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(doc.errors[0].message);
    const obj = doc.toJS() as KubeObject | null;
    if (!obj) continue;
    obj.metadata.generation ??= 1;
    objects.push(obj);
  }
  return buildSnapshot(objects).snapshot;
}
