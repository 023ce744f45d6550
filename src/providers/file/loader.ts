/**
 * The file provider's loader: every *.yaml, *.yml and *.json under a
 * directory, admitted as the API server would, into one ResourceSnapshot.
 * A bad document is a problem for that document only; the rest loads.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { admitObject } from '../../api/validation/index.ts';
import type { KubeObject } from '../../api/object.ts';
import { objectKey } from '../../api/object.ts';
import { apiGroup, buildSnapshot } from '../build-snapshot.ts';
import type { LoadProblem, ResourceSnapshot } from '../snapshot.ts';
import { parseDocuments } from './parse.ts';

export interface IgnoredObject {
  file: string;
  doc: number;
  kind: string;
  name: string;
}

export interface LoadResult {
  snapshot: ResourceSnapshot;
  problems: LoadProblem[];
  warnings: LoadProblem[];
  ignored: IgnoredObject[];
  /** Files read, relative to the directory, in load order. */
  files: string[];
}

export interface SourceText {
  text: string;
  /** Name used in problems (relative to the config dir); `.json` selects JSON parsing. */
  file: string;
}

const CONFIG_FILE = /\.(?:ya?ml|json)$/i;

/** The API server takes 3 MiB per object; a file far beyond any sane config is refused unread. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

function withItemPath(p: LoadProblem, item: number | undefined): LoadProblem {
  if (item === undefined) return p;
  return { ...p, path: p.path ? `items[${item}].${p.path}` : `items[${item}]` };
}

function nameOf(value: unknown): string {
  const meta = (value as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '';
  return typeof meta?.namespace === 'string' && meta.namespace ? `${meta.namespace}/${name}` : name;
}

/** Loads config from in-memory texts, exactly as loadDirectory loads files. */
export function loadObjects(entries: readonly SourceText[]): LoadResult {
  const problems: LoadProblem[] = [];
  const warnings: LoadProblem[] = [];
  const ignored: IgnoredObject[] = [];
  const objects: KubeObject[] = [];
  /** `group/kind/namespace/name` → where it was first defined. */
  const seen = new Map<string, string>();

  for (const { text, file } of entries) {
    const parsed = parseDocuments(text, file);
    problems.push(...parsed.problems);
    warnings.push(...parsed.warnings);
    for (const { value, doc, item } of parsed.documents) {
      const admitted = admitObject(value, { file, doc });
      problems.push(...admitted.problems.map((p) => withItemPath(p, item)));
      warnings.push(...admitted.warnings.map((p) => withItemPath(p, item)));
      if (admitted.ignored) {
        const v = value as { kind: string };
        ignored.push({ file, doc, kind: v.kind, name: nameOf(value) });
        continue;
      }
      const obj = admitted.object;
      if (!obj) continue;
      const key = `${apiGroup(obj.apiVersion)}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
      const here = item === undefined ? `${file}#${doc}` : `${file}#${doc} items[${item}]`;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push(
          withItemPath(
            {
              file,
              doc,
              kind: obj.kind,
              name: objectKey(obj),
              message: `duplicate ${obj.kind} ${objectKey(obj)}: already defined in ${first}`,
            },
            item,
          ),
        );
        continue;
      }
      seen.set(key, here);
      objects.push(obj);
    }
  }
  const { snapshot } = buildSnapshot(objects);
  return { snapshot, problems, warnings, ignored, files: entries.map((e) => e.file) };
}

function toSlash(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/**
 * Config files under `root`, sorted by relative path, skipping dot-files and dot-directories.
 * Symlinks are followed: a kubelet-mounted ConfigMap is `name -> ..data/name`
 * with `..data -> ..<timestamp>/`, so each file is read once under its own
 * name while the hidden timestamped copies are skipped.
 */
async function listConfigFiles(root: string): Promise<{ files: string[]; problems: LoadProblem[] }> {
  const files: string[] = [];
  const problems: LoadProblem[] = [];
  const visited = new Set<string>();
  async function walk(dir: string): Promise<void> {
    const real = await realpath(dir);
    if (visited.has(real)) return; // a symlink loop
    visited.add(real);
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.'));
    for (const name of names) {
      const full = join(dir, name);
      let info;
      try {
        info = await stat(full);
      } catch (e) {
        problems.push({ file: toSlash(relative(root, full)), message: `cannot read: ${(e as Error).message}` });
        continue;
      }
      if (info.isDirectory()) await walk(full);
      else if (info.isFile() && CONFIG_FILE.test(name)) files.push(full);
    }
  }
  await walk(root);
  const rel = (f: string): string => toSlash(relative(root, f));
  files.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0));
  return { files, problems };
}

/** Loads every config file under `dir`. Throws only when `dir` itself is missing or not a directory. */
export async function loadDirectory(dir: string): Promise<LoadResult> {
  let info;
  try {
    info = await stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `config directory not found: ${dir}`
        : `cannot read config directory ${dir}: ${(e as Error).message}`,
    );
  }
  if (!info.isDirectory()) throw new Error(`config path is not a directory: ${dir}`);

  const listed = await listConfigFiles(dir);
  const entries: SourceText[] = [];
  const readProblems: LoadProblem[] = [...listed.problems];
  for (const full of listed.files) {
    const file = toSlash(relative(dir, full));
    try {
      const size = (await stat(full)).size;
      if (size > MAX_FILE_BYTES) {
        readProblems.push({
          file,
          message: `file is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit; not loaded`,
        });
        continue;
      }
      entries.push({ file, text: await readFile(full, 'utf8') });
    } catch (e) {
      readProblems.push({ file, message: `cannot read: ${(e as Error).message}` });
    }
  }
  const result = loadObjects(entries);
  result.problems.unshift(...readProblems);
  return result;
}
