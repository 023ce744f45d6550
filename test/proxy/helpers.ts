/**
 * Test kit for the data plane: hand-written IR builders, real origins on
 * loopback, a bounded HTTP client and a raw socket client.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type {
  BackendIR,
  EndpointIR,
  FilterIR,
  GatewayIR,
  HTTPRouteIR,
  IR,
  ListenerIR,
  VirtualHostIR,
  WeightedBackendIR,
} from '../../src/ir/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createDataPlane, type DataPlane, type ProxyTuning } from '../../src/proxy/index.ts';

export const LOOPBACK = '127.0.0.1';

// ---------------------------------------------------------------- IR builders

let routeSeq = 0;

export function route(partial: Partial<HTTPRouteIR> = {}): HTTPRouteIR {
  const n = routeSeq++;
  return {
    name: `httproute/default/r${n}/rule/0/match/0/*`,
    route: { kind: 'HTTPRoute', namespace: 'default', name: `r${n}` },
    ruleIndex: 0,
    matchIndex: 0,
    hostname: '*',
    path: { type: 'PathPrefix', value: '/' },
    headers: [],
    queryParams: [],
    filters: [],
    backends: [],
    ...partial,
  };
}

export function endpointsOf(...ports: number[]): EndpointIR[] {
  return ports.map((port) => ({ address: LOOPBACK, port, kind: 'ip' as const }));
}

export function backend(
  name: string,
  endpoints: EndpointIR[],
  extra: Partial<WeightedBackendIR> = {},
): WeightedBackendIR {
  return {
    name: `Service/default/${name}:8080`,
    ref: { kind: 'Service', namespace: 'default', name, port: 8080 },
    protocol: 'http',
    endpoints,
    weight: 1,
    filters: [],
    ...extra,
  };
}

export function plainBackend(name: string, endpoints: EndpointIR[], extra: Partial<BackendIR> = {}): BackendIR {
  const { weight: _w, filters: _f, ...b } = backend(name, endpoints);
  return { ...b, ...extra };
}

export function listener(name: string, routes: HTTPRouteIR[], extra: Partial<ListenerIR> = {}): ListenerIR {
  const vhosts = new Map<string, HTTPRouteIR[]>();
  for (const r of routes) {
    const list = vhosts.get(r.hostname) ?? [];
    list.push(r);
    vhosts.set(r.hostname, list);
  }
  const virtualHosts: VirtualHostIR[] = [...vhosts].map(([hostname, rs]) => ({ hostname, routes: rs }));
  return {
    name: `default/gw/${name}`,
    sectionName: name,
    port: 0,
    protocol: 'HTTP',
    virtualHosts,
    ...extra,
  };
}

export function gateway(listeners: ListenerIR[], extra: Partial<GatewayIR> = {}): GatewayIR {
  return { namespace: 'default', name: 'gw', addresses: [LOOPBACK], listeners, ...extra };
}

/** One gateway, one HTTP listener on an ephemeral port, these routes. */
export function simpleIR(routes: HTTPRouteIR[]): IR {
  return { gateways: [gateway([listener('http', routes)])] };
}

export function filterList(...filters: FilterIR[]): FilterIR[] {
  return filters;
}

// ---------------------------------------------------------------- data plane

export interface RunningPlane {
  dp: DataPlane;
  port: number;
  close(graceMs?: number): Promise<void>;
}

export async function startPlane(ir: IR, tuning: Partial<ProxyTuning> = {}): Promise<RunningPlane> {
  const dp = createDataPlane({ portOffset: 0, log: createLogger('silent'), tuning });
  const result = await dp.apply(ir);
  if (result.bound.length === 0) throw new Error(`nothing bound: ${result.errors.join('; ')}`);
  return { dp, port: result.bound[0].boundPort, close: (graceMs = 500) => dp.close(graceMs) };
}

// ---------------------------------------------------------------- origins

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  httpVersion: string;
}

export interface Origin {
  port: number;
  seen: SeenRequest[];
  server: http.Server;
  close(): Promise<void>;
  /** Resolves once `n` requests have arrived (bounded). */
  waitFor(n: number, ms?: number): Promise<void>;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Echoes the request as JSON (like the conformance echo backend) unless `handler` answers. */
export async function startOrigin(name = 'origin', handler?: OriginHandler): Promise<Origin> {
  const seen: SeenRequest[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        httpVersion: req.httpVersion,
      });
      for (const w of waiters.splice(0)) {
        if (seen.length >= w.n) w.resolve();
        else waiters.push(w);
      }
      if (handler) {
        handler(req, res, body);
        return;
      }
      const json = JSON.stringify({ origin: name, method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-origin': name });
      res.end(json);
    });
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    server,
    close: () => closeServer(server),
    waitFor: (n, ms = 5000) =>
      withTimeout(
        new Promise<void>((resolve) => {
          if (seen.length >= n) resolve();
          else waiters.push({ n, resolve });
        }),
        ms,
        `origin ${name} waiting for ${n} requests (has ${seen.length})`,
      ),
  };
}

export function closeServer(server: net.Server | http.Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** A TCP port that nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LOOPBACK, r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---------------------------------------------------------------- clients

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  trailers: NodeJS.Dict<string>;
}

export interface Req {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** The caller framed the body itself (Content-Length or Transfer-Encoding). */
function framed(headers: Req['headers']): boolean {
  return Object.keys(headers ?? {}).some((h) => /^(content-length|transfer-encoding)$/i.test(h));
}

/** One request on a fresh connection, bounded in time. */
export function request(port: number, r: Req = {}): Promise<Reply> {
  return withTimeout(
    new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        {
          host: LOOPBACK,
          port,
          method: r.method ?? 'GET',
          path: r.path ?? '/',
          // node sends a GET/DELETE/OPTIONS body without Content-Length or chunked framing unless told its length.
          headers: {
            host: r.host ?? 'example.com',
            ...(r.body !== undefined && !framed(r.headers)
              ? { 'content-length': String(Buffer.byteLength(r.body)) }
              : {}),
            ...r.headers,
          },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              rawHeaders: res.rawHeaders,
              body: Buffer.concat(chunks).toString(),
              trailers: res.trailers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(r.body);
    }),
    r.timeoutMs ?? 5000,
    `${r.method ?? 'GET'} ${r.path ?? '/'}`,
  );
}

export function json(reply: Reply): {
  origin: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
} {
  return JSON.parse(reply.body) as ReturnType<typeof json>;
}

/**
 * Writes raw bytes on a new connection and collects what comes back until
 * the server closes the connection (or `ms` passes).
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  ms = 3000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, LOOPBACK);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(bytes);
  });
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}
