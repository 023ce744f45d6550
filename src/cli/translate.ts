/**
 * `sluice translate --config DIR [--output yaml|json] [--show ir|status|all]`
 *
 * Prints the IR and/or every input resource with the status Sluice computes
 * for it, exactly as the API server would hold it.
 */
import { stringify } from 'yaml';
import { resourcesWithStatus, translate } from '../translate/index.ts';
import { formatProblem } from '../providers/snapshot.ts';
import type { Logger } from '../observability/logger.ts';
import { oneOf, parseFlags } from './args.ts';
import { loadConfigDir } from './load.ts';
import { translateFlags, translateOptionsFrom } from './translate-flags.ts';

export const translateUsage = `Usage: sluice translate --config DIR [--output yaml|json] [--show ir|status|all]
                        [--controller-name NAME] [--address-pool CIDR] [--bind ADDR]`;

export async function runTranslate(argv: string[], log: Logger): Promise<number> {
  const { values } = parseFlags(argv, {
    ...translateFlags,
    output: { type: 'string', short: 'o' },
    show: { type: 'string' },
  });
  const output = oneOf('output', values.output, ['yaml', 'json'] as const, 'yaml');
  const show = oneOf('show', values.show, ['ir', 'status', 'all'] as const, 'all');
  const loaded = await loadConfigDir(values.config, log);
  for (const p of loaded.problems) log.error(formatProblem(p));

  const result = translate(loaded.snapshot, translateOptionsFrom(values));
  const doc: Record<string, unknown> = {};
  if (show !== 'status') doc.ir = result.ir;
  if (show !== 'ir') doc.resources = resourcesWithStatus(loaded.snapshot, result);
  if (loaded.problems.length) doc.problems = loaded.problems.map(formatProblem);
  process.stdout.write(output === 'json' ? JSON.stringify(doc, null, 2) + '\n' : stringify(doc, { lineWidth: 0 }));
  return 0;
}
