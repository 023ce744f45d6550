/**
 * The state of one downstream request from arrival to the last byte of its
 * response: what the router matched, what the filters changed, and where
 * forwarding stands. One object per request, fields fixed in the
 * constructor so that V8 keeps a single shape.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type { CompiledRoute, LocalResponse } from '../compile/compiled-route.ts';
import type { HttpFilter } from '../filters/filter.ts';
import { respondGrpc } from '../grpc/call.ts';
import type { GrpcWebResponse } from '../grpc/grpc-web.ts';
import { GrpcKind } from '../grpc/kind.ts';
import type { RequestMirrorFilter } from '../filters/request-mirror.ts';
import type { MatchInput } from '../router/route-matcher.ts';
import type { CompiledBackend } from '../upstream/backend.ts';
import type { UpstreamTarget } from '../upstream/targets.ts';
import type { AccessLogEntry } from '../../observability/access-log.ts';
import type { RequestTrace } from '../../observability/tracing/request-trace.ts';
import { NO_TELEMETRY, type GatewayTelemetry } from '../compile/gateway-telemetry.ts';
import { methodIndex } from '../../observability/metrics/data-plane-metrics.ts';
import { headerTokens, nameIs } from './headers.ts';
import type { ProxyRuntime } from './runtime.ts';

/** What a request needs from the socket it arrived on. */
export interface ListenerInfo {
  readonly scheme: 'http' | 'https';
  /** HTTPS only: the listener that a connection without SNI counts as made for (see tls/misdirected.ts); null = none. */
  readonly noSniListener: string | null;
  /** Keeps an upgraded connection pair so that close() can end it. */
  trackTunnel(downstream: Socket, upstream: Socket): void;
}

/**
 * Where a response is written: node's ServerResponse for HTTP/1 (it has
 * exactly these methods), an adapter over the stream for HTTP/2
 * (http2/h2-response.ts). Headers are flat `[name, value, ...]` lists.
 */
export interface DownstreamResponse {
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Buffer): boolean;
  end(body?: Buffer): unknown;
  addTrailers(trailers: Array<[string, string]>): void;
  destroy(): unknown;
  writeContinue(): void;
  on(event: 'drain', listener: () => void): unknown;
  /** HTTP/1: false closes the connection after this response. */
  shouldKeepAlive: boolean;
}

/** The upstream attempt in flight, whatever the protocol. */
export interface Exchange {
  /** Stops the attempt; no callback reaches the context afterwards. */
  cancel(): void;
}

const EMPTY: string[] = [];
const NO_BODY = Buffer.alloc(0);

/** 1 at the lengths of the request headers the gateway drops or replaces. */
const MAYBE_HOP_BY_HOP = new Uint8Array(32);
for (const n of ['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect']) {
  MAYBE_HOP_BY_HOP[n.length] = 1;
}
for (const n of ['http2-settings', 'x-forwarded-proto', 'te', 'x-forwarded-for']) MAYBE_HOP_BY_HOP[n.length] = 1;

export class RequestContext implements MatchInput, AccessLogEntry {
  /** Request headers as received (HTTP/2: without pseudo-headers, cookies joined). */
  rawHeaders: string[];
  /** Request target after normalization (path + query), as forwarded unless rewritten. */
  url = '';
  /** Path without query, used for matching. */
  path = '';
  /** `?...` or ''. */
  query = '';
  /** Lower case host without port, used for matching. */
  host = '';
  /** Host header as received (with port). */
  authority = '';
  /** Upgrade protocol asked for (websocket...), or null. */
  upgrade: string | null = null;
  hasBody = false;
  /** The client waits for `100 Continue` before sending its body; sent once the request is forwarded. */
  expectContinue = false;
  private connectionHeader: string | null = null;
  private hasRequestId = false;
  private params: Map<string, string> | null = null;

  route: CompiledRoute | null = null;
  backend: CompiledBackend | null = null;
  /** Headers for the upstream request; index 0/1 is always `host`. */
  headers: string[] = EMPTY;
  /** Path + query sent upstream. */
  upstreamUrl = '';
  hostFromBackend = false;
  mirrors: RequestMirrorFilter[] | null = null;
  /** The request's content-type, read when routing. */
  contentType: string | null = null;
  /** gRPC requests (content-type, or a GRPCRoute) get the gateway's own answers as gRPC statuses. */
  grpc: GrpcKind = GrpcKind.None;
  /** grpc-web: turns the gRPC response into grpc-web on its way down (grpc/grpc-web.ts). */
  grpcWeb: GrpcWebResponse | null = null;
  /** Replaces `req` as the body sent upstream (grpc-web-text: base64 decoded). */
  requestBody: Readable | null = null;

