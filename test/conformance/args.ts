/** Command-line options of the conformance runner. */
import { randomInt } from 'node:crypto';
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
  /** Live runs: added to every listener port by `sluice serve` (port 80 → 80 + offset). */
  portOffset: number;
  /** Live runs: data-plane workers of `sluice serve`. */
  workers: number;
  /** Live runs: wait out upstream's full timeouts instead of giving up once a settled gateway keeps failing. */
  patient: boolean;
}

/** The suite sits next to the repository checkout: <repo>/../shared/conformance. */
export const DEFAULT_SUITE = fileURLToPath(new URL('../../../shared/conformance', import.meta.url));
export const DEFAULT_ADDRESS_POOL = '127.0.1.0/24';

export const USAGE = `usage: npm run conformance -- [--suite DIR] [--filter REGEX] [--status-only] [--address-pool CIDR] [--verbose]
                          [--port-offset N] [--workers N] [--patient]
  without --status-only, every case also runs against a live \`sluice serve\` with echo backends
  (default pool: a random 127.x.y.0/24; default port offset: 20000 + random)`;

/**
 * A loopback /24 for live runs, chosen at random so that concurrent runs do
 * not collide; the echo pods take the /24 after it (so y is even and < 254).
 */
export function randomLivePool(): string {
  return `127.${randomInt(2, 252)}.${2 * randomInt(0, 127)}.0/24`;
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

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
      'port-offset': { type: 'string' },
      workers: { type: 'string' },
      patient: { type: 'boolean', default: false },
    },
  });
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}`);
  const statusOnly = values['status-only'] ?? false;
  const opts: RunnerOptions = {
    suite: values.suite !== undefined ? resolve(values.suite) : DEFAULT_SUITE,
    statusOnly,
    addressPool: values['address-pool'] ?? (statusOnly ? DEFAULT_ADDRESS_POOL : randomLivePool()),
    verbose: values.verbose ?? false,
    portOffset: integer('port-offset', values['port-offset'], 20000 + randomInt(0, 10000), 0, 50000),
    workers: integer('workers', values.workers, 1, 1, 16),
    patient: values.patient ?? false,
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
