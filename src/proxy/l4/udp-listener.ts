/**
 * One bound UDP socket serving a UDP listener. UDP has no connections, so
 * the listener keeps sessions: the first datagram from a client address and
 * port picks a backend endpoint (weighted, like a TCP connection) and opens
 * an upstream socket connected to it; later datagrams of that client go the
 * same way, and whatever the upstream sends back leaves through the
 * listener socket to the client. A session ends after `udpSessionIdleMs`
 * without datagrams either way; their number is bounded per socket.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { EndpointIR } from '../../ir/types.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { endpointKey, pickTarget } from './backends.ts';
import { L4Session, addressPort } from './session.ts';
import type { L4Table } from './compile.ts';

type UdpTable = Extract<L4Table, { kind: 'udp' }>;

export class UdpL4Listener {
  private tableNow: UdpTable;
  private readonly socket: dgram.Socket;
  private readonly sessions = new Map<string, UdpSession>();
  private closed = false;

  constructor(
    readonly runtime: ProxyRuntime,
    readonly address: string,
    readonly requestedPort: number,
    table: UdpTable,
  ) {
    this.tableNow = table;
    this.socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
  }

  get port(): number {
    try {
      return this.socket.address().port;
    } catch {
      return this.requestedPort;
    }
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get table(): UdpTable {
    return this.tableNow;
  }

  /** New sessions use `table`; sessions whose endpoint `table` no longer has end now. */
  set table(table: UdpTable) {
    this.tableNow = table;
    const keep = new Set<string>();
    table.route?.endpointKeys(keep);
    for (const s of [...this.sessions.values()]) if (!keep.has(s.endpointKey)) s.close();
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once('error', onError);
      // Not exclusive: cluster workers then share one socket through the primary. The kernel hands each
      // datagram to one worker, so session affinity holds per worker only.
      this.socket.bind({ address: this.address, port: this.requestedPort, exclusive: false }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', (err) => this.runtime.log.error({ err, address: this.address }, 'UDP listener error'));
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    const key = `${address}|${port}`;
    let s = this.sessions.get(key);
    if (s === undefined) {
      const t = this.runtime.tuning;
      if (this.closed || this.sessions.size >= t.udpMaxSessions) return;
      const route = this.tableNow.route;
      if (route === null) return;
      const target = pickTarget(route);
      if ('refused' in target) return;
      const stats = new L4Session(route, addressPort(address, port), addressPort(this.address, this.port));
      stats.started(target.backend, addressPort(target.endpoint.address, target.endpoint.port));
      s = new UdpSession(this, key, address, port, stats);
      this.sessions.set(key, s);
      s.start(target.endpoint);
    }
    s.send(msg);
  }

  /** Called by a session: a reply to its client. */
  reply(msg: Buffer, address: string, port: number): void {
    // A reply that cannot be sent is lost, as it would be on the wire; it is no listener error.
    if (!this.closed) this.socket.send(msg, port, address, noop);
  }

  forget(s: UdpSession): void {
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
  }

  /** UDP has nothing to drain: replies could not reach clients once the socket is gone. */
  close(_graceMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const s of [...this.sessions.values()]) s.close();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}

class UdpSession {
  endpointKey = '';
  private upstream: dgram.Socket | null = null;
  private pending: Buffer[] | null = [];
  private readonly idle: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly listener: UdpL4Listener,
    readonly key: string,
    private readonly clientAddress: string,
    private readonly clientPort: number,
    /** Counters and the access-log line of this session. */
    private readonly stats: L4Session,
  ) {
    this.idle = setTimeout(() => this.close(), listener.runtime.tuning.udpSessionIdleMs);
    this.idle.unref();
  }

  /** Opens the upstream socket (after a DNS lookup for FQDN endpoints); may end the session at once. */
  start(endpoint: EndpointIR): void {
    this.endpointKey = endpointKey(endpoint);
    const rt = this.listener.runtime;
    if (endpoint.kind === 'unix') {
      rt.log.debug({ endpoint: endpoint.address }, 'UDP to a unix socket endpoint is not supported');
      this.close();
      return;
    }
    if (endpoint.kind === 'ip') {
      this.open(endpoint.address, endpoint.port);
      return;
    }
    rt.upstreams.dns.lookup(endpoint.address, {}, (err, address) => {
      if (err !== null || typeof address !== 'string') {
        rt.log.debug({ err, endpoint: endpoint.address }, 'UDP upstream name does not resolve');
        this.stats.connectFailed();
        this.close();
      } else {
        this.open(address, endpoint.port);
      }
    });
  }

  private open(address: string, port: number): void {
    if (this.closed) return;
    const u = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    this.upstream = u;
    // An ICMP unreachable surfaces as an error on a connected socket: end the session, the next datagram picks again.
    u.on('error', (err) => {
      this.listener.runtime.log.debug({ err, endpoint: `${address}:${port}` }, 'UDP upstream error');
      this.stats.connectFailed();
      this.close();
    });
    u.on('message', (msg) => {
      this.idle.refresh();
      this.stats.responseBytes += msg.length;
      this.listener.reply(msg, this.clientAddress, this.clientPort);
    });
    u.connect(port, address, () => {
      const queued = this.pending ?? [];
      this.pending = null;
      for (const m of queued) u.send(m);
    });
  }

  send(msg: Buffer): void {
    if (this.closed) return;
    this.idle.refresh();
    this.stats.requestBytes += msg.length;
    if (this.pending === null) {
      this.upstream?.send(msg);
    } else if (this.pending.length < this.listener.runtime.tuning.udpPendingDatagrams) {
      this.pending.push(msg);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idle);
    this.listener.forget(this);
    this.stats.end();
    try {
      this.upstream?.close();
    } catch {
      // already closed
    }
  }
}

function noop(): void {}
