/**
 * Where formatted lines go: a buffered stream (a file, stdout) written in
 * batches, with a bound on what a stalled destination may hold.
 */
import { pino } from 'pino';
import type { AccessLogEntry } from './entry.ts';

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
