/**
 * The dashboard page's files: a fixed list (no path from the request ever
 * reaches the file system), read once and kept in memory. The page's own
 * files live in ./static/ beside this module's source; `tsc` does not copy
 * them to dist/, so a build run from dist/ finds them in the package's src/.
 * uPlot comes from node_modules, resolved like an import: nothing is
 * fetched from a CDN.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The page's directory: ./static/ beside this module, else src/admin/dashboard/static/ of the package. */
export function staticDir(): string {
  const candidates = [
    fileURLToPath(new URL('./static/', import.meta.url)),
    // dist/admin/dashboard/ and src/admin/dashboard/ are both three levels below the package root.
    fileURLToPath(new URL('../../../src/admin/dashboard/static/', import.meta.url)),
  ];
  const dir = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (dir === undefined) throw new Error(`dashboard files not found (looked in ${candidates.join(', ')})`);
  return dir;
}

const require = createRequire(import.meta.url);

/** URL path under /dashboard/ → [file, content type]. */
function files(): Record<string, [string, string]> {
  const dir = staticDir();
  return {
    '': [join(dir, 'index.html'), 'text/html; charset=utf-8'],
    'app.js': [join(dir, 'app.js'), 'text/javascript; charset=utf-8'],
    'style.css': [join(dir, 'style.css'), 'text/css; charset=utf-8'],
    'vendor/uPlot.esm.js': [require.resolve('uplot/dist/uPlot.esm.js'), 'text/javascript; charset=utf-8'],
    'vendor/uPlot.min.css': [require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  };
}

let table: Record<string, [string, string]> | undefined;
const cache = new Map<string, StaticFile>();

/** The file at `/dashboard/<name>`, or undefined. */
export function staticFile(name: string): StaticFile | undefined {
  table ??= files();
  if (!Object.hasOwn(table, name)) return undefined;
  let f = cache.get(name);
  if (f === undefined) {
    const [path, type] = table[name];
    f = { type, body: readFileSync(path) };
    cache.set(name, f);
  }
  return f;
}
