/**
 * Test helper: a ResourceSnapshot from inline YAML. Objects go through the
 * same admission (validation + defaults) as the file provider, so tests see
 * what a user's YAML would produce; an object that fails admission fails
 * the test (use loadObjects directly to test rejections).
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/api/object.ts';
import { buildSnapshot } from '../../src/providers/build-snapshot.ts';
import { loadObjects } from '../../src/providers/file/loader.ts';
import { formatProblem, type ResourceSnapshot } from '../../src/providers/snapshot.ts';

export function snapshotFromYaml(text: string): ResourceSnapshot {
  const loaded = loadObjects([{ text, file: 'inline.yaml' }]);
  if (loaded.problems.length) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  return loaded.snapshot;
}

/**
 * A snapshot that skips admission: for translator tests of objects the
 * current CRDs reject but a cluster can still hold (admitted under an older
 * CRD version, or written before a CEL rule existed). The translator must
 * handle them gracefully too.
 */
export function unadmittedSnapshotFromYaml(text: string): ResourceSnapshot {
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
