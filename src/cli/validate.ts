/**
 * `sluice validate --config DIR`: exit 0 when every resource is valid and
 * accepted, else 1 with one line per problem on stdout.
 */
import { formatProblem } from '../providers/snapshot.ts';
import { translate } from '../translate/index.ts';
import type { Logger } from '../observability/logger.ts';
import { parseFlags } from './args.ts';
import { loadConfigDir } from './load.ts';
import { statusProblems } from './status-problems.ts';
import { translateFlags, translateOptionsFrom } from './translate-flags.ts';

export const validateUsage = 'Usage: sluice validate --config DIR [--controller-name NAME] [--address-pool CIDR]';

export async function runValidate(argv: string[], log: Logger): Promise<number> {
  const { values } = parseFlags(argv, translateFlags);
  const loaded = await loadConfigDir(values.config, log);
  const lines = loaded.problems.map(formatProblem);
  lines.push(...statusProblems(translate(loaded.snapshot, translateOptionsFrom(values)).status));
  for (const line of lines) process.stdout.write(line + '\n');
  if (lines.length === 0) {
    const files = loaded.files.length;
    process.stdout.write(`ok: ${files} file${files === 1 ? '' : 's'}, no problems\n`);
  }
  return lines.length ? 1 : 0;
}
