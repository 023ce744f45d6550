/**
 * The config watcher on a real directory, with a stand-in loader (each
 * file's text, comments dropped, becomes one ConfigMap) so these tests do not
 * depend on admission. Every wait is bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { LoadResult } from '../../../src/providers/file/loader.ts';
import { emptySnapshot } from '../../../src/providers/snapshot.ts';
import { ConfigWatcher } from '../../../src/providers/file/watcher.ts';

/** Every non-dot file under `dir` (following symlinks), as `name -> text without # comments`. */
function fakeLoad(dir: string): Promise<LoadResult> {
  const files: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(dir, p)] = readFileSync(p, 'utf8').replace(/#.*$/gm, '').trim();
    }
  };
  walk(dir);
  if (Object.values(files).includes('FAIL')) return Promise.reject(new Error('loader failed'));
  const snapshot = emptySnapshot();
  snapshot.configMaps = Object.entries(files).map(([name, text]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data: { text },
  }));
  return Promise.resolve({
    snapshot,
    problems: [],
    warnings: [],
    ignored: [],
    files: Object.keys(files),
  } as unknown as LoadResult);
}

const contents = (r: LoadResult): Record<string, string> =>
  Object.fromEntries(r.snapshot.configMaps.map((c) => [c.metadata.name, c.data!.text]));