  /** Body to send upstream: the request stream, a buffered copy, or null. */
  body: Readable | Buffer | null = null;
  retriesLeft = 0;
  attempts = 0;
  exchange: Exchange | null = null;
  requestTimer: NodeJS.Timeout | null = null;
  retryTimer: NodeJS.Timeout | null = null;
  /** Response headers have gone downstream: errors can only cut the stream now. */
  responseStarted = false;
  /** The request is over (answered, failed or abandoned by the client). */
  done = false;

  /** performance.now() when the request arrived. */
  readonly startMs = performance.now();
  /** Status sent downstream (0 = none: the client went away first). */
  status = 0;
  /** Request body size (Content-Length, or the size of a body the gateway buffered). */
  requestBytes = 0;
  /** Response body bytes written downstream. */
  responseBytes = 0;
  /** Envoy response flags (observability/access-log.ts ResponseFlag bits). */
  responseFlags = 0;
  /** The endpoint of the last attempt. */
  target: UpstreamTarget | null = null;
  /** Metrics series of the socket's "no route" requests (set by whoever creates the context). */
  metricsSeries = -1;
  /** The spans of a sampled request (observability/tracing/); null = not traced. */
  trace: RequestTrace | null = null;
  /** The Gateway's access log and tracer: the socket's until routed, then the route's. */
  telemetry: GatewayTelemetry = NO_TELEMETRY;
  /** complete() has run. */
  private recorded = false;

  constructor(
    readonly runtime: ProxyRuntime,
    readonly listener: ListenerInfo,
    /** The request body: node's IncomingMessage (HTTP/1) or the HTTP/2 stream. */
    readonly req: Readable,
    /** Null for upgrade requests, answered on the raw socket. */
    readonly res: DownstreamResponse | null,
    /** Bytes after the headers of an upgrade request. */
    readonly head: Buffer | null,
    readonly method: string,
    rawHeaders: string[],
    /** The connection (the TLS socket for HTTPS; the session's socket for HTTP/2). */
    readonly socket: Socket,
  ) {
    this.rawHeaders = rawHeaders;
  }

  /** Port the request arrived on (the bound one, offset included). */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /**
   * Reads target and headers the router and forwarding need, in one pass
   * over rawHeaders. Answers 400/431 and returns false on a request the
   * gateway refuses.
   */
  parse(): boolean {
    const raw = this.rawHeaders;
    const req = this.req as IncomingMessage;
    // node's parser takes `HTTP/2.0` (or any major) on an HTTP/1 socket.
    if (req.httpVersionMajor !== 1) return this.refuse(505);
    if (raw.length > this.runtime.tuning.maxHeaderCount * 2) return this.refuse(431);
    let hostIndex = -1;
    let te = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      // Switch on length first: most names are then never lower-cased.
      switch (name.length) {
        case 4:
          if (nameIs(name, 'host')) {
            if (hostIndex !== -1) return this.refuse(400); // RFC 9112 §3.2: exactly one Host
            hostIndex = i + 1;
          }
          break;
        case 7:
          if (nameIs(name, 'upgrade')) this.upgrade = raw[i + 1];
          break;
        case 10:
          if (nameIs(name, 'connection')) {
            this.connectionHeader =
              this.connectionHeader === null ? raw[i + 1] : `${this.connectionHeader},${raw[i + 1]}`;
          }
          break;
        case 12:
          if (nameIs(name, 'x-request-id')) this.hasRequestId = true;
          break;
        case 14:
          if (nameIs(name, 'content-length') && raw[i + 1] !== '0') {
            this.hasBody = true;
            this.requestBytes = Number(raw[i + 1]) || 0;
          }
          break;
        case 17:
          if (nameIs(name, 'transfer-encoding')) te = true;
          break;
      }
    }
    if (te) {
      // node rejects CL+TE and bad codings; chunked on HTTP/1.0 it accepts, and is refused here.
      if (req.httpVersionMinor === 0) return this.refuse(400);
      this.hasBody = true;
    }
    if (this.method === 'CONNECT') return this.refuse(405);

