/**
 * One client connection on a TCP or TLS listener socket: read the preamble
 * (PROXY header, ClientHello), pick the listener and route (TLS: by SNI),
 * pick the backend endpoint, then either forward the bytes as they are
 * (TCP, TLS passthrough) or terminate TLS first (TLS Terminate) and forward
 * the decrypted stream. A connection that cannot be routed is closed before
 * anything is answered, which is what a client in the middle of a TLS
 * handshake sees as a rejection.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { EndpointIR } from '../../ir/types.ts';
import { ConnCounter, TlsFailure, tlsFailureReason } from '../../observability/metrics/data-plane-metrics.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import { pickTarget, type L4Backend, type L4Route } from './backends.ts';
import { L4Session, addressPort } from './session.ts';
import type { L4Table, TlsListenerTable } from './compile.ts';
import { connectUpstream, type ClientAddresses } from './connect.ts';
import { readPreamble, type Preamble } from './preamble.ts';
import type { ProxyHeader } from './proxy-protocol.ts';
import { cut, splice } from './splice.ts';

type StreamTable = Exclude<L4Table, { kind: 'udp' }>;

export interface ConnectionEnv {
  runtime: ProxyRuntime;
  /** Registers a socket so that draining can cut it (a terminated TLS socket is a second one). */
  track(s: Socket): void;
}

export function serveConnection(env: ConnectionEnv, table: StreamTable, socket: Socket): void {
  const t = env.runtime.tuning;
  socket.on('error', () => cut(socket));
  const opts = {
    proxyProtocol: table.proxyProtocol,
    proxyProtocolOptional: table.proxyProtocolOptional,
    clientHello: table.kind === 'tls',
    maxBytes: t.tlsClientHelloMaxBytes,
    timeoutMs: t.l4PreambleTimeoutMs,
  };
  readPreamble(socket, opts, (r) => {
    if (!r.ok) return refuse(env, socket, r.reason);
    if (table.kind === 'tcp') {
      if (table.route === null) return refuse(env, socket, `listener ${table.listener} has no route`);
      return forward(env, socket, table.route, r.preamble.rest, clientAddresses(socket, r.preamble.proxy));
    }
    routeTls(env, table.listeners.lookup(r.preamble.hello?.sni ?? ''), socket, r.preamble);
  });
}

function routeTls(env: ConnectionEnv, l: TlsListenerTable | undefined, socket: Socket, p: Preamble): void {
  const sni = p.hello?.sni;
  if (l === undefined) return refuse(env, socket, `no TLS listener for SNI ${sni ?? '(none)'}`);
  const route = l.routes.lookup(sni ?? '') ?? l.tcpRoute;
  if (route === null) return refuse(env, socket, `listener ${l.name}: no route for SNI ${sni ?? '(none)'}`);
  const client = clientAddresses(socket, p.proxy);
  if (l.termination === null) return forward(env, socket, route, p.rest, client);

  // Refuse before the handshake when the route cannot be served, as in passthrough.
  const target = pickTarget(route);
  if ('refused' in target) return refuseRouted(env, socket, route, client, target.refused);
  socket.unshift(p.rest); // the TLS layer reads what is buffered first
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: l.termination.contextFor(sni),
    requestCert: l.termination.requestCert,
    rejectUnauthorized: l.termination.rejectUnauthorized,
  });
  env.track(secure);
  const m = env.runtime.metrics;
  const id = l.metricsSeries;
  /** The handshake's outcome is counted (once). */
  let settled = false;
  const failed = (reason: TlsFailure): void => {
    if (settled) return;
    settled = true;
    m.tlsFailed(id, reason);
  };
  secure.on('error', (err) => {
    env.runtime.log.debug({ err, listener: l.name }, 'TLS connection failed');
    failed(tlsFailureReason(err));
    cut(secure);
    cut(socket);
  });
  secure.once('close', () => failed(TlsFailure.Closed));
  const handshakeTimeout = (): void => {
    failed(TlsFailure.Timeout);
    cut(secure);
  };
  secure.setTimeout(env.runtime.tuning.l4PreambleTimeoutMs, handshakeTimeout);
  secure.once('secure', () => {
    secure.setTimeout(0, handshakeTimeout); // also removes the listener: the idle timeout takes over
    if (l.termination?.accepts(secure) === false) {
      failed(TlsFailure.ClientCertificate);
      return refuse(env, secure, `listener ${l.name}: client certificate refused`);
    }
    settled = true;
    m.connAdd(id, ConnCounter.Handshakes);
    if (secure.isSessionReused()) m.connAdd(id, ConnCounter.Resumed);
    open(env, secure, target.backend, target.endpoint, Buffer.alloc(0), client, route);
  });
}

