/**
 * The data-plane side of a cluster worker: one DataPlane, fed over IPC by
 * the control process. The entry point (`worker-main.ts`) only picks the
 * factory, so tests can run this same loop around a fake data plane.
 */
import { ACCESS_LOG_FORMATS, createAccessLogger, type AccessLogFormat } from '../observability/access-log.ts';
import { reopenAccessLogFiles } from '../observability/access-log/sinks.ts';
import { createLogger, LOG_LEVELS, type LogLevel } from '../observability/logger.ts';
import { isMessage, type FromWorker, type ToWorker } from './messages.ts';
import { ApplyQueue, type DataPlaneFactory } from './runner.ts';

/** What the control process tells a worker through its environment at fork. */
export const WORKER_ENV = {
  slot: 'SLUICE_WORKER_SLOT',
  portOffset: 'SLUICE_PORT_OFFSET',
  logLevel: 'SLUICE_LOG_LEVEL',
  /** Hex seed for TLS session-ticket keys: shared by all workers so a ticket from one resumes on another. */
  tlsTicketSeed: 'SLUICE_TLS_TICKET_SEED',
  /** `off`: workers count nothing (to measure what counting costs). */
  metrics: 'SLUICE_METRICS',
  /** Access log format: off, text or json (default off). */
  accessLog: 'SLUICE_ACCESS_LOG',
} as const;

/** Drain time when a worker is signalled directly rather than told by the control process. */
const SIGNAL_GRACE_MS = 5000;

/** How often a worker sends its counters unasked (a scrape also pulls them). */
export const METRICS_INTERVAL_MS = 1000;

function send(msg: FromWorker): void {
  // The control process may already be gone; the 'disconnect' exit below handles that.
  if (process.connected) process.send?.(msg);
}

export function runWorker(factory: DataPlaneFactory): void {
  const env = process.env;
  const level = (env[WORKER_ENV.logLevel] ?? 'info') as LogLevel;
  const log = createLogger(LOG_LEVELS.includes(level) ? level : 'info').child({
    worker: Number(env[WORKER_ENV.slot] ?? 0),
  });
  const seed = env[WORKER_ENV.tlsTicketSeed];
  const format = (env[WORKER_ENV.accessLog] ?? 'off') as AccessLogFormat;
  const accessLog = createAccessLogger(ACCESS_LOG_FORMATS.includes(format) ? format : 'off');
  const dataPlane = factory({
    ...(accessLog ? { accessLog } : {}),
    portOffset: Number(env[WORKER_ENV.portOffset] ?? 0),
    log,
    ...(env[WORKER_ENV.metrics] === 'off' ? { tuning: { metrics: false } } : {}),
    ...(seed ? { tlsTicketSeed: Buffer.from(seed, 'hex') } : {}),
  });
  const queue = new ApplyQueue(dataPlane, (version, result) => {
    if (result instanceof Error) {
      log.error({ err: result }, `failed to apply configuration v${version}`);
      send({ type: 'sluice:apply-failed', version, error: result.message });
    } else {
      send({ type: 'sluice:applied', version, result });
    }
  });

  let closing: Promise<void> | undefined;
  const shutdown = (graceMs: number): Promise<void> =>
    (closing ??= (async () => {
      await queue.idle();
      await dataPlane.close(graceMs).catch((err: unknown) => log.error({ err }, 'data plane close failed'));
      process.exit(0);
    })());

  const sendMetrics = (id?: number): void => {
    if (dataPlane.metrics)
      send({ type: 'sluice:metrics', ...(id !== undefined ? { id } : {}), snapshot: dataPlane.metrics() });
  };
  const metricsTimer = setInterval(sendMetrics, METRICS_INTERVAL_MS);
  metricsTimer.unref();

  process.on('message', (m: unknown) => {
    if (!isMessage<ToWorker>(m)) return;
    if (m.type === 'sluice:apply' && !closing) queue.push(m.version, m.ir);
    else if (m.type === 'sluice:shutdown') {
      clearInterval(metricsTimer);
      sendMetrics(); // the last counters, kept by the control process after this worker exits
      void shutdown(m.graceMs);
    } else if (m.type === 'sluice:metrics-pull') sendMetrics(m.id);
  });
  // Signalled directly (Ctrl-C reaches the whole process group, systemd
  // signals the whole cgroup): drain and leave; the control process decides
  // whether to start a replacement.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void shutdown(SIGNAL_GRACE_MS));
  // logrotate: access-log files are renamed away, then SIGUSR1 opens them again by path.
  process.on('SIGUSR1', () => {
    log.info('SIGUSR1: reopening access log files');
    reopenAccessLogFiles();
  });
  send({ type: 'sluice:hello' });
}
