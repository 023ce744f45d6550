/**
 * Gateway addresses (`spec.addresses` → `status.addresses` and the IR).
 *
 * - Only the `IPAddress` type is supported; any other type (Hostname,
 *   NamedAddress, vendor types) makes the Gateway Accepted=False
 *   UnsupportedAddress, and a malformed IP makes it Accepted=False Invalid.
 * - A requested IP is *usable* when Sluice can bind it without touching the
 *   host's network configuration: it lies in `options.addressPool`, is a
 *   loopback address (127.0.0.0/8, ::1), is the unspecified address
 *   (0.0.0.0, ::) or equals `options.defaultAddress`. Other IPs are left out
 *   of the status and the Gateway is Programmed=False AddressNotUsable.
 * - A Gateway without addresses, or an entry without a value, gets one
 *   assigned: the next free address of the pool, or `defaultAddress` when
 *   there is no pool. Assignment walks Gateways sorted by namespace/name and
 *   skips addresses some Gateway requests explicitly, so it is stable across
 *   runs. An exhausted or malformed pool is Programmed=False
 *   AddressNotAssigned.
 */
import { isIP } from 'node:net';
import type { Gateway } from '../api/generated/index.ts';
import type { TranslationContext } from './context.ts';
import type { Problem } from './gateway-conditions.ts';

export interface GatewayAddress {
  type: 'IPAddress';
  value: string;
}

export interface AddressResult {
  /** Usable addresses, for `status.addresses` and the IR. */
  addresses: GatewayAddress[];
  /** The addresses make the Gateway not Accepted (UnsupportedAddress, Invalid). */
  notAccepted?: Problem;
  /** Some address could not be used or assigned (AddressNotUsable, AddressNotAssigned). */
  notProgrammed?: Problem;
}

interface IP {
  family: 4 | 6;
  value: bigint;
}

export function parseIP(text: string): IP | undefined {
  const family = isIP(text);
  if (family === 4) return { family, value: text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n) };
  if (family !== 6) return undefined;
  let s = text.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = parseIP(dotted[1])!.value;
    s = `${s.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const value = [...headGroups, ...zeros, ...tailGroups].reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
  return { family: 6, value };
}

/** Canonical text of an address (RFC 5952 for IPv6: lower case, longest zero run as `::`). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  const groups = [...Array(8).keys()].map((i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { start: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.len).join(':')}`;
}

/** A CIDR pool: which addresses it contains and which ones it hands out. */
export class AddressPool {
  readonly #family: 4 | 6;
  readonly #base: bigint;
  readonly #mask: bigint;
  readonly #first: bigint;
  readonly #last: bigint;
  #next: bigint;

  constructor(cidr: string) {
    const [addr, prefixText, extra] = cidr.split('/');
    const ip = addr === undefined ? undefined : parseIP(addr);
    const bits = ip?.family === 4 ? 32 : 128;
    const prefix = Number(prefixText);
    if (!ip || extra !== undefined || !/^\d+$/.test(prefixText ?? '') || prefix > bits) {
      throw new Error(`addressPool ${cidr} is not a valid CIDR`);
    }
    const size = 1n << BigInt(bits - prefix);
    this.#family = ip.family;
    this.#mask = ((1n << BigInt(bits)) - 1n) ^ (size - 1n);
    this.#base = ip.value & this.#mask;
    // IPv4 networks keep their network and broadcast addresses; IPv6 its subnet-router anycast address.
    const skipEnds = ip.family === 4 ? prefix <= 30 : prefix <= 126;
    this.#first = this.#base + (skipEnds ? 1n : 0n);
    this.#last = this.#base + size - 1n - (skipEnds && ip.family === 4 ? 1n : 0n);
    this.#next = this.#first;
  }

  contains(ip: IP): boolean {
    return ip.family === this.#family && (ip.value & this.#mask) === this.#base;
  }

