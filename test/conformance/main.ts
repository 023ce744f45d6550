/**
 * Conformance runner: `npm run conformance -- [--suite DIR] [--filter REGEX] [--status-only]`.
 * One line per case, then `N passed, N failed, N skipped`; exit code 1 when any case failed.
 */
import { parseRunnerArgs, USAGE, type RunnerOptions } from './args.ts';
import { createCaseEnv } from './environment.ts';
import { formatOutcome, summary, type CaseOutcome } from './report.ts';
import { runCase } from './run-case.ts';
import { loadSuite } from './suite.ts';

function main(argv: string[]): number {
  let opts: RunnerOptions;
  try {
    opts = parseRunnerArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const suite = loadSuite(opts.suite);
  const log = opts.verbose ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
  const env = createCaseEnv(opts, suite, log);
  const outcomes: CaseOutcome[] = [];
  try {
    for (const c of suite.cases) {
      if (opts.filter && !opts.filter.test(c.id)) continue;
      const outcome = runCase(c, env);
      outcomes.push(outcome);
      process.stdout.write(`${formatOutcome(outcome)}\n`);
    }
  } finally {
    env.secrets.dispose();
  }
  process.stdout.write(`${summary(outcomes)}\n`);
  return outcomes.some((o) => o.status === 'FAIL') ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