function forward(env: ConnectionEnv, socket: Socket, route: L4Route, head: Buffer, client: ClientAddresses): void {
  const target = pickTarget(route);
  if ('refused' in target) return refuseRouted(env, socket, route, client, target.refused);
  open(env, socket, target.backend, target.endpoint, head, client, route);
}

/** A session begins: counted, and logged when it ends. */
function session(route: L4Route, client: ClientAddresses): L4Session {
  const { source, destination } = client;
  return new L4Session(
    route,
    addressPort(source.address, source.port),
    addressPort(destination.address, destination.port),
  );
}

/** A routed connection refused before anything went upstream: one access-log line (UH). */
function refuseRouted(env: ConnectionEnv, socket: Socket, route: L4Route, client: ClientAddresses, why: string): void {
  if (route.telemetry.accessLog !== null) session(route, client).refused();
  refuse(env, socket, why);
}

function open(
  env: ConnectionEnv,
  socket: Socket,
  backend: L4Backend,
  endpoint: EndpointIR,
  head: Buffer,
  client: ClientAddresses,
  route: L4Route,
): void {
  const { runtime } = env;
  const routeName = route.name;
  const s = session(route, client);
  s.started(backend, addressPort(endpoint.address, endpoint.port));
  const pending = connectUpstream(backend, endpoint, client, {
    connectTimeoutMs: runtime.tuning.upstreamConnectTimeoutMs,
    lookup: runtime.upstreams.dns.lookup,
  });
  const onGone = (): void => pending.abort();
  socket.once('close', onGone);
  pending.ready.then(
    (upstream) => {
      socket.off('close', onGone);
      if (socket.destroyed) {
        s.requestBytes = socket.bytesRead;
        s.end();
        return upstream.destroy();
      }
      if (head.length > 0) upstream.write(head);
      splice(socket, upstream, runtime.tuning.tcpIdleTimeoutMs, () => {
        s.requestBytes = socket.bytesRead;
        s.responseBytes = socket.bytesWritten;
        s.end();
      });
    },
    (err: Error) => {
      socket.off('close', onGone);
      if (!socket.destroyed) s.connectFailed(); // else the client left first: not the upstream's failure
      s.requestBytes = socket.bytesRead;
      s.end();
      runtime.log.debug(
        { err, route: routeName, backend: backend.name, endpoint: `${endpoint.address}:${endpoint.port}` },
        'L4 upstream connect failed',
      );
      cut(socket);
    },
  );
}

function refuse(env: ConnectionEnv, socket: Socket, reason: string): void {
  env.runtime.log.debug({ reason, client: socket.remoteAddress }, 'L4 connection refused');
  cut(socket);
}

/** The client's addresses: from its PROXY header when it sent one for a proxied connection, else the socket's. */
function clientAddresses(socket: Socket, proxy: ProxyHeader | undefined): ClientAddresses {
  const a = proxy?.command === 'PROXY' ? proxy.addresses : undefined;
  if (a !== undefined) return { source: a.source, destination: a.destination };
  return {
    source: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
    destination: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
  };
}
