/**
 * Watches a config directory and hands over a fresh load whenever its
 * content really changed.
 *
 * Change detection has three layers, each cheap enough to run often:
 * - `fs.watch` (inotify on Linux, non-recursive) on the directory and every
 *   subdirectory; any event schedules a check after a short debounce, so an
 *   editor's save-as-several-writes is one reload;
 * - a periodic poll (the safety net for filesystems and mounts where events
 *   get lost, e.g. network mounts, or a directory replaced wholesale);
 * - a check hashes the bytes of the config files first and loads only when
 *   that hash moved; after loading it hashes the load result and emits only
 *   when *that* moved (a comment-only edit is no reload).
 *
 * A directory swapped by re-pointing a symlink (git-sync does this to the
 * whole tree) is re-watched once a check sees the new directory's inode;
 * until then, the poll is what notices it.
 *
 * Kubernetes mounts a ConfigMap as `dir/<key> -> ..data/<key>` with
 * `..data -> ..<timestamp>/`, updated by atomically renaming a new `..data`
 * symlink into place. The rename is an event on the top directory and the
 * hash follows symlinks, so the swap is noticed; names starting with `.` are
 * never walked (they would duplicate every file).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import type { LoadResult } from './loader.ts';

export interface ConfigWatcherOptions {
  dir: string;
  /** Loads the directory (the file loader; injected so the watcher stays independent of it). */
  load: (dir: string) => Promise<LoadResult>;
  /**
   * Called with every load whose result differs from the previous one, and
   * the texts of the files as the watcher read them just before loading;
   * awaited before the next check.
   */
  onChange: (result: LoadResult, texts: ReadonlyMap<string, string>) => void | Promise<void>;
  /** A check that failed (the directory vanished, the loader threw). The watcher keeps going. */
  onError?: (err: Error) => void;
  /** Quiet time after the last filesystem event before checking (default 150 ms). */
  debounceMs?: number;
  /** Interval of the safety-net poll (default 5 s). */
  pollMs?: number;
}

const CONFIG_FILE = /\.(ya?ml|json)$/i;

/** A directory to watch; `id` (device and inode) changes when the path is made to point at another directory. */
interface Dir {
  path: string;
  id: string;
}

/** The config files and directories under `dir`, following symlinks (once each) and skipping dot-names. */
async function scan(dir: string): Promise<{ files: string[]; dirs: Dir[] }> {
  const files: string[] = [];
  const top = await stat(dir);
  const dirs: Dir[] = [{ path: dir, id: `${top.dev}:${top.ino}` }];
  const seen = new Set([dirs[0].id]);
  for (let i = 0; i < dirs.length; i++) {
    const names = (await readdir(dirs[i].path)).sort();
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dirs[i].path, name);
      // stat, not lstat: a symlink counts as what it points to (ConfigMap mounts are all symlinks).
      const st = await stat(path).catch(() => undefined);
      const id = `${st?.dev}:${st?.ino}`;
      if (st?.isDirectory() && !seen.has(id)) {
        seen.add(id);
        dirs.push({ path, id });
      } else if (st?.isFile() && CONFIG_FILE.test(name)) files.push(path);
    }
  }
  return { files, dirs };
}

/** The files' texts, keyed as the loader names files (relative, `/`-separated), and a hash over names and bytes. */
async function readFiles(dir: string, files: string[]): Promise<{ hash: string; texts: Map<string, string> }> {
  const h = createHash('sha256');
  const texts = new Map<string, string>();
  for (const f of files) {
    const bytes = await readFile(f).catch(() => undefined);
    const name = relative(dir, f).split(sep).join('/');
    // The name is part of the hash: a rename is a change.
    h.update(name).update('\0');
    h.update(bytes ? String(bytes.length) : '-').update('\0');
    if (!bytes) continue;
    h.update(bytes);
    texts.set(name, bytes.toString('utf8'));
  }
  return { hash: h.digest('hex'), texts };
}

function hashResult(r: LoadResult): string {
  return createHash('sha256')
    .update(JSON.stringify([r.snapshot, r.problems, r.warnings]))
    .digest('hex');
}

export class ConfigWatcher {
  readonly #opts: Required<Omit<ConfigWatcherOptions, 'onError'>> & Pick<ConfigWatcherOptions, 'onError'>;
  readonly #watchers = new Map<string, { watcher: FSWatcher; id: string }>();
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #filesHash = '';
  #resultHash = '';
  /** The check in progress, and whether another one was asked for meanwhile. */
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(opts: ConfigWatcherOptions) {
    this.#opts = { debounceMs: 150, pollMs: 5000, ...opts };
  }

  /**
   * Starts watching and runs the first load, passing it to `onChange` like
   * any other. Resolves once that is done; a failure of the first load is
   * thrown here (and the watcher closed) instead of going to `onError`.
   */
  async start(): Promise<void> {
    const { dirs } = await scan(this.#opts.dir);
    // Watching starts before the first load, so a change made while it runs is not missed.
    this.#watchDirs(dirs);
    this.#poll = setInterval(() => this.#trigger(), this.#opts.pollMs);
    this.#poll.unref();
    let error: Error | undefined;
    this.#running = this.#checkOnce().catch((err: unknown) => {
      error = err instanceof Error ? err : new Error(String(err));
    });
    await this.#running;
    this.#running = undefined;
    if (error !== undefined) {
      this.close();
      throw error;
    }
    if (this.#again) void this.check();
  }

  /**
   * Runs a check now (also what events and the poll do). Resolves when it,
   * and any check asked for while it ran, has finished.
   */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#checkOnce().catch((err: unknown) => this.#opts.onError?.(err as Error));
      } while (this.#again && !this.#closed);
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    for (const w of this.#watchers.values()) w.watcher.close();
    this.#watchers.clear();
  }

  async #checkOnce(): Promise<void> {
    if (this.#closed) return;
    const { files, dirs } = await scan(this.#opts.dir);
    this.#watchDirs(dirs);
    const { hash, texts } = await readFiles(this.#opts.dir, files);
    if (hash === this.#filesHash) return;
    const result = await this.#opts.load(this.#opts.dir);
    // Recorded only after a successful load, so a failed one is retried by the next check.
    this.#filesHash = hash;
    const resultHash = hashResult(result);
    if (resultHash === this.#resultHash || this.#closed) return;
    this.#resultHash = resultHash;
    await this.#opts.onChange(result, texts);
  }

  #trigger(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.check(), this.#opts.debounceMs);
  }

  /** Watches exactly `dirs`: new ones are added, vanished or re-pointed ones dropped (and re-added). */
  #watchDirs(dirs: Dir[]): void {
    const wanted = new Map(dirs.map((d) => [d.path, d.id]));
    for (const [path, w] of this.#watchers) {
      if (wanted.get(path) !== w.id) {
        w.watcher.close();
        this.#watchers.delete(path);
      }
    }
    for (const { path, id } of dirs) {
      if (this.#watchers.has(path) || this.#closed) continue;
      try {
        const watcher = watch(path, { persistent: false }, () => this.#trigger());
        // The directory went away (or inotify gave up): forget it; the next scan re-adds what exists.
        watcher.on('error', () => {
          watcher.close();
          if (this.#watchers.get(path)?.watcher === watcher) this.#watchers.delete(path);
          this.#trigger();
        });
        this.#watchers.set(path, { watcher, id });
      } catch {
        // Vanished between scan and watch; the poll covers it.
      }
    }
  }
}
