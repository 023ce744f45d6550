/**
 * Opening the upstream side of an L4 connection: TCP (or a unix socket) to
 * the picked endpoint, the PROXY protocol header when the backend asks for
 * one (always in clear, before any TLS, as Envoy does), then TLS when a
 * BackendTLSPolicy applies. Resolves once the upstream can carry bytes.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { EndpointIR } from '../../ir/types.ts';
import type { LookupFunction } from '../upstream/dns-cache.ts';
import type { L4Backend } from './backends.ts';
import { encodeProxyHeader, type ProxyEndpoint } from './proxy-protocol.ts';

export interface ConnectEnv {
  connectTimeoutMs: number;
  lookup: LookupFunction;
}

export interface ClientAddresses {
  /** The client as the gateway knows it (after a PROXY header from the client, its source). */
  source: ProxyEndpoint;
  /** Where the client connected to. */
  destination: ProxyEndpoint;
}

export interface PendingUpstream {
  readonly ready: Promise<Socket>;
  /** Gives up (the client went away): the socket is destroyed and `ready` rejects. */
  abort(): void;
}

export function connectUpstream(
  backend: L4Backend,
  endpoint: EndpointIR,
  client: ClientAddresses,
  env: ConnectEnv,
): PendingUpstream {
  const raw =
    endpoint.kind === 'unix'
      ? net.connect({ path: endpoint.address, allowHalfOpen: true })
      : net.connect({
          host: endpoint.address,
          port: endpoint.port,
          allowHalfOpen: true,
          noDelay: true,
          ...(endpoint.kind === 'fqdn' ? { lookup: env.lookup } : {}),
        });
  let current: Socket = raw;
  let settled = false;
  let fail: (err: Error) => void = () => {};
  const ready = new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`connect timeout after ${env.connectTimeoutMs} ms`)),
      env.connectTimeoutMs,
    );
    fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current.destroy();
      raw.destroy();
      reject(err);
    };
    const done = (s: Socket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.off('error', fail);
      resolve(s);
    };
    raw.on('error', fail);
    raw.once('connect', () => {
      if (backend.proxyProtocol !== undefined) {
        raw.write(encodeProxyHeader(backend.proxyProtocol, client.source, client.destination));
      }
      if (backend.tls === undefined) {
        done(raw);
        return;
      }
      // From here the TLS socket owns the connection and reports its errors.
      raw.off('error', fail);
      raw.on('error', () => {});
      const secure = tls.connect({ ...backend.tls, socket: raw });
      current = secure;
      secure.on('error', fail);
      secure.once('secureConnect', () => done(secure));
    });
  });
  return { ready, abort: () => fail(new Error('aborted')) };
}
