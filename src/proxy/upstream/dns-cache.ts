/**
 * DNS for FQDN endpoints. Resolution happens only when a new upstream
 * connection is opened (keep-alive makes that rare), through a `lookup`
 * function handed to `net.connect`; answers are reused for a TTL and their
 * order rotates so that new connections spread over the addresses.
 */
import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (
  hostname: string,
  options: LookupOneOptions | LookupAllOptions,
  cb: LookupCallback,
) => void;

interface Entry {
  addresses: LookupAddress[];
  expires: number;
  next: number;
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Array<(err: NodeJS.ErrnoException | null, e?: Entry) => void>>();

  constructor(private readonly ttlMs: number) {}

  /** A `lookup` for `net.connect`/`http2.connect` options. */
  readonly lookup: LookupFunction = (hostname, options, cb) => {
    const f = typeof options === 'object' && options !== null ? options.family : 0;
    const family = f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : (f ?? 0);
    const all = typeof options === 'object' && options !== null && options.all === true;
    const key = `${family}|${hostname}`;
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expires > Date.now()) {
      // net.connect attaches its listeners after calling lookup: answer asynchronously.
      process.nextTick(answer, entry, all, cb);
      return;
    }
    this.resolve(key, hostname, family, (err, e) => {
      if (err !== null || e === undefined) cb(err ?? new Error(`no address for ${hostname}`), '', 0);
      else answer(e, all, cb);
    });
  };

  private resolve(
    key: string,
    hostname: string,
    family: number,
    done: (err: NodeJS.ErrnoException | null, e?: Entry) => void,
  ): void {
    const waiting = this.pending.get(key);
    if (waiting !== undefined) {
      waiting.push(done);
      return;
    }
    const list = [done];
    this.pending.set(key, list);
    dns.lookup(hostname, { all: true, family }, (err, addresses) => {
      this.pending.delete(key);
      let entry: Entry | undefined;
      if (err === null && addresses.length > 0) {
        entry = { addresses, expires: Date.now() + this.ttlMs, next: 0 };
        this.entries.set(key, entry);
      }
      for (const d of list) d(err, entry);
    });
  }
}

function answer(e: Entry, all: boolean, cb: LookupCallback): void {
  const n = e.addresses.length;
  const start = e.next++ % n;
  if (all) {
    cb(null, start === 0 ? e.addresses : [...e.addresses.slice(start), ...e.addresses.slice(0, start)]);
  } else {
    const a = e.addresses[start];
    cb(null, a.address, a.family);
  }
}
