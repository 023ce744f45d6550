/**
 * Counts the TCP connections the machine accepted, to check that the
 * "new connection per request" rows really open one per request. The
 * kernel's `Tcp: PassiveOpens` counter (/proc/net/snmp) counts every
 * accepted connection on the machine; the rate of other processes (the
 * mean of the second before and the second after) is subtracted, and so are the
 * connections the origin accepted (its stub_status): a proxy that does not
 * keep its upstream connection when the client closes opens one more per
 * request, which is reported apart.
 *
 * Not TIME_WAIT entries on the port: a TLS 1.3 client that closes without
 * reading the server's session tickets makes the kernel send a reset, which
 * leaves no TIME_WAIT, so most connections would go uncounted.
 */
import { readFileSync } from 'node:fs';
import { getOnce } from './http-check.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export function passiveOpens(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n');
  const [names, values] = lines.filter((l) => l.startsWith('Tcp:')).map((l) => l.trim().split(/\s+/));
  const i = names.indexOf('PassiveOpens');
  return i === -1 ? NaN : Number(values[i]);
}

/** The origin's accepted connections (nginx stub_status); the request itself is one more. */
export async function originAccepts(port: number): Promise<number> {
  const r = await getOnce(port, '/_bench_status', {});
  const m = /\n\s*(\d+)\s+\d+\s+\d+/.exec(r.body);
  if (r.status !== 200 || m === null) throw new Error(`origin stub_status: ${r.status} ${r.body.slice(0, 80)}`);
  return Number(m[1]);
}

export interface AcceptCount {
  /** Accepted by the proxy during `run`: the machine's count minus the background rate and the origin's. */
  proxy: number;
  /** Accepted by the origin (the proxy's new upstream connections). */
  origin: number;
  /** Accepted per second by the rest of the machine, the second before and the second after. */
  backgroundPerS: [number, number];
}

/** Connections per second the machine accepts over one second. */
async function acceptRate(): Promise<number> {
  const a = passiveOpens();
  const t = performance.now();
  await sleep(1000);
  return (passiveOpens() - a) / ((performance.now() - t) / 1000);
}

/** Connections accepted by the proxy and by the origin while `run` runs. */
export async function countAccepted<T>(
  originPort: number,
  run: () => Promise<T>,
): Promise<{ count: AcceptCount; result: T }> {
  const before = await acceptRate();
  const o1 = await originAccepts(originPort);
  const b1 = passiveOpens();
  const t1 = performance.now();
  const result = await run();
  const seconds = (performance.now() - t1) / 1000;
  const o2 = await originAccepts(originPort);
  const b2 = passiveOpens();
  const after = await acceptRate();
  const origin = o2 - o1 - 1;
  const all = b2 - b1 - ((before + after) / 2) * seconds;
  return { count: { proxy: Math.round(all - origin - 1), origin, backgroundPerS: [before, after] }, result };
}
