/**
 * What the echo answers, independent of the listener the request came in
 * on: echo, delay, `X-Echo-Set-Header`, the status and retry simulators
 * and the router's redirects (ECHO.md sections 3-5). Listeners turn an
 * EchoReply into bytes on the wire (or a TCP reset).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { echoBody, errorBody, type EchoIdentity, type TlsInfo } from './echo-body.ts';
import { parseGoDuration } from './go-duration.ts';
import { echoHeaderMap, echoSetHeaders, rawValues } from './headers.ts';
import { RetryState } from './retry.ts';
import { routeRequest, splitTarget } from './routing.ts';

export interface EchoRequest {
  method: string;
  /** The request target exactly as received (HTTP/2: `:path`). */
  target: string;
  /** Host header, or `:authority`. */
  host: string;
  /** `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`. */
  proto: string;
  /** Node's rawHeaders: name, value, name, value, ... */
  rawHeaders: string[];
  /** `ip:port` of the peer, for the log line. */
  remote: string;
  tls?: TlsInfo;
  /** The request body (only read for a form-encoded `delay`). */
  readBody(): Promise<Buffer>;
}

export type EchoReply =
  | { kind: 'response'; status: number; headers: [string, string][]; body: string }
  /** Close the connection with a TCP reset and no response (retry simulator). */
  | { kind: 'reset' }
  /** The request is a WebSocket handshake for `/ws`; the listener takes the connection over. */
  | { kind: 'websocket' };

export interface HandlerOptions {
  identity: EchoIdentity;
  /** Called once per echoed request with its target (the upstream log line `Echoing back request made to ...`). */
  onEcho?: (target: string, remote: string) => void;
}

const TEXT = 'text/plain; charset=utf-8';

function text(status: number, body: string, extra: [string, string][] = []): EchoReply {
  return {
    kind: 'response',
    status,
    headers: [['Content-Type', TEXT], ['X-Content-Type-Options', 'nosniff'], ...extra],
    body,
  };
}

function jsonError(err: unknown): EchoReply {
  return {
    kind: 'response',
    status: 500,
    headers: [
      ['Content-Type', 'application/json'],
      ['X-Content-Type-Options', 'nosniff'],
    ],
    body: errorBody((err as Error).message),
  };
}

/** Go's strconv.Atoi. */
function atoi(s: string | null): number | undefined {
  if (s === null || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Go's r.FormValue: a form-encoded POST/PUT/PATCH body first, then the URL query. */
async function formValue(req: EchoRequest, name: string): Promise<string> {
  const type = (rawValues(req.rawHeaders, 'content-type')[0] ?? '').split(';')[0].trim().toLowerCase();
  if (['POST', 'PUT', 'PATCH'].includes(req.method) && type === 'application/x-www-form-urlencoded') {
    const v = new URLSearchParams((await req.readBody()).toString('utf8')).get(name);
    if (v !== null) return v;
  }
  return query(req).get(name) ?? '';
}

function query(req: EchoRequest): URLSearchParams {
  return new URLSearchParams(splitTarget(req.target).rawQuery ?? '');
}

export class EchoHandler {
  readonly #opts: HandlerOptions;
  readonly #retry = new RetryState();

  constructor(opts: HandlerOptions) {
    this.#opts = opts;
  }

  get identity(): EchoIdentity {
    return this.#opts.identity;
  }

  /** The HTTP and TLS listeners: routed (section 3). */
  async routed(req: EchoRequest): Promise<EchoReply> {
    const route = routeRequest(req.method, req.target);
    switch (route.kind) {
      case 'bad-request':
        return text(400, '400 Bad Request');
      case 'redirect': {
        const body = ['GET', 'HEAD'].includes(req.method)
          ? `<a href="${route.location}">Moved Permanently</a>.\n\n`
          : '';
        return {
          kind: 'response',
          status: 301,
          headers: [
            ['Location', route.location],
            ...(body ? ([['Content-Type', 'text/html; charset=utf-8']] as [string, string][]) : []),
          ],
          body,
        };
      }
      case 'health':
        return text(200, 'OK');
      case 'status': {
        const m = /^\/status\/(\d\d\d)$/.exec(req.target);
        return { kind: 'response', status: m ? Number(m[1]) : 400, headers: [], body: '' };
      }
      case 'retry':
        return this.#retry.exclusive(() => this.#retried(req));
      case 'ws':
        return { kind: 'websocket' };
      case 'echo':
        return this.echo(req);
    }
  }

  /** The h2c listener: no router, HTTP/1.x only with `Upgrade: h2c` (section 6). */
  async h2c(req: EchoRequest): Promise<EchoReply> {
    if (req.proto !== 'HTTP/2.0' && rawValues(req.rawHeaders, 'upgrade')[0] !== 'h2c')
      return text(400, 'Expected h2c request');
    return this.echo(req);
  }

  async #retried(req: EchoRequest): Promise<EchoReply> {
    const q = query(req);
    const uuid = q.get('uuid');
    if (!uuid) return text(400, 'uuid is required\n');
    const succeedAfter = atoi(q.get('succeedAfter'));
    if (succeedAfter === undefined) return text(400, 'succeedAfter is required\n');
    if (!this.#retry.shouldFail(uuid, succeedAfter)) return this.echo(req);
    const delay = q.get('delayRetry');
    if (delay !== null) {
      try {
        await sleep(Math.max(0, parseGoDuration(delay)));
      } catch (err) {
        return jsonError(err);
      }
    }
    const code = q.get('responseCode');
    if (code === null) return { kind: 'reset' };
    // Go's WriteHeader takes any three-digit code.
    const status = atoi(code);
    if (status === undefined || status < 100 || status > 999) return text(400, 'responseCode must be an HTTP status\n');
    return { kind: 'response', status, headers: [], body: '' };
  }

  /** Section 4: delay, then the JSON echo with the requested response headers. */
  async echo(req: EchoRequest): Promise<EchoReply> {
    this.#opts.onEcho?.(req.target, req.remote);
    const delay = await formValue(req, 'delay');
    if (delay !== '') {
      try {
        await sleep(Math.max(0, parseGoDuration(delay)));
      } catch (err) {
        return jsonError(err);
      }
    }
    const fixed = new Set(['content-type', 'x-content-type-options']);
    const requested = echoSetHeaders(rawValues(req.rawHeaders, 'x-echo-set-header')).filter(
      ([n]) => !fixed.has(n.toLowerCase()),
    );
    const body = echoBody(
      {
        path: req.target,
        host: req.host,
        method: req.method,
        proto: req.proto,
        headers: echoHeaderMap(req.rawHeaders),
        ...(req.tls ? { tls: req.tls } : {}),
      },
      this.#opts.identity,
    );
    return {
      kind: 'response',
      status: 200,
      headers: [...requested, ['Content-Type', 'application/json'], ['X-Content-Type-Options', 'nosniff']],
      body,
    };
  }
}
