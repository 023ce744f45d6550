/**
 * The `sluice` command. Subcommands live in their own modules; this file
 * only dispatches and turns failures into one line and an exit code.
 */
import { pathToFileURL } from 'node:url';
import { createLogger, LOG_LEVELS, type LogLevel } from '../observability/logger.ts';
import { UsageError } from './args.ts';
import { explainUsage, runExplain } from './explain.ts';
import { runServe, serveUsage } from './serve.ts';
import { runTranslate, translateUsage } from './translate.ts';
import { runValidate, validateUsage } from './validate.ts';
import { VERSION } from '../version.ts';

const USAGE = `sluice ${VERSION}: a Kubernetes Gateway API gateway

Commands:
  serve       run the gateway: watch a config directory and proxy its traffic
  translate   print the IR and the status of every resource in a config directory
  validate    check a config directory; exit non-zero with one line per problem
  explain     show how one request goes through the gateway: listener, route, filters, backends, and why
  version     print the version

${serveUsage}
${translateUsage}
${validateUsage}
${explainUsage}

Global: --log-level trace|debug|info|warn|error|silent (or SLUICE_LOG_LEVEL)`;

/** `sluice COMMAND --help` prints that command's usage. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  serve: serveUsage,
  translate: translateUsage,
  validate: validateUsage,
  explain: explainUsage,
};

/** Pulls `--log-level X` out of argv wherever it appears. */
function takeLogLevel(argv: string[]): { level: LogLevel; rest: string[] } {
  let level = (process.env.SLUICE_LOG_LEVEL ?? 'info') as LogLevel;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--log-level') level = argv[++i] as LogLevel;
    else if (a.startsWith('--log-level=')) level = a.slice('--log-level='.length) as LogLevel;
    else rest.push(a);
  }
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return { level, rest };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { level, rest } = takeLogLevel(argv);
    const [command, ...args] = rest;
    const usage = command === undefined ? undefined : COMMAND_USAGE[command];
    if (usage !== undefined && args.some((a) => a === '--help' || a === '-h')) {
      process.stdout.write(usage + '\n');
      return 0;
    }
    const log = createLogger(level);
    switch (command) {
      case 'serve':
        return await runServe(args, log, level);
      case 'translate':
        return await runTranslate(args, log);
      case 'validate':
        return await runValidate(args, log);
      case 'explain':
        return await runExplain(args, log);
      case 'version':
      case '--version':
        process.stdout.write(`sluice ${VERSION}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}" (try: sluice help)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
