/**
 * Access logs: one line per request, written when the request ends (the
 * same hook as metrics, RequestContext.complete()). Formats use Envoy's
 * command operators (`%START_TIME%`, `%REQ(X-REQUEST-ID)%`,
 * `%RESPONSE_CODE%`...) and are compiled once into a list of literal parts
 * and field readers. Lines are appended to a buffer that is written once per
 * turn of the event loop, asynchronously (sonic-boom, as pino uses), never
 * with a synchronous write per request.
 *
 * `text` is Envoy's default format; `json` has the fields of Envoy
 * Gateway's default JSON access log.
 */
import { pino } from 'pino';

export type AccessLogFormat = 'off' | 'text' | 'json';
export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ['off', 'text', 'json'];

/** What a formatter reads from a finished request (RequestContext implements it). */
export interface AccessLogEntry {
  readonly method: string;
  /** Request target as received (path + query), before any rewrite. */
  readonly url: string;
  readonly authority: string;
  readonly status: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** performance.now() at arrival. */
  readonly startMs: number;
  /** Envoy response flags (ResponseFlag bits). */
  readonly responseFlags: number;
  /** Value of a request header as sent upstream (or as received when nothing was sent); lower-case name. */
  requestHeader(name: string): string | undefined;
  /** `HTTP/1.1`, `HTTP/1.0`, `HTTP/2`. */
  protocol(): string;
  /** `address:port` of the last upstream attempt, or null. */
  upstreamHost(): string | null;
  upstreamCluster(): string | null;
  routeName(): string | null;
  downstreamRemoteAddress(): string;
  downstreamLocalAddress(): string;
}

/** Envoy's response flags, the ones the gateway can tell. */
export const ResponseFlag = {
  /** NR: no route. */
  NoRoute: 1,
  /** UH: no healthy upstream. */
  NoHealthyUpstream: 2,
  /** UF: upstream connection failure. */
  UpstreamConnectionFailure: 4,
  /** UT: upstream request timeout. */
  UpstreamRequestTimeout: 8,
  /** UC: upstream connection termination. */
  UpstreamConnectionTermination: 16,
  /** URX: retries exhausted. */
  UpstreamRetryLimitExceeded: 32,
  /** DC: the client went away. */
  DownstreamConnectionTermination: 64,
  /** UPE: upstream protocol error. */
  UpstreamProtocolError: 128,
} as const;

const FLAG_NAMES: Array<[number, string]> = [
  [ResponseFlag.NoHealthyUpstream, 'UH'],
  [ResponseFlag.UpstreamConnectionFailure, 'UF'],
  [ResponseFlag.UpstreamRequestTimeout, 'UT'],
  [ResponseFlag.UpstreamConnectionTermination, 'UC'],
  [ResponseFlag.NoRoute, 'NR'],
  [ResponseFlag.UpstreamRetryLimitExceeded, 'URX'],
  [ResponseFlag.DownstreamConnectionTermination, 'DC'],
  [ResponseFlag.UpstreamProtocolError, 'UPE'],
];

export function responseFlagsText(flags: number): string | null {
  if (flags === 0) return null;
  let out = '';
  for (const [bit, name] of FLAG_NAMES) if ((flags & bit) !== 0) out += out === '' ? name : `,${name}`;
  return out;
}

/** A field reader: a string, a number, or null ("-" in text, null in JSON). */
type Field = (e: AccessLogEntry, nowMs: number) => string | number | null;

/** Envoy's default format (without the trailing newline). */
export const ENVOY_DEFAULT_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';

/** Envoy Gateway's default JSON fields (those the gateway can fill). */
export const ENVOY_GATEWAY_JSON_FORMAT: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  'x-envoy-origin-path': '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  'x-forwarded-for': '%REQ(X-FORWARDED-FOR)%',
  'user-agent': '%REQ(USER-AGENT)%',
  'x-request-id': '%REQ(X-REQUEST-ID)%',
  ':authority': '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  route_name: '%ROUTE_NAME%',
};

const TIME_ORIGIN = performance.timeOrigin;

function pseudoOrHeader(name: string): Field {
  switch (name) {
    case ':method':
      return (e) => e.method;
    case ':path':
      return (e) => e.url;
    case ':authority':
      return (e) => e.authority || null;
    case ':scheme':
      return () => null;
    default:
      return (e) => e.requestHeader(name) ?? null;
  }
}

