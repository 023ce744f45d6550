/**
 * Free TCP ports on 127.0.0.1, picked at run time. They are drawn below the
 * kernel's ephemeral range, so that the thousands of client connections the
 * machine opens (wrk, upstream pools, other people's tests) never take them,
 * and each is checked free by binding it.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

const given = new Set<number>();

function ephemeralStart(): number {
  try {
    const [lo] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(lo);
    return Number.isInteger(n) && n > 11_000 ? n : 32768;
  } catch {
    return 32768;
  }
}

/** True when 127.0.0.1:port can be bound right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port nobody listens on, not handed out before in this run. */
export async function freePort(): Promise<number> {
  const hi = ephemeralStart();
  const lo = 10_000;
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (given.has(port)) continue;
    if (await portIsFree(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('no free TCP port found on 127.0.0.1');
}
