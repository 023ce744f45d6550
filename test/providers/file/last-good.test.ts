/** Per-file last good configuration, through the real loader (admission included). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadObjects, type LoadResult } from '../../../src/providers/file/loader.ts';
import { LastGoodFiles } from '../../../src/providers/file/last-good.ts';

const service = (name: string, port: number): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ports: [{port: ${port}}]
`;

/** Loads `files` as loadDirectory would, returning what the watcher hands over. */
function load(files: Record<string, string>): [LoadResult, Map<string, string>] {
  const entries = Object.entries(files).map(([file, text]) => ({ file, text }));
  return [loadObjects(entries), new Map(Object.entries(files))];
}

function ports(r: { snapshot: LoadResult['snapshot'] }): Record<string, number> {
  return Object.fromEntries(r.snapshot.services.map((s) => [s.metadata.name, s.spec!.ports![0].port]));
}

test('a file with a schema error serves its last good objects; other files change as usual', () => {
  const lg = new LastGoodFiles();
  lg.apply(...load({ 'a.yaml': service('a1', 80) + '---\n' + service('a2', 80), 'b.yaml': service('b', 80) }));
  const [result, texts] = load({
    'a.yaml': service('a1', 81) + '---\n' + service('a2', 70000),
    'b.yaml': service('b', 82),
  });
  assert.ok(result.problems.some((p) => p.file === 'a.yaml'));
  assert.deepEqual(ports(result), { a1: 81, b: 82 }, 'the loader alone would serve half of a.yaml');
  const r = lg.apply(result, texts);
  assert.deepEqual(ports(r), { a1: 80, a2: 80, b: 82 });
  assert.deepEqual(r.kept, ['a.yaml']);
});

test('a YAML syntax error keeps the whole file at its last good version, until it is fixed', () => {
  const lg = new LastGoodFiles();
  lg.apply(...load({ 'a.yaml': service('a', 80) }));
  const r = lg.apply(...load({ 'a.yaml': 'apiVersion: v1\nkind: [unclosed\n' }));
  assert.deepEqual(ports(r), { a: 80 });
  assert.deepEqual(ports(lg.apply(...load({ 'a.yaml': service('a', 90) }))), { a: 90 });
});

test('a file that never loaded cleanly serves its valid documents', () => {
  const r = new LastGoodFiles().apply(...load({ 'a.yaml': service('ok', 80) + '---\n' + service('bad', 70000) }));
  assert.deepEqual(ports(r), { ok: 80 });
  assert.deepEqual(r.kept, []);
});

test('a deleted file is a deletion, and its last good version is forgotten', () => {
  const lg = new LastGoodFiles();
  lg.apply(...load({ 'a.yaml': service('a', 80), 'b.yaml': service('b', 80) }));
  assert.deepEqual(ports(lg.apply(...load({ 'b.yaml': service('b', 80) }))), { b: 80 });
  // It comes back broken: there is nothing to fall back to.
  const r = lg.apply(...load({ 'a.yaml': service('a', 70000), 'b.yaml': service('b', 80) }));
  assert.deepEqual(ports(r), { b: 80 });
});

test('an object moved out of a broken file into a good one is served once, from the good file', () => {
  const lg = new LastGoodFiles();
  lg.apply(...load({ 'a.yaml': service('x', 80) + '---\n' + service('y', 80) }));
  const r = lg.apply(...load({ 'a.yaml': 'kind: [unclosed\n', 'b.yaml': service('x', 99) }));
  assert.deepEqual(ports(r), { x: 99, y: 80 });
});