/** One command operator (without the % signs) → a field reader. Unknown operators throw. */
export function compileOperator(op: string): Field {
  const m = /^(REQ|RESP)\(([^)?]+)(?:\?([^)]+))?\)(?::(\d+))?$/.exec(op);
  if (m !== null) {
    if (m[1] === 'RESP') return () => null; // response headers are not kept after the response
    const main = pseudoOrHeader(m[2].toLowerCase());
    const alt = m[3] === undefined ? null : pseudoOrHeader(m[3].toLowerCase());
    const max = m[4] === undefined ? 0 : Number(m[4]);
    return (e, now) => {
      let v = main(e, now) ?? (alt === null ? null : alt(e, now));
      if (max > 0 && typeof v === 'string' && v.length > max) v = v.slice(0, max);
      return v;
    };
  }
  switch (op) {
    case 'START_TIME':
      return (e) => new Date(TIME_ORIGIN + e.startMs).toISOString();
    case 'RESPONSE_CODE':
      return (e) => e.status;
    case 'RESPONSE_FLAGS':
      return (e) => responseFlagsText(e.responseFlags);
    case 'BYTES_RECEIVED':
      return (e) => e.requestBytes;
    case 'BYTES_SENT':
      return (e) => e.responseBytes;
    case 'DURATION':
      return (e, now) => Math.round(now - e.startMs);
    case 'PROTOCOL':
      return (e) => e.protocol();
    case 'UPSTREAM_HOST':
      return (e) => e.upstreamHost();
    case 'UPSTREAM_CLUSTER':
      return (e) => e.upstreamCluster();
    case 'ROUTE_NAME':
      return (e) => e.routeName();
    case 'DOWNSTREAM_REMOTE_ADDRESS':
      return (e) => e.downstreamRemoteAddress();
    case 'DOWNSTREAM_LOCAL_ADDRESS':
      return (e) => e.downstreamLocalAddress();
    default:
      throw new Error(`access log format: unknown command operator %${op}%`);
  }
}

export type Formatter = (e: AccessLogEntry, nowMs: number) => string;

/** A text format (`%OPERATOR%` among literal text, `%%` for a percent sign), compiled once. A newline is added. */
export function compileTextFormat(format: string): Formatter {
  const parts: Array<string | Field> = [];
  const re = /%%|%([A-Z_]+(?:\([^)]*\))?(?::\d+)?)%/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    parts.push(m[0] === '%%' ? '%' : compileOperator(m[1]));
    last = re.lastIndex;
  }
  if (last < format.length) parts.push(format.slice(last));
  parts.push('\n');
  return (e, now) => {
    let s = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (typeof p === 'string') s += p;
      else {
        const v = p(e, now);
        s += v === null ? '-' : v;
      }
    }
    return s;
  };
}

/** A JSON format: each value is one command operator; numbers stay numbers, missing values are null. */
export function compileJsonFormat(fields: Readonly<Record<string, string>>): Formatter {
  const keys: string[] = [];
  const readers: Field[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const m = /^%([^%]+)%$/.exec(v);
    if (m === null) throw new Error(`access log format: ${k}: expected one %OPERATOR%, got ${v}`);
    keys.push(`${keys.length === 0 ? '{' : ','}${JSON.stringify(k)}:`);
    readers.push(compileOperator(m[1]));
  }
  return (e, now) => {
    let s = '';
    for (let i = 0; i < keys.length; i++) {
      const v = readers[i](e, now);
      s += keys[i] + (v === null ? 'null' : typeof v === 'number' ? String(v) : JSON.stringify(v));
    }
    return `${s}}\n`;
  };
}

/** Where lines go: anything with sonic-boom's write/flushSync (tests pass a collector). */
export interface LineSink {
  write(chunk: string): unknown;
  flushSync?(): void;
}

/** Buffers lines and writes them once per event-loop turn (or when the buffer passes 64 KiB). */
export class AccessLogger {
  private buf = '';
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(
    private readonly format: Formatter,
    private readonly sink: LineSink,
  ) {}

  log(e: AccessLogEntry): void {
    this.buf += this.format(e, performance.now());
    if (this.buf.length > 65536) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf === '') return;
    const chunk = this.buf;
    this.buf = '';
    this.sink.write(chunk);
  }

  /** Before the process exits: everything buffered reaches the file descriptor. */
  close(): void {
    this.flush();
    try {
      this.sink.flushSync?.();
    } catch {
      // stdout already closed
    }
  }
}

/** The serve default: lines on stdout, written asynchronously. */
export function createAccessLogger(format: AccessLogFormat): AccessLogger | null {
  if (format === 'off') return null;
  const formatter =
    format === 'json' ? compileJsonFormat(ENVOY_GATEWAY_JSON_FORMAT) : compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT);
  return new AccessLogger(formatter, pino.destination({ dest: 1, sync: false }));
}
