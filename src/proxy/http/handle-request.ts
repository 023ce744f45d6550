/**
 * The request path: parse → route → route filters → backend pick →
 * backendRef filters → forward. Upgrade requests take the same path on the
 * raw socket node hands over; HTTP/2 streams join it at `routeAndRun`
 * (http2/h2-stream.ts).
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { CompiledRoute, SocketTable } from '../compile/compiled-route.ts';
import { detectGrpc, prepareGrpcRequest } from '../grpc/call.ts';
import { GrpcKind } from '../grpc/kind.ts';
import { ResponseFlag } from '../../observability/access-log.ts';
import { misdirected } from '../tls/misdirected.ts';
import { abandon, forward } from './forward.ts';
import { RequestContext, type ListenerInfo } from './request-context.ts';
import type { ProxyRuntime } from './runtime.ts';

/** node:http response class of our servers: carries its request's context for the `close` handler. */
export class ProxyResponse extends ServerResponse {
  ctx: RequestContext | null = null;
}

const NONE: string[] = [];

export function handleRequest(
  runtime: ProxyRuntime,
  listener: ListenerInfo,
  table: SocketTable,
  req: IncomingMessage,
  res: ServerResponse,
  expectContinue: boolean,
): void {
  const ctx = new RequestContext(runtime, listener, req, res, null, req.method ?? 'GET', req.rawHeaders, req.socket);
  ctx.metricsSeries = table.metricsSeries;
  ctx.telemetry = table.telemetry;
  ctx.expectContinue = expectContinue;
  if (!ctx.parse()) return;
  const route = findRoute(ctx, table);
  if (route === null) return;
  (res as ProxyResponse).ctx = ctx;
  res.on('close', onResponseClose);
  run(ctx, route);
}

/** Routing and the rest of the request path for a parsed request (HTTP/2 enters here). */
export function routeAndRun(ctx: RequestContext, table: SocketTable): void {
  const route = findRoute(ctx, table);
  if (route !== null) run(ctx, route);
}

/** The route of a parsed request, or null once the request has been answered (404, 421). */
function findRoute(ctx: RequestContext, table: SocketTable): CompiledRoute | null {
  detectGrpc(ctx);
  if (ctx.listener.scheme === 'https' && misdirected(ctx, table)) {
    ctx.respond(421, NONE, null);
    return null;
  }
  const route = table.route(ctx);
  if (route === null) {
    ctx.responseFlags |= ResponseFlag.NoRoute;
    ctx.respond(404, NONE, null);
  }
  return route;
}

export function handleUpgrade(
  runtime: ProxyRuntime,
  listener: ListenerInfo,
  table: SocketTable,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): void {
  socket.on('error', onSocketError);
  const ctx = new RequestContext(runtime, listener, req, null, head, req.method ?? 'GET', req.rawHeaders, socket);
  ctx.metricsSeries = table.metricsSeries;
  ctx.telemetry = table.telemetry;
  if (!ctx.parse()) return;
  if (ctx.upgrade === null || ctx.upgrade.trim().toLowerCase() === 'h2c') {
    // h2c upgrades are not offered (Envoy's default); the socket is no longer HTTP, so refuse and close.
    ctx.respond(400, NONE, null);
    return;
  }
  const route = findRoute(ctx, table);
  if (route === null) return;
  socket.on('close', () => abandon(ctx));
  run(ctx, route);
}

function run(ctx: RequestContext, route: CompiledRoute): void {
  ctx.route = route;
  ctx.telemetry = route.telemetry;
  ctx.runtime.metrics.requestStarted(route.metricsSeries);
  ctx.buildUpstreamHeaders();
  if (route.grpc || ctx.grpc !== GrpcKind.None) prepareGrpcRequest(ctx, route);
  const filters = route.requestFilters;
  for (let i = 0; i < filters.length; i++) {
    if (!filters[i].onRequest!(ctx)) return;
  }
  if (route.directResponse !== null) {
    ctx.respondLocal(route.directResponse);
    return;
  }
  const backend = route.backends.pick();
  if (backend === null || backend.invalid) {
    // Gateway API: no usable backendRef (or an invalid one picked by weight) → 500.
    ctx.respondError(500, '');
    return;
  }
  ctx.backend = backend;
  const bf = backend.requestFilters;
  for (let i = 0; i < bf.length; i++) {
    if (!bf[i].onRequest!(ctx)) return;
  }
  forward(ctx);
}

function onResponseClose(this: ProxyResponse): void {
  const ctx = this.ctx;
  this.ctx = null;
  if (ctx !== null && !ctx.done) abandon(ctx);
}

function onSocketError(this: Socket): void {
  this.destroy();
}
