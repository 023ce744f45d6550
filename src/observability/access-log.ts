/**
 * Access logs: one line per request, written when the request ends (the
 * same hook as metrics, RequestContext.complete()). Formats use Envoy's
 * command operators (`%START_TIME%`, `%REQ(X-REQUEST-ID)%`,
 * `%RESPONSE_CODE%`...) and are compiled once into a list of literal parts
 * and field readers. Lines are appended to a buffer that is written in
 * batches, asynchronously (sonic-boom, as pino uses; see StreamOutput),
 * never with a synchronous write per request.
 *
 * `text` is Envoy's default format; `json` has the fields of Envoy
 * Gateway's default JSON access log.
 */
import { hostname } from 'node:os';
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
  /** Path without query, as routed (CEL `request.url_path`). */
  readonly path: string;
  /** Host without port, lower case (CEL `request.host`). */
  readonly host: string;
  /** Request headers as received, `[name, value, ...]` (CEL `request.headers`). */
  readonly rawHeaders: readonly string[];
  /** `HTTP/1.1`, `HTTP/1.0`, `HTTP/2`; null for TCP and UDP sessions. */
  protocol(): string | null;
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
const HOSTNAME = hostname();

let lastStartMs = -1;
let lastStartText = '';

/** ISO 8601 with milliseconds; requests that started in the same millisecond share one string (no Date per line). */
function startTime(e: AccessLogEntry): string {
  const ms = Math.floor(TIME_ORIGIN + e.startMs);
  if (ms !== lastStartMs) {
    lastStartMs = ms;
    lastStartText = new Date(ms).toISOString();
  }
  return lastStartText;
}

function withoutPort(a: string): string {
  const i = a.lastIndexOf(':');
  return i === -1 ? a : a.startsWith('[') ? a.slice(1, a.lastIndexOf(']')) : a.slice(0, i);
}

