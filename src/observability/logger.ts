/**
 * The gateway's own structured log (JSON lines on stderr), separate from
 * access logs and from command output on stdout.
 */
import { pino, type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { name: 'sluice' } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
