/** Flags that shape translation, shared by `translate`, `validate` and `serve`. */
import { isIP } from 'node:net';
import { DEFAULT_CONTROLLER_NAME, type TranslateOptions } from '../translate/index.ts';
import { UsageError } from './args.ts';

export const translateFlags = {
  config: { type: 'string', short: 'c' },
  'controller-name': { type: 'string' },
  'address-pool': { type: 'string' },
  bind: { type: 'string' },
} as const;

export function translateOptionsFrom(values: {
  'controller-name'?: string | undefined;
  'address-pool'?: string | undefined;
  bind?: string | undefined;
}): Partial<TranslateOptions> {
  const opts: Partial<TranslateOptions> = { controllerName: values['controller-name'] ?? DEFAULT_CONTROLLER_NAME };
  const pool = values['address-pool'];
  if (pool !== undefined) {
    const [addr, bits] = pool.split('/');
    const max = isIP(addr ?? '') === 4 ? 32 : isIP(addr ?? '') === 6 ? 128 : 0;
    const n = Number(bits);
    if (!max || bits === undefined || !Number.isInteger(n) || n < 0 || n > max) {
      throw new UsageError(`--address-pool ${pool}: not a CIDR (e.g. 127.0.1.0/24)`);
    }
    opts.addressPool = pool;
  }
  if (values.bind !== undefined) {
    if (!isIP(values.bind)) throw new UsageError(`--bind ${values.bind}: not an IP address`);
    opts.defaultAddress = values.bind;
  }
  return opts;
}
