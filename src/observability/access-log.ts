/**
 * Access logs: one line per request, written when the request ends (the
 * same hook as metrics, RequestContext.complete()). Formats use Envoy's
 * command operators (./access-log/format.ts); lines are appended to a
 * buffer written in batches, asynchronously, never with a synchronous write
 * per request (./access-log/output.ts). This module is the logger that ties
 * a Gateway's formats, CEL matches and outputs together, and the entry
 * point the rest of the gateway imports.
 */
import { celAttributes, type LineMatch } from './access-log/cel-attributes.ts';
import { defaultFormatter, type Formatter } from './access-log/format.ts';
import type { AccessLogEntry } from './access-log/entry.ts';
import { StreamOutput, stdoutOutput, type LineOutput, type LineSink } from './access-log/output.ts';

export { ResponseFlag, responseFlagsText, type AccessLogEntry } from './access-log/entry.ts';
export {
  ENVOY_DEFAULT_TEXT_FORMAT,
  ENVOY_GATEWAY_JSON_FORMAT,
  compileJsonFormat,
  compileOperator,
  compileTextFormat,
  defaultFormatter,
  type Formatter,
} from './access-log/format.ts';
export {
  DEFAULT_MAX_BUFFERED,
  StreamOutput,
  accessLogDrops,
  accessLogFlushIntervalMs,
  countLines,
  stdoutOutput,
  type LineOutput,
  type LineSink,
} from './access-log/output.ts';
export { celAttributes, type CelAttributes, type LineMatch } from './access-log/cel-attributes.ts';

export type AccessLogFormat = 'off' | 'text' | 'json';
export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ['off', 'text', 'json'];

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

/** The serve default: lines on stdout, written asynchronously. */
export function createAccessLogger(format: AccessLogFormat): AccessLogger | null {
  if (format === 'off') return null;
  return new AccessLogger([{ format: defaultFormatter(format), match: null, sessions: true, output: stdoutOutput() }]);
}