    let target = req.url ?? '/';
    this.authority = hostIndex === -1 ? '' : raw[hostIndex];
    if (target.charCodeAt(0) !== 47 /* / */) {
      // absolute-form (RFC 9112 §3.2.2): its authority replaces Host.
      const m = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(target);
      if (m === null) {
        if (!(target === '*' && this.method === 'OPTIONS')) return this.refuse(400);
      } else {
        this.authority = m[1];
        target = m[2] === '' ? '/' : m[2].charCodeAt(0) === 63 /* ? */ ? `/${m[2]}` : m[2];
      }
    }
    return this.setTarget(target);
  }

  /**
   * HTTP/2 (RFC 9113 §8.3): the target comes from the pseudo-headers, which
   * nghttp2 has already checked (present, once, before regular fields).
   * Pseudo-headers leave `rawHeaders`, repeated `cookie` fields are joined
   * with `; ` for HTTP/1 upstreams (§8.2.3), `:authority` stands for Host.
   */
  parseH2(h2Raw: readonly string[], endStream: boolean): boolean {
    let path = '';
    let authority: string | null = null;
    let host: string | null = null;
    let cookie: string | null = null;
    const raw: string[] = [];
    for (let i = 0; i < h2Raw.length; i += 2) {
      const name = h2Raw[i];
      const value = h2Raw[i + 1];
      if (name.charCodeAt(0) === 58 /* : */) {
        if (name === ':path') path = value;
        else if (name === ':authority') authority = value;
        continue;
      }
      // nghttp2 delivers names in lower case.
      switch (name) {
        case 'cookie':
          cookie = cookie === null ? value : `${cookie}; ${value}`;
          continue;
        case 'host':
          host = value;
          break;
        case 'x-request-id':
          this.hasRequestId = true;
          break;
        case 'content-length':
          this.requestBytes = Number(value) || 0;
          break;
        case 'expect':
          if (value.toLowerCase() === '100-continue') this.expectContinue = true;
          break;
      }
      raw.push(name, value);
    }
    if (cookie !== null) raw.push('cookie', cookie);
    this.rawHeaders = raw;
    this.hasBody = !endStream;
    if (raw.length > this.runtime.tuning.maxHeaderCount * 2) return this.refuse(431);
    if (this.method === 'CONNECT') return this.refuse(405);
    this.authority = authority ?? host ?? '';
    if (this.authority === '') return this.refuse(400);
    if (path.charCodeAt(0) !== 47 /* / */ && !(path === '*' && this.method === 'OPTIONS')) return this.refuse(400);
    return this.setTarget(path);
  }

  /** Path and query from a request target in origin form (dot segments removed). */
  private setTarget(target: string): boolean {
    if (target.includes('#')) return this.refuse(400);
    const q = target.indexOf('?');
    let path = q === -1 ? target : target.slice(0, q);
    if (path.includes('/.')) {
      const normalized = removeDotSegments(path);
      if (normalized !== path) {
        path = normalized;
        target = q === -1 ? path : path + target.slice(q);
      }
    }
    this.url = target;
    this.upstreamUrl = target;
    this.path = path;
    this.query = q === -1 ? '' : target.slice(target.indexOf('?'));
    this.host = matchHost(this.authority);
    return true;
  }

  queryParam(name: string): string | undefined {
    let p = this.params;
    if (p === null) {
      p = this.params = parseQuery(this.query);
    }
    return p.get(name);
  }

  /**
   * The upstream request headers: the client's minus hop-by-hop ones and the
   * ones `Connection` names, then Host, X-Forwarded-For (peer appended),
   * X-Forwarded-Proto and X-Request-Id as Envoy sets them.
   */
  buildUpstreamHeaders(): void {
    const raw = this.rawHeaders;
    const out: string[] = ['host', this.authority];
    const named = this.connectionHeader === null ? null : headerTokens(this.connectionHeader);
    let xff: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      // Only names as long as a hop-by-hop one are lower-cased and compared.
      if (MAYBE_HOP_BY_HOP[name.length] === 1) {
        switch (name.toLowerCase()) {
          case 'host':
          case 'connection':
          case 'keep-alive':
          case 'proxy-connection':
          case 'transfer-encoding':
          case 'upgrade':
          case 'expect':
          case 'http2-settings':
          case 'x-forwarded-proto':
            continue;
          case 'te':
            if (raw[i + 1].trim().toLowerCase() === 'trailers') break;
            continue;
          case 'x-forwarded-for':
            xff = xff === null ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
            continue;
        }
      }
      if (named !== null && named.includes(name.toLowerCase())) continue;
      out.push(name, raw[i + 1]);
    }
    const peer = peerAddress(this.socket);
    out.push('x-forwarded-for', xff === null ? peer : `${xff}, ${peer}`);
    out.push('x-forwarded-proto', this.listener.scheme);
    if (!this.hasRequestId || (named !== null && named.includes('x-request-id'))) {
      out.push('x-request-id', randomUUID());
    }
    this.headers = out;
    // The route is known from here on: the server span starts (when the Gateway traces and the request is sampled).
    const route = this.route;
    if (route !== null && route.tracing !== null && route.telemetry.tracer !== null) {
      this.trace = route.telemetry.tracer.startRequest(this, route.tracing);
    }
  }

  /** Runs the response phase of the route's and the picked backend's filters. */
  applyResponseFilters(headers: string[]): void {
    const route = this.route;
    if (route === null) return;
    runResponseFilters(route.responseFilters, this, headers);
    if (this.backend !== null) runResponseFilters(this.backend.responseFilters, this, headers);
  }

  /** Answers the request from the gateway (after the response filters). */
  respond(status: number, headers: readonly string[], body: Buffer | string | null): void {
    if (this.done || this.responseStarted) return;
    if (this.grpc !== GrpcKind.None && this.res !== null) {
      respondGrpc(this, status, headers, body); // gRPC clients read a grpc-status, not the HTTP status
      return;
    }
    const out = headers.slice();
    const buf = body === null ? NO_BODY : typeof body === 'string' ? Buffer.from(body) : body;
    this.applyResponseFilters(out);
    this.finishTimers();
    this.responseStarted = true;
    this.done = true;
    this.status = status;
    if (this.method !== 'HEAD') this.responseBytes += buf.length;
    this.complete();
    const res = this.res;
    if (res === null) {
      writeRawResponse(this.socket, status, out, buf);
      return;
    }
    out.push('content-length', String(buf.length));
    try {
      res.writeHead(status, out);
    } catch {
      // A header value node refuses (from a filter): answer without the extra headers.
      try {
        res.writeHead(status, ['content-length', String(buf.length)]);
      } catch {
        res.destroy();
        return;
      }
    }
    res.end(this.method === 'HEAD' ? undefined : buf);
  }

  respondLocal(r: LocalResponse): void {
    this.respond(r.status, r.headers, r.body);
  }

  /** The gateway's own error answers: a short text body, like Envoy's. */
  respondError(status: number, message: string): void {
    this.respond(status, message === '' ? EMPTY : ['content-type', 'text/plain'], message === '' ? null : message);
  }

  /**
   * Writes the status and headers of a proxied response (after the response
   * filters). Returns false when node refused the headers.
   */
  startResponse(status: number, headers: string[]): boolean {
    this.applyResponseFilters(headers);
    if (this.grpcWeb !== null) this.grpcWeb.responseHeaders(headers);
    this.responseStarted = true;
    this.status = status;
    const res = this.res;
    if (res === null) {
      // An upgrade request answered without switching: plain HTTP/1.1 on the raw socket, then close.
      let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
      for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
      this.socket.write(`${head}connection: close\r\n\r\n`, 'latin1');
      return true;
    }
    try {
      res.writeHead(status, headers);
      return true;
    } catch {
      // e.g. a Trailer header towards an HTTP/1.0 client, or a value node will not write.
      return false;
    }
  }

  /** Streams a body chunk downstream; false = wait for `drain`. */
  writeBody(chunk: Buffer): boolean {
    if (this.grpcWeb !== null) {
      chunk = this.grpcWeb.encode(chunk);
      if (chunk.length === 0) return true;
    }
    this.responseBytes += chunk.length;
    return this.res !== null ? this.res.write(chunk) : this.socket.write(chunk);
  }

  onDrain(resume: () => void): void {
    if (this.res !== null) this.res.on('drain', resume);
    else this.socket.on('drain', resume);
  }

  endResponse(trailers: Array<[string, string]> | null): void {
    this.finishTimers();
    this.done = true;
    const res = this.res;
    if (res === null) {
      this.complete();
      this.socket.end();
      return;
    }
    if (this.grpcWeb !== null) {
      // grpc-web carries the trailers in the body.
      const tail = this.grpcWeb.finish(trailers);
      if (tail !== null) {
        this.responseBytes += tail.length;
        this.complete();
        res.end(tail);
        return;
      }
    }
    this.complete();
    if (trailers !== null && trailers.length > 0) res.addTrailers(trailers);
    res.end();
  }

  /** Ends a request whose response already started, so the client sees a cut stream, never a short "complete" one. */
  abortDownstream(): void {
    this.finishTimers();
    this.done = true;
    this.complete();
    if (this.res !== null) this.res.destroy();
    else this.socket.destroy();
  }

  finishTimers(): void {
    if (this.requestTimer !== null) {
      clearTimeout(this.requestTimer);
      this.requestTimer = null;
    }
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }

  /**
   * The end-of-request hook (metrics), run once whichever way the request
   * ended: answered, proxied to the end, cut, refused or abandoned.
   */
  complete(): void {
    if (this.recorded) return;
    this.recorded = true;
    if (this.trace !== null) this.trace.end(this);
    const log = this.telemetry.accessLog;
    if (log !== null) log.log(this);
    const m = this.runtime.metrics;
    if (!m.enabled) return;
    const route = this.route;
    let series = this.metricsSeries;
    if (route !== null) {
      m.requestEnded(route.metricsSeries);
      series = route.metricsSeries;
      const b = this.backend;
      if (b !== null && b.metricsSeries >= 0) series = b.metricsSeries;
      if (route.vhostSeries >= 0) m.classRequest(route.vhostSeries, this.status);
      const es = route.endpointStats;
      if (es !== null && b !== null && this.target !== null) es.record(b.name, this.target.address, this.status);
    }
    m.record(
      series,
      methodIndex(this.method),
      this.status,
      performance.now() - this.startMs,
      this.requestBytes,
      this.responseBytes,
    );
    if (route !== null && route.sizeStats) m.recordSizes(series, this.requestBytes, this.responseBytes);
  }

  // ---- AccessLogEntry: read only when a line is written

  requestHeader(name: string): string | undefined {
    const list = this.headers !== EMPTY ? this.headers : this.rawHeaders;
    for (let i = 0; i < list.length; i += 2) {
      if (nameIs(list[i], name)) return list[i + 1];
    }
    return undefined;
  }

  protocol(): string {
    const v = (this.req as IncomingMessage).httpVersion;
    return v === undefined ? 'HTTP/2' : `HTTP/${v}`;
  }

  upstreamHost(): string | null {
    return this.target === null ? null : this.target.address;
  }

  upstreamCluster(): string | null {
    return this.backend === null ? null : this.backend.name;
  }

  routeName(): string | null {
    return this.route === null ? null : this.route.name;
  }

  downstreamRemoteAddress(): string {
    return `${peerAddress(this.socket)}:${this.socket.remotePort ?? 0}`;
  }

  downstreamLocalAddress(): string {
    const a = this.socket.localAddress ?? '';
    return `${a.startsWith('::ffff:') ? a.slice(7) : a}:${this.socket.localPort ?? 0}`;
  }

  private refuse(status: number): false {
    this.done = true;
    this.status = status;
    this.complete();
    const res = this.res;
    if (res === null) {
      writeRawResponse(this.socket, status, EMPTY, NO_BODY);
    } else {
      res.shouldKeepAlive = false;
      res.writeHead(status, ['content-length', '0', 'connection', 'close']);
      res.end();
    }
    return false;
  }
}