function pseudoOrHeader(name: string): Field {
  switch (name) {
    case ':method':
      return (e) => e.method || null;
    case ':path':
      return (e) => e.url || null;
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
      return startTime;
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
    case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
      return (e) => withoutPort(e.downstreamRemoteAddress());
    case 'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT':
      return (e) => withoutPort(e.downstreamLocalAddress());
    case 'UPSTREAM_REMOTE_ADDRESS':
      return (e) => e.upstreamHost();
    case 'REQ_WITHOUT_QUERY':
      return (e) => e.path || null;
    case 'REQUEST_DURATION':
    case 'RESPONSE_DURATION':
    case 'RESPONSE_TX_DURATION':
    case 'UPSTREAM_TRANSPORT_FAILURE_REASON':
    case 'RESPONSE_CODE_DETAILS':
    case 'CONNECTION_TERMINATION_DETAILS':
    case 'REQUESTED_SERVER_NAME':
    case 'UPSTREAM_LOCAL_ADDRESS':
      return () => null; // not measured: "-" (text) or null (JSON), as Envoy writes an unknown value
    case 'HOSTNAME':
      return () => HOSTNAME;
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

/** A destination of formatted lines: a buffered stream (StreamOutput) or an OTLP exporter (access-log/sinks.ts). */
export interface LineOutput {
  add(line: string, e: AccessLogEntry, nowMs: number): void;
  /** Writes what is buffered now (asynchronously). */
  flush(): void;
  /** Writes what is buffered before returning, where the destination can (a file descriptor). */
  flushSync?(): void;
}

/**
 * Lines to a stream, buffered and written when 64 KiB have gathered or a
 * flush interval after the first buffered line (Envoy's
 * `access_log_flush_interval`, 1 s by default), whichever comes first. At
 * high rates that is one write of 64 KiB at a time instead of one small
 * write (and thread-pool round trip) per event-loop turn: measured with
 * `npm run bench`, per-turn writes cost about a fifth of the throughput.
 * When the stream does not keep up, the buffer is capped at `maxBuffered`
 * characters: lines beyond are dropped and counted (`dropped`, and the
 * `onDrop` hook), never held without bound.
 */
export class StreamOutput implements LineOutput {
  private buf = '';
  private timer: NodeJS.Timeout | null = null;
  /** Lines dropped because the stream was stalled. */
  dropped = 0;
  private readonly flushNow = (): void => this.flush();

  constructor(
    readonly sink: LineSink,
    private readonly maxBuffered = DEFAULT_MAX_BUFFERED,
    private readonly onDrop: ((lines: number) => void) | null = null,
    private readonly flushIntervalMs = accessLogFlushIntervalMs(),
  ) {}

  add(line: string): void {
    if (this.buf.length + line.length > this.maxBuffered) {
      this.drop(1);
      return;
    }
    this.buf += line;
    if (this.buf.length >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) {
      // Unref'd: a pending flush never keeps the process alive; close() writes what is left.
      this.timer = setTimeout(this.flushNow, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Called by the stream when it refuses a chunk (sonic-boom `drop`): its lines count as dropped. */
  drop(lines: number): void {
    this.dropped += lines;
    this.onDrop?.(lines);
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buf === '') return;
    const chunk = this.buf;
    this.buf = '';
    try {
      this.sink.write(chunk);
    } catch {
      // The stream was closed (its file left the configuration while requests of the old one were finishing).
      this.drop(countLines(chunk));
    }
  }

  /** Before the process exits: everything buffered reaches the file descriptor. */
  flushSync(): void {
    this.flush();
    try {
      this.sink.flushSync?.();
    } catch {
      // stdout already closed, or the stream is still opening
    }
  }
}

/** A stream output writes as soon as this much is buffered. */
const FLUSH_BYTES = 64 * 1024;

/** Envoy's default access-log flush interval; `SLUICE_ACCESS_LOG_FLUSH_MS` changes it (tests use a short one). */
export function accessLogFlushIntervalMs(): number {
  const v = Number(process.env.SLUICE_ACCESS_LOG_FLUSH_MS);
  return Number.isFinite(v) && v >= 0 ? v : 1000;
}

/** Characters a stream output holds at most while its destination is stalled (about 16 MiB). */
export const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

/** Values CEL matches read: Envoy's attribute names (`request.headers['x']`, `response.code`). */
export type CelAttributes = Record<string, unknown>;
/** A compiled `matches` list: true when one expression is true (access-log/matches.ts). */
export type LineMatch = (attributes: CelAttributes) => boolean;

/** One EnvoyProxy access-log setting × sink. */
export interface AccessLogOutput {
  readonly format: Formatter;
  /** null = every line. */
  readonly match: LineMatch | null;
  /** Type Listener (the default): TCP/UDP sessions are logged too; Route: HTTP requests only. */
  readonly sessions: boolean;
  readonly output: LineOutput;
}

/**
 * A Gateway's access log: each finished request (and, for outputs of type
 * Listener, each TCP/UDP session) is formatted and handed to every output
 * whose matches accept it. Attributes for CEL matches are built once per
 * entry, only when some output has matches.
 */
export class AccessLogger {
  private readonly outputs: readonly AccessLogOutput[];
  /** Some output takes TCP/UDP sessions. */
  readonly sessions: boolean;
  private readonly needsAttributes: boolean;

  constructor(format: Formatter, sink: LineSink);
  constructor(outputs: AccessLogOutput[]);
  constructor(formatOrOutputs: Formatter | AccessLogOutput[], sink?: LineSink) {
    if (typeof formatOrOutputs === 'function') {
      this.outputs = [{ format: formatOrOutputs, match: null, sessions: true, output: new StreamOutput(sink!) }];
    } else {
      this.outputs = formatOrOutputs;
    }
    this.sessions = this.outputs.some((o) => o.sessions);
    this.needsAttributes = this.outputs.some((o) => o.match !== null);
  }

  /** A finished HTTP request. */
  log(e: AccessLogEntry): void {
    this.write(e, false);
  }

  /** A finished TCP, TLS passthrough or UDP session. */
  logSession(e: AccessLogEntry): void {
    if (this.sessions) this.write(e, true);
  }

  private write(e: AccessLogEntry, session: boolean): void {
    const now = performance.now();
    const attrs = this.needsAttributes ? celAttributes(e, now, session) : null;
    const outputs = this.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      if (session && !o.sessions) continue;
      if (o.match !== null && !o.match(attrs!)) continue;
      o.output.add(o.format(e, now), e, now);
    }
  }

  flush(): void {
    for (const o of this.outputs) o.output.flush();
  }

  /** Before the process exits: everything buffered reaches the file descriptor. */
  close(): void {
    for (const o of this.outputs) {
      if (o.output.flushSync !== undefined) o.output.flushSync();
      else o.output.flush();
    }
  }
}

/** Envoy's attribute names over a finished request or session (numbers as CEL ints). */
export function celAttributes(e: AccessLogEntry, now: number, session: boolean): CelAttributes {
  const headers = new Map<string, string>();
  const raw = e.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? raw[i + 1] : `${prev},${raw[i + 1]}`);
  }
  const remote = e.downstreamRemoteAddress();
  const local = e.downstreamLocalAddress();
  const query = e.url.length > e.path.length ? e.url.slice(e.path.length) : '';
  return {
    request: session
      ? { headers, size: BigInt(e.requestBytes), duration: durationOf(now - e.startMs) }
      : {
          method: e.method,
          path: e.url,
          url_path: e.path,
          query: query.startsWith('?') ? query.slice(1) : query,
          host: e.host,
          scheme: e.requestHeader('x-forwarded-proto') ?? 'http',
          protocol: e.protocol() ?? '',
          headers,
          id: e.requestHeader('x-request-id') ?? '',
          useragent: e.requestHeader('user-agent') ?? '',
          referer: e.requestHeader('referer') ?? '',
          size: BigInt(e.requestBytes),
          duration: durationOf(now - e.startMs),
        },
    response: {
      code: BigInt(e.status),
      flags: BigInt(e.responseFlags),
      size: BigInt(e.responseBytes),
    },
    source: { address: addressOf(remote), port: portOf(remote) },
    destination: { address: addressOf(local), port: portOf(local) },
    upstream: { address: e.upstreamHost() ?? '' },
    xds: { route_name: e.routeName() ?? '', cluster_name: e.upstreamCluster() ?? '' },
    connection: { mtls: false },
  };
}

/** CEL has no duration literal short of `duration('1s')`; seconds as a double compare naturally. */
function durationOf(ms: number): number {
  return ms / 1000;
}

function addressOf(a: string): string {
  return withoutPort(a);
}

function portOf(a: string): bigint {
  const i = a.lastIndexOf(':');
  const n = i === -1 ? 0 : Number(a.slice(i + 1));
  return BigInt(Number.isInteger(n) ? n : 0);
}

/** The format of a `--access-log` choice (text = Envoy's default line, json = Envoy Gateway's default fields). */
export function defaultFormatter(format: 'text' | 'json'): Formatter {
  return format === 'json'
    ? compileJsonFormat(ENVOY_GATEWAY_JSON_FORMAT)
    : compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT);
}

let stdoutStream: StreamOutput | null = null;

/** The process's stdout as a line output, shared by every access log writing there (one buffer, one writer). */
export function stdoutOutput(): StreamOutput {
  if (stdoutStream === null) {
    const dest = pino.destination({ dest: 1, sync: false, maxLength: DEFAULT_MAX_BUFFERED });
    const out = new StreamOutput(dest, DEFAULT_MAX_BUFFERED, (n) => accessLogDrops.add(n));
    dest.on('drop', (data: string) => out.drop(countLines(data)));
    stdoutStream = out;
  }
  return stdoutStream;
}

export function countLines(data: unknown): number {
  const s = typeof data === 'string' ? data : String(data);
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return Math.max(1, n);
}

/** Lines dropped by stalled access-log streams in this process (read by the metrics, sluice_access_log_dropped_total). */
export const accessLogDrops = {
  total: 0,
  add(n: number): void {
    this.total += n;
  },
};

/** The serve default: lines on stdout, written asynchronously. */
export function createAccessLogger(format: AccessLogFormat): AccessLogger | null {
  if (format === 'off') return null;
  return new AccessLogger([{ format: defaultFormatter(format), match: null, sessions: true, output: stdoutOutput() }]);
}