/** A watcher on a fresh temp dir; `next()` resolves with the next emitted load (bounded). */
async function setup(
  t: { after: (fn: () => void) => void },
  files: Record<string, string>,
  opts: { pollMs?: number } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-watch-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const emitted: LoadResult[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  const watcher = new ConfigWatcher({
    dir,
    load: fakeLoad,
    onChange: (r) => {
      emitted.push(r);
      wake?.();
    },
    onError: (e) => {
      errors.push(e);
      wake?.();
    },
    ...opts,
  });
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await watcher.start();
  assert.equal(emitted.length, 1, 'the first load is emitted by start()');
  let seen = emitted.length;
  let seenErrors = 0;
  /** Resolves with the next load emitted (or error reported) after the previous call, within `ms`. */
  const next = async (ms = 1000): Promise<{ load?: LoadResult; error?: Error; ms: number }> => {
    const started = Date.now();
    const deadline = started + ms;
    while (emitted.length === seen && errors.length === seenErrors) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing emitted within ${ms} ms`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, left);
      });
    }
    const out = { ms: Date.now() - started } as { load?: LoadResult; error?: Error; ms: number };
    if (errors.length > seenErrors) out.error = errors[seenErrors++];
    else out.load = emitted[seen++];
    return out;
  };
  return { dir, watcher, emitted, next };
}

test('an edited file is emitted within one second', async (t) => {
  const { dir, next, emitted } = await setup(t, { 'a.yaml': 'one' });
  assert.deepEqual(contents(emitted[0]), { 'a.yaml': 'one' });
  writeFileSync(join(dir, 'a.yaml'), 'two');
  const { load, ms } = await next();
  assert.deepEqual(contents(load!), { 'a.yaml': 'two' });
  assert.ok(ms < 1000, `took ${ms} ms`);
});

test('rewriting the same bytes, or a change the loader does not see (a comment), emits nothing', async (t) => {
  const { dir, watcher, next, emitted } = await setup(t, { 'a.yaml': 'one' });
  writeFileSync(join(dir, 'a.yaml'), 'one');
  await watcher.check();
  writeFileSync(join(dir, 'a.yaml'), 'one # a comment');
  await watcher.check();
  writeFileSync(join(dir, 'a.yaml'), 'three');
  const { load } = await next();
  // The first thing emitted after the no-op writes is the real change.
  assert.deepEqual(contents(load!), { 'a.yaml': 'three' });
  assert.equal(emitted.length, 2);
});

test('a burst of writes is debounced into few loads, ending with the last content', async (t) => {
  const { dir, next, emitted } = await setup(t, { 'a.yaml': 'v0' });
  for (let i = 1; i <= 20; i++) writeFileSync(join(dir, 'a.yaml'), `v${i}`);
  let last = (await next()).load!;
  while (contents(last)['a.yaml'] !== 'v20') last = (await next()).load!;
  assert.ok(emitted.length <= 3, `${emitted.length - 1} loads for one burst`);
});

test('files added in a new subdirectory, and deleted files, are noticed', async (t) => {
  const { dir, watcher, next } = await setup(t, { 'a.yaml': 'a' });
  mkdirSync(join(dir, 'team'));
  // Once a check has seen the subdirectory, a write inside it (no event on the top directory) is noticed.
  await watcher.check();
  writeFileSync(join(dir, 'team', 'b.yaml'), 'b');
  let r = (await next()).load!;
  assert.deepEqual(contents(r), { 'a.yaml': 'a', 'team/b.yaml': 'b' });
  rmSync(join(dir, 'a.yaml'));
  r = (await next()).load!;
  assert.deepEqual(contents(r), { 'team/b.yaml': 'b' });
});

test("a Kubernetes ConfigMap volume's ..data symlink swap is noticed", async (t) => {
  // The layout kubelet writes: key -> ..data/key, ..data -> ..<timestamp>/
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cm-'));
  mkdirSync(join(dir, '..2026_01_01_00_00_00.1'));
  writeFileSync(join(dir, '..2026_01_01_00_00_00.1', 'gw.yaml'), 'old');
  symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'));
  symlinkSync('..data/gw.yaml', join(dir, 'gw.yaml'));
  const emitted: LoadResult[] = [];
  let wake: (() => void) | undefined;
  const watcher = new ConfigWatcher({
    dir,
    load: fakeLoad,
    onChange: (r) => {
      emitted.push(r);
      wake?.();
    },
  });
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await watcher.start();
  assert.deepEqual(contents(emitted[0]), { 'gw.yaml': 'old' });

  const started = Date.now();
  mkdirSync(join(dir, '..2026_01_01_00_01_00.2'));
  writeFileSync(join(dir, '..2026_01_01_00_01_00.2', 'gw.yaml'), 'new');
  symlinkSync('..2026_01_01_00_01_00.2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });
  while (emitted.length < 2 && Date.now() - started < 1000) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 1000);
    });
  }
  assert.equal(emitted.length, 2, 'the swap was not noticed within 1 s');
  assert.deepEqual(contents(emitted[1]), { 'gw.yaml': 'new' });
});

test('a failed load is reported, and the next change loads again', async (t) => {
  const { dir, next } = await setup(t, { 'a.yaml': 'one' });
  writeFileSync(join(dir, 'a.yaml'), 'FAIL');
  const { error } = await next();
  assert.equal(error?.message, 'loader failed');
  writeFileSync(join(dir, 'a.yaml'), 'two');
  const { load } = await next();
  assert.deepEqual(contents(load!), { 'a.yaml': 'two' });
});

test('a config directory re-pointed by its symlink (git-sync style) is noticed by the poll, then watched', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'sluice-swap-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  for (const [d, text] of [
    ['rev1', 'one'],
    ['rev2', 'two'],
  ]) {
    mkdirSync(join(parent, d));
    writeFileSync(join(parent, d, 'a.yaml'), text);
  }
  symlinkSync('rev1', join(parent, 'config'));
  const emitted: LoadResult[] = [];
  const watcher = new ConfigWatcher({
    dir: join(parent, 'config'),
    load: fakeLoad,
    onChange: (r) => void emitted.push(r),
    pollMs: 200,
  });
  t.after(() => watcher.close());
  await watcher.start();

  // The watch is on rev1's inode: re-pointing the symlink fires no event on it.
  symlinkSync('rev2', join(parent, 'config.tmp'));
  renameSync(join(parent, 'config.tmp'), join(parent, 'config'));
  const until = async (n: number, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (emitted.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  await until(2, 2000);
  assert.deepEqual(contents(emitted[1]), { 'a.yaml': 'two' });

  // From now on rev2 is the directory followed.
  writeFileSync(join(parent, 'rev2', 'a.yaml'), 'three');
  await until(3, 1000);
  assert.deepEqual(contents(emitted[2]), { 'a.yaml': 'three' });
});

test('start() fails for a directory that does not exist', async () => {
  const w = new ConfigWatcher({ dir: join(tmpdir(), 'sluice-does-not-exist'), load: fakeLoad, onChange: () => {} });
  await assert.rejects(w.start(), /ENOENT/);
});