function runResponseFilters(filters: readonly HttpFilter[], ctx: RequestContext, headers: string[]): void {
  for (let i = 0; i < filters.length; i++) filters[i].onResponse!(ctx, headers);
}

/** A response written by hand on a socket that node's HTTP layer no longer owns (upgrades, client errors). */
export function writeRawResponse(socket: Socket, status: number, headers: readonly string[], body: Buffer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(body.length === 0 ? head : Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/** Host for matching: lower case, port stripped (IPv6 literals keep their brackets), no trailing dot. */
export function matchHost(authority: string): string {
  let host: string;
  if (authority.charCodeAt(0) === 91 /* [ */) {
    const end = authority.indexOf(']');
    host = end === -1 ? authority : authority.slice(0, end + 1);
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === 46 /* . */) host = host.slice(0, -1);
  return host.toLowerCase();
}

function peerAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** First value of each parameter, percent-decoded (`+` is a space), as Envoy's query matcher reads them. */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query.length <= 1) return out;
  for (const part of query.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, eq === -1 ? '' : decode(part.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** RFC 3986 §5.2.4, so that `/public/../admin` is routed (and forwarded) as `/admin`. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === '.') {
      if (i === segments.length - 1) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
    } else {
      out.push(s);
    }
  }
  return `/${out.join('/')}`;
}