  /** The next address not in `taken`, or undefined when the pool is exhausted. */
  take(taken: Set<string>): string | undefined {
    while (this.#next <= this.#last) {
      const text = formatIP({ family: this.#family, value: this.#next++ });
      if (!taken.has(text)) {
        taken.add(text);
        return text;
      }
    }
    return undefined;
  }
}

interface Requested {
  explicit: Array<{ value: string; ip: IP }>;
  /** Entries with no value: one address to assign each. */
  auto: number;
  notAccepted?: Problem;
}

function requested(gateway: Gateway): Requested {
  const entries = gateway.spec.addresses ?? [];
  if (entries.length === 0) return { explicit: [], auto: 1 };
  const result: Requested = { explicit: [], auto: 0 };
  const unsupported: string[] = [];
  const malformed: string[] = [];
  entries.forEach((entry, i) => {
    const type = entry.type ?? 'IPAddress';
    const value = entry.value ?? '';
    if (type !== 'IPAddress') unsupported.push(`spec.addresses[${i}]: type ${type}`);
    else if (value === '') result.auto++;
    else {
      const ip = parseIP(value);
      if (ip) result.explicit.push({ value, ip });
      else malformed.push(`spec.addresses[${i}]: ${value}`);
    }
  });
  if (unsupported.length) {
    result.notAccepted = {
      reason: 'UnsupportedAddress',
      message: `Unsupported address type (Sluice supports IPAddress only): ${unsupported.join(', ')}`,
    };
  } else if (malformed.length) {
    result.notAccepted = { reason: 'Invalid', message: `Not a valid IP address: ${malformed.join(', ')}` };
  }
  return result;
}

function isLoopbackOrUnspecified(ip: IP): boolean {
  return ip.family === 4 ? ip.value >> 24n === 127n || ip.value === 0n : ip.value === 1n || ip.value === 0n;
}

/** Addresses of every Gateway given (those of accepted classes), keyed by Gateway. */
export function assignAddresses(ctx: TranslationContext, gateways: Gateway[]): Map<Gateway, AddressResult> {
  let pool: AddressPool | undefined;
  let poolError: string | undefined;
  try {
    if (ctx.options.addressPool) pool = new AddressPool(ctx.options.addressPool);
  } catch (err) {
    poolError = (err as Error).message;
  }
  const defaultIP = parseIP(ctx.options.defaultAddress);
  const usable = (ip: IP): boolean =>
    (pool?.contains(ip) ?? false) ||
    isLoopbackOrUnspecified(ip) ||
    (defaultIP !== undefined && defaultIP.family === ip.family && defaultIP.value === ip.value);

  const requests = new Map(gateways.map((g) => [g, requested(g)]));
  // Explicitly requested pool addresses are never handed out to another Gateway.
  const taken = new Set<string>();
  for (const r of requests.values()) for (const e of r.explicit) if (!r.notAccepted) taken.add(formatIP(e.ip));

  const sorted = [...gateways].sort((a, b) => key(a).localeCompare(key(b)));
  const results = new Map<Gateway, AddressResult>();
  for (const gateway of sorted) {
    const r = requests.get(gateway)!;
    if (r.notAccepted) {
      results.set(gateway, { addresses: [], notAccepted: r.notAccepted });
      continue;
    }
    const result: AddressResult = { addresses: [] };
    const unusable = r.explicit.filter((e) => !usable(e.ip)).map((e) => e.value);
    for (const e of r.explicit) if (usable(e.ip)) result.addresses.push({ type: 'IPAddress', value: e.value });
    let unassigned = 0;
    for (let i = 0; i < r.auto; i++) {
      const value = pool ? pool.take(taken) : poolError ? undefined : ctx.options.defaultAddress;
      if (value === undefined) unassigned++;
      else result.addresses.push({ type: 'IPAddress', value });
    }
    if (unusable.length) {
      result.notProgrammed = {
        reason: 'AddressNotUsable',
        message: `Addresses not usable by Sluice (use a loopback address or one from the address pool${
          ctx.options.addressPool ? ` ${ctx.options.addressPool}` : ''
        }): ${unusable.join(', ')}`,
      };
    } else if (unassigned) {
      result.notProgrammed = {
        reason: 'AddressNotAssigned',
        message: poolError ?? `No free address left in the address pool ${ctx.options.addressPool}`,
      };
    }
    results.set(gateway, result);
  }
  return results;
}

function key(g: Gateway): string {
  return `${g.metadata.namespace ?? ''}/${g.metadata.name}`;
}
