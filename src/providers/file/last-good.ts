/**
 * "A broken change is reported and the last good configuration keeps
 * serving", decided per file: a file with any load problem (bad YAML, a
 * schema or CEL violation, a duplicate, unreadable) contributes the objects
 * it had the last time it loaded cleanly instead of whatever part of it
 * still loads. Changes to the other files go live as usual.
 *
 * Per file, because a file is what a user edits and saves: half a saved
 * file is never served (a Service without its EndpointSlice, a Gateway
 * without the listener just mistyped), and one broken file does not hold
 * back every other change. A file that never loaded cleanly has nothing to
 * fall back to, so its valid documents serve (as `sluice translate` shows
 * them). A deleted file is a deletion, not a failure.
 *
 * The loader does not say which file each object came from, so this keeps
 * the text of every file as it last loaded cleanly, and re-admits a file on
 * its own (the loader's `loadObjects`) only when it is broken: the cost is
 * paid on the error path only.
 */
import type { KubeObject } from '../../api/object.ts';
import { apiGroup, buildSnapshot } from '../build-snapshot.ts';
import type { ResourceSnapshot } from '../snapshot.ts';
import { loadObjects, type LoadResult } from './loader.ts';

export interface LastGoodResult {
  snapshot: ResourceSnapshot;
  /** Files served at their last good version. */
  kept: string[];
}

function identity(o: KubeObject): string {
  return `${apiGroup(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function objectsOf(snapshot: ResourceSnapshot): KubeObject[] {
  return (Object.values(snapshot) as KubeObject[][]).flat();
}

export class LastGoodFiles {
  /** File → its text when it last loaded without problems. */
  readonly #good = new Map<string, string>();

  /** `texts`: the files of `result` as read for it (relative names, as in problems). */
  apply(result: LoadResult, texts: ReadonlyMap<string, string>): LastGoodResult {
    const broken = new Set(result.problems.flatMap((p) => (p.file !== undefined ? [p.file] : [])));
    // Gone is neither read nor reported: an unreadable file is broken, not deleted.
    for (const file of this.#good.keys()) if (!texts.has(file) && !broken.has(file)) this.#good.delete(file);
    for (const [file, text] of texts) if (!broken.has(file)) this.#good.set(file, text);

    const kept = [...broken].filter((f) => this.#good.has(f)).sort();
    if (!kept.length) return { snapshot: result.snapshot, kept };

    const partial = new Set<string>();
    const fallback: KubeObject[] = [];
    for (const file of kept) {
      const now = texts.get(file);
      if (now !== undefined)
        for (const o of objectsOf(loadObjects([{ file, text: now }]).snapshot)) partial.add(identity(o));
      fallback.push(...objectsOf(loadObjects([{ file, text: this.#good.get(file)! }]).snapshot));
    }
    const objects = objectsOf(result.snapshot).filter((o) => !partial.has(identity(o)));
    // An object moved out of a now-broken file into a good one exists twice: the fresh copy wins.
    const fresh = new Set(objects.map(identity));
    objects.push(...fallback.filter((o) => !fresh.has(identity(o))));
    return { snapshot: buildSnapshot(objects).snapshot, kept };
  }
}
