/** Command-line options of the conformance runner. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface RunnerOptions {
  /** Directory laid out like ../shared/conformance (base/manifests.yaml, cases/<group>/<Case>/case.json). */
  suite: string;
  /** Regex on `<group>/<Case>`. */
  filter?: RegExp;
  statusOnly: boolean;
  /** CIDR the translator allocates Gateway addresses from; the usable static address is taken from it too. */
  addressPool: string;
  /** Print every check's verdict to stderr. */
  verbose: boolean;
}

/** The shared suite sits next to the repository checkout: <repo>/../shared/conformance. */
export const DEFAULT_SUITE = fileURLToPath(new URL('../../../shared/conformance', import.meta.url));
export const DEFAULT_ADDRESS_POOL = '127.0.1.0/24';

export const USAGE = `usage: npm run conformance -- [--suite DIR] [--filter REGEX] [--status-only] [--address-pool CIDR] [--verbose]`;

export function parseRunnerArgs(argv: string[]): RunnerOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      suite: { type: 'string' },
      filter: { type: 'string' },
      'status-only': { type: 'boolean', default: false },
      'address-pool': { type: 'string' },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  });
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}`);
  const opts: RunnerOptions = {
    suite: values.suite !== undefined ? resolve(values.suite) : DEFAULT_SUITE,
    statusOnly: values['status-only'] ?? false,
    addressPool: values['address-pool'] ?? DEFAULT_ADDRESS_POOL,
    verbose: values.verbose ?? false,
  };
  if (values.filter !== undefined) {
    try {
      opts.filter = new RegExp(values.filter);
    } catch (e) {
      throw new Error(`--filter: ${(e as Error).message}`);
    }
  }
  return opts;
}
