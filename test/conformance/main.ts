/**
 * Conformance runner: `npm run conformance -- [--suite DIR] [--filter REGEX] [--status-only] ...`.
 * With --status-only each case is judged against the translator alone;
 * otherwise against a live `sluice serve` with echo backends (traffic too).
 * One line per case, then `N passed, N failed, N skipped`; exit code 1 when any case failed.
 */
import { parseRunnerArgs, USAGE, type RunnerOptions } from './args.ts';
import { createCaseEnv } from './environment.ts';
import { runLiveCase } from './live-case.ts';
import { createLiveRun, type LiveRun } from './live-env.ts';
import { formatOutcome, summary, type CaseOutcome } from './report.ts';
import { runCase } from './run-case.ts';
import { loadSuite } from './suite.ts';

async function main(argv: string[]): Promise<number> {
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
  let live: LiveRun | undefined;
  const outcomes: CaseOutcome[] = [];
  try {
    if (!opts.statusOnly) {
      live = createLiveRun(opts, env.controllerName, log, () => env.secrets.dispose());
      env.endpoints = live.fleet;
    }
    for (const c of suite.cases) {
      if (opts.filter && !opts.filter.test(c.id)) continue;
      const started = Date.now();
      const outcome = live ? await runLiveCase(c, env, live) : runCase(c, env);
      outcomes.push(outcome);
      process.stdout.write(`${formatOutcome(outcome)}\n`);
      log?.(`  ${c.id}: ${Date.now() - started} ms`);
    }
  } finally {
    env.secrets.dispose();
    await live?.close();
  }
  process.stdout.write(`${summary(outcomes)}\n`);
  return outcomes.some((o) => o.status === 'FAIL') ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
