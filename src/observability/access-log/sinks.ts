/**
 * Access-log sinks of EnvoyProxy settings, kept by key across reloads: a
 * file stays open (one sonic-boom, one buffer) and an OTLP exporter keeps
 * its batch while configurations come and go; a sink no configuration uses
 * any more is flushed and closed after the swap (`sweep`).
 *
 * - File: `/dev/stdout` is the process's stdout (shared with the
 *   `--access-log` default); any other path is appended to, created with
 *   its directory when missing, and reopened by `reopen()` (SIGUSR1, after
 *   logrotate has renamed it). A stalled file drops lines beyond a bound
 *   and counts them rather than growing without limit.
 * - OpenTelemetry: OTLP logs over gRPC or HTTP (./otlp-sink.ts, loaded
 *   only when a configuration has such a sink).
 */
import { pino } from 'pino';
import type { OtlpEndpointIR } from '../../ir/types.ts';
import {
  DEFAULT_MAX_BUFFERED,
  StreamOutput,
  accessLogDrops,
  countLines,
  stdoutOutput,
  type LineOutput,
} from './output.ts';
import { otlpLogsModule } from '../telemetry-modules.ts';

type OtlpSinkType = InstanceType<ReturnType<typeof otlpLogsModule>['OtlpSink']>;

export const STDOUT_PATH = '/dev/stdout';

/** How long closing a sink may wait for its last writes (a stuck disk, an unreachable collector). */
export const CLOSE_WAIT_MS = 2000;

/** Something the registry can flush and close. */
export interface KeptSink {
  readonly output: LineOutput;
  close(): Promise<void>;
  reopen?(): void;
}

/** A file appended to by a sonic-boom that can be reopened for logrotate. */
class FileSink implements KeptSink {
  readonly output: StreamOutput;
  private readonly dest: ReturnType<typeof pino.destination>;

  constructor(
    readonly path: string,
    maxBuffered: number,
    onError: (err: Error) => void,
  ) {
    this.dest = pino.destination({ dest: path, sync: false, append: true, mkdir: true, maxLength: maxBuffered });
    this.output = new StreamOutput(this.dest, maxBuffered, (n) => accessLogDrops.add(n));
    this.dest.on('drop', (data: unknown) => this.output.drop(countLines(data)));
    this.dest.on('error', onError);
  }

  /** Opens the path again (the old file was renamed away): later lines go to a new file of that name. */
  reopen(): void {
    this.output.flush();
    try {
      this.dest.reopen();
    } catch {
      // still opening: it opens the path anyway
    }
  }

  /** Flushes and closes; bounded: a file that never opened (or a stuck disk) is given up after CLOSE_WAIT_MS. */
  close(): Promise<void> {
    this.output.flush();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        try {
          this.dest.destroy();
        } catch {
          // already gone
        }
        resolve();
      }, CLOSE_WAIT_MS);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.dest.once('close', done);
      this.dest.once('error', done);
      try {
        this.dest.end();
      } catch {
        done();
      }
    });
  }
}

export interface AccessLogSinksOptions {
  /** Characters a stalled file holds before dropping lines. */
  maxBuffered?: number;
  /** A file sink's write error (path not writable...). */
  onError?: (path: string, err: Error) => void;
}

/** The sinks of every configuration in force, by key. */
export class AccessLogSinks {
  private readonly kept = new Map<string, KeptSink>();
  private readonly maxBuffered: number;
  private readonly onError: (path: string, err: Error) => void;

  constructor(opts: AccessLogSinksOptions = {}) {
    this.maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.onError = opts.onError ?? (() => undefined);
    live.add(this);
  }

  /** A file sink's output (`/dev/stdout`: the shared stdout); `used` collects the keys a configuration uses. */
  file(path: string, used: Set<string>): LineOutput {
    if (path === STDOUT_PATH) return stdoutOutput();
    const key = `file|${path}`;
    used.add(key);
    let s = this.kept.get(key);
    if (s === undefined) {
      s = new FileSink(path, this.maxBuffered, (err) => this.onError(path, err));
      this.kept.set(key, s);
    }
    return s.output;
  }

  /** An OTLP endpoint's output; `json`: JSON-format lines, whose fields become attributes. */
  otlp(endpoint: OtlpEndpointIR, json: boolean, used: Set<string>): LineOutput {
    const key = `otlp|${endpoint.protocol ?? 'http'}|${endpoint.url}|${JSON.stringify(endpoint.headers ?? [])}|${JSON.stringify(endpoint.resourceAttributes ?? {})}`;
    used.add(key);
    let s = this.kept.get(key) as OtlpSinkType | undefined;
    if (s === undefined) {
      s = new (otlpLogsModule().OtlpSink)(endpoint);
      this.kept.set(key, s);
    }
    return json ? s.jsonOutput : s.output;
  }

  /** After a swap: sinks outside `used` are flushed and closed. */
  sweep(used: ReadonlySet<string>): Promise<void> {
    const closing: Array<Promise<void>> = [];
    for (const [key, s] of this.kept) {
      if (used.has(key)) continue;
      this.kept.delete(key);
      closing.push(s.close());
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** SIGUSR1: every file sink opens its path again. */
  reopen(): void {
    for (const s of this.kept.values()) s.reopen?.();
  }

  /** Number of sinks kept open (tests). */
  get size(): number {
    return this.kept.size;
  }

  close(): Promise<void> {
    live.delete(this);
    return this.sweep(new Set());
  }
}

/** Every open registry of this process (one per data plane). */
const live = new Set<AccessLogSinks>();

/** SIGUSR1 (logrotate's postrotate): every access-log file of this process is opened again by path. */
export function reopenAccessLogFiles(): void {
  for (const r of live) r.reopen();
}
