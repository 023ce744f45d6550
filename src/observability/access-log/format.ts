/**
 * Access-log formats: Envoy's command operators (`%START_TIME%`,
 * `%REQ(X-REQUEST-ID)%`, `%RESPONSE_CODE%`...) compiled once into a list of
 * literal parts and field readers; `text` is Envoy's default line, `json`
 * Envoy Gateway's default fields.
 */
import { hostname } from 'node:os';
import { responseFlagsText, type AccessLogEntry } from './entry.ts';

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

export function withoutPort(a: string): string {
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

/** The format of a `--access-log` choice (text = Envoy's default line, json = Envoy Gateway's default fields). */
export function defaultFormatter(format: 'text' | 'json'): Formatter {
  return format === 'json'
    ? compileJsonFormat(ENVOY_GATEWAY_JSON_FORMAT)
    : compileTextFormat(ENVOY_DEFAULT_TEXT_FORMAT);
}
