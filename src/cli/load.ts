/** Loads `--config DIR` for the subcommands, reporting problems through the logger. */
import { stat } from 'node:fs/promises';
import { loadDirectory, type LoadResult } from '../providers/file/loader.ts';
import { formatProblem } from '../providers/snapshot.ts';
import type { Logger } from '../observability/logger.ts';
import { UsageError } from './args.ts';

/** Checks `--config DIR` names a directory; returns it. */
export async function requireConfigDir(dir: string | undefined): Promise<string> {
  if (!dir) throw new UsageError('--config DIR is required');
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`--config ${dir}: not a directory`);
  return dir;
}

export async function loadConfigDir(dir: string | undefined, log: Logger): Promise<LoadResult> {
  const result = await loadDirectory(await requireConfigDir(dir));
  for (const w of result.warnings) log.warn(formatProblem(w));
  for (const i of result.ignored)
    log.debug(`${i.file}#${i.doc}: ignoring ${i.kind} ${i.name} (a kind Sluice does not read)`);
  return result;
}
