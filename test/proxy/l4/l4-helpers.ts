/**
 * Test kit for the L4 data plane: IR builders for TLS/TCP/UDP listeners, a
 * data plane that reports the bound port of each listener, certificates
 * made with the openssl CLI, and bounded line/datagram clients.
 */
import dgram from 'node:dgram';
import net, { type Socket } from 'node:net';
import type { L4RouteIR, ListenerIR, ListenerTLSIR, IR, TLSRouteIR, WeightedBackendIR } from '../../../src/ir/types.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createDataPlane, type DataPlane, type ProxyTuning } from '../../../src/proxy/index.ts';
import { LOOPBACK, endpointsOf, gateway, withTimeout } from '../helpers.ts';
import { hasOpenssl, selfSigned, type Pem } from '../tls-kit.ts';

export { LOOPBACK, endpointsOf, withTimeout };

// ---------------------------------------------------------------- IR builders

export function l4Backend(name: string, ports: number[], extra: Partial<WeightedBackendIR> = {}): WeightedBackendIR {
  return {
    name: `Service/default/${name}:3000`,
    ref: { kind: 'Service', namespace: 'default', name, port: 3000 },
    protocol: 'tcp',
    endpoints: endpointsOf(...ports),
    weight: 1,
    filters: [],
    ...extra,
  };
}

let seq = 0;

export function l4Route(backends: WeightedBackendIR[], kind = 'TCPRoute'): L4RouteIR {
  const name = `r${seq++}`;
  return { name: `${kind.toLowerCase()}/default/${name}`, route: { kind, namespace: 'default', name }, backends };
}

export function tlsRoute(hostnames: string[], backends: WeightedBackendIR[]): TLSRouteIR {
  return { ...l4Route(backends, 'TLSRoute'), hostnames };
}

export function tcpListener(name: string, routes: L4RouteIR[], extra: Partial<ListenerIR> = {}): ListenerIR {
  return { name: `default/gw/${name}`, sectionName: name, port: 0, protocol: 'TCP', tcpRoutes: routes, ...extra };
}

export function udpListener(name: string, routes: L4RouteIR[], extra: Partial<ListenerIR> = {}): ListenerIR {
  return { name: `default/gw/${name}`, sectionName: name, port: 0, protocol: 'UDP', udpRoutes: routes, ...extra };
}

export function tlsListener(
  name: string,
  tls: ListenerTLSIR,
  routes: TLSRouteIR[],
  extra: Partial<ListenerIR> = {},
): ListenerIR {
  return { name: `default/gw/${name}`, sectionName: name, port: 0, protocol: 'TLS', tls, tlsRoutes: routes, ...extra };
}

export const PASSTHROUGH: ListenerTLSIR = { mode: 'Passthrough', certificates: [] };

export function terminate(...certs: Cert[]): ListenerTLSIR {
  return {
    mode: 'Terminate',
    certificates: certs.map((c, i) => ({ secret: `default/cert-${i}`, certPem: c.cert, keyPem: c.key })),
  };
}

export function irOf(...listeners: ListenerIR[]): IR {
  return { gateways: [gateway(listeners)] };
}

// ---------------------------------------------------------------- data plane

export interface L4Plane {
  dp: DataPlane;
  /** Bound port per listener section name. */
  port(section: string): number;
  errors: string[];
  close(graceMs?: number): Promise<void>;
}

/**
 * A data plane serving `ir`. Each listener with port 0 is given a free port
 * of its own first (port 0 would put them all on one socket); listeners
 * that must share a socket are given the same port by the test.
 */
export async function startL4Plane(ir: IR, tuning: Partial<ProxyTuning> = {}): Promise<L4Plane> {
  for (const gw of ir.gateways) {
    for (const l of gw.listeners)
      if (l.port === 0) l.port = await (l.protocol === 'UDP' ? freeUdpPort() : freeTcpPort());
  }
  const dp = createDataPlane({ portOffset: 0, log: createLogger('silent'), tuning });
  const result = await dp.apply(ir);
  const ports = new Map<string, number>();
  for (const b of result.bound) for (const l of b.listeners) ports.set(l.split('/').pop()!, b.boundPort);
  return {
    dp,
    errors: result.errors,
    port: (section) => {
      const p = ports.get(section);
      if (p === undefined) throw new Error(`listener ${section} not bound: ${result.errors.join('; ')}`);
      return p;
    },
    close: (graceMs = 200) => dp.close(graceMs),
  };
}

/** A TCP port free right now (for listeners that must share one socket). */
export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LOOPBACK, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, LOOPBACK, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---------------------------------------------------------------- certificates

export type Cert = Pem;
export { hasOpenssl, selfSigned };

// ---------------------------------------------------------------- clients

/** Reads a stream line by line; each `next()` waits for one line, bounded. */
export class LineReader {
  private buf = '';
  private waiters: Array<(line: string | null) => void> = [];
  private ended = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.flush();
    });
    const end = (): void => {
      this.ended = true;
      this.flush();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', () => {});
  }

  next(ms = 3000): Promise<string | null> {
    return withTimeout(
      new Promise<string | null>((resolve) => {
        this.waiters.push(resolve);
        this.flush();
      }),
      ms,
      'a line',
    );
  }

  private flush(): void {
    while (this.waiters.length > 0) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiters.shift()!(line);
      } else if (this.ended) {
        this.waiters.shift()!(null);
      } else {
        return;
      }
    }
  }
}

export function connectTcp(port: number): Promise<Socket> {
  return withTimeout(
    new Promise<Socket>((resolve, reject) => {
      const s = net.connect({ host: LOOPBACK, port, allowHalfOpen: true }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    }),
    3000,
    `connect to ${port}`,
  );
}

/** Resolves when `s` is closed by the other side (end or reset), with how it ended. */
export function closedByPeer(s: Socket, ms = 3000): Promise<'end' | 'reset' | 'close'> {
  return withTimeout(
    new Promise((resolve) => {
      s.once('end', () => resolve('end'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' ? 'reset' : 'close'));
      s.once('close', () => resolve('close'));
      s.resume();
    }),
    ms,
    'the peer to close',
  );
}

/** Sends one datagram from a fresh socket (or `socket`) and waits for one reply. */
export async function udpExchange(
  port: number,
  payload: Buffer | string,
  socket?: dgram.Socket,
  ms = 3000,
): Promise<Buffer> {
  const s = socket ?? dgram.createSocket('udp4');
  try {
    return await withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        s.once('message', (m) => resolve(m));
        s.once('error', reject);
        s.send(payload, port, LOOPBACK);
      }),
      ms,
      'a UDP reply',
    );
  } finally {
    if (socket === undefined) s.close();
  }
}
