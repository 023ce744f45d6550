/**
 * N data-plane workers under `node:cluster`. Listen sockets are created by
 * the control process and shared with the workers, so every worker may bind
 * the same address and port, specific loopback addresses included. Workers
 * accept on the shared socket themselves and the kernel spreads
 * connections (`SCHED_NONE`, what Envoy's workers do by default): with
 * node's default round-robin the control process accepts every connection
 * and passes it over IPC, which `npm run bench` measured at a third of the
 * CPU per request with a connection per request (docs/performance.md).
 * `NODE_CLUSTER_SCHED_POLICY=rr` brings round-robin back.
 *
 * A worker that dies is restarted after a backoff (doubling while it keeps
 * dying young, reset once one lives long enough) and receives the current
 * configuration as soon as it says hello.
 */
import { randomBytes } from 'node:crypto';
import cluster, { type Worker } from 'node:cluster';
import type { IR } from '../ir/types.ts';
import type { AccessLogFormat } from '../observability/access-log.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetricsSnapshot } from '../observability/metrics/data-plane-metrics.ts';
import { MetricsAggregate } from '../observability/metrics/aggregate.ts';
import { isMessage, type FromWorker, type ToWorker } from './messages.ts';
import type { DataPlaneRunner, WorkerState } from './runner.ts';
import { WORKER_ENV } from './worker.ts';

export interface ClusterRunnerOptions {
  workers: number;
  /** The worker entry module (production: `worker-main`; tests: one with a fake data plane). */
  exec: string;
  /** Node flags for workers (default: this process's, which carry tsx's `--import` when run from source). */
  execArgv?: string[];
  portOffset: number;
  logLevel: string;
  log: Logger;
  restartBackoffMs?: { initial: number; max: number };
  /** A worker that lived this long before dying is restarted after the initial backoff again. */
  stableAfterMs?: number;
  /** apply() stops waiting for a worker that has not answered after this long. */
  applyTimeoutMs?: number;
  /** collectMetrics() uses the last snapshot of a worker that has not answered a pull after this long. */
  metricsPullTimeoutMs?: number;
  /** `off`: workers count nothing. */
  metrics?: 'on' | 'off';
  /** Workers' access log on stdout (default off). */
  accessLog?: AccessLogFormat;
}

interface Slot extends WorkerState {
  worker?: Worker;
  /** The worker's last counters (cumulative since it started). */
  metrics?: MetricsSnapshot;
  startedAt: number;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
}

interface Waiter {
  version: number;
  pending: Set<number>;
  resolve: () => void;
}

/**
 * Node flags for data-plane workers: the parent's, plus a smaller young generation (8 MiB semi-spaces) unless
 * set already. The proxy's garbage is short-lived per-request objects; measured with `npm run bench`, this cuts
 * each worker's RSS under load by about a tenth at the same throughput.
 */
export function workerExecArgv(parent: readonly string[]): string[] {
  return parent.some((a) => a.startsWith('--max-semi-space-size'))
    ? [...parent]
    : [...parent, '--max-semi-space-size=8'];
}

export class ClusterRunner implements DataPlaneRunner {
  readonly #opts: Required<ClusterRunnerOptions>;
  readonly #slots: Slot[] = [];
  readonly #waiters = new Set<Waiter>();
  #current: { version: number; ir: IR } | undefined;
  #closing = false;
  /** One seed for the process tree: every worker derives the same ticket keys (restarted ones too). */
  readonly #ticketSeed = randomBytes(32).toString('hex');
  /** Counters of workers that have exited (their last snapshot), so totals never go down on a restart. */
  readonly #retired = new MetricsAggregate();
  #pullId = 0;
  readonly #pulls = new Map<number, { pending: Set<number>; resolve: () => void }>();

  constructor(opts: ClusterRunnerOptions) {
    this.#opts = {
      execArgv: workerExecArgv(process.execArgv),
      restartBackoffMs: { initial: 100, max: 10_000 },
      stableAfterMs: 10_000,
      applyTimeoutMs: 30_000,
      metricsPullTimeoutMs: 1000,
      metrics: 'on',
      accessLog: 'off',
      ...opts,
    };
  }

  start(): void {
    if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: this.#opts.exec, execArgv: this.#opts.execArgv, args: [] });
    for (let slot = 0; slot < this.#opts.workers; slot++) {
      const s: Slot = {
        slot,
        pid: 0,
        state: 'starting',
        restarts: 0,
        startedAt: 0,
        backoffMs: this.#opts.restartBackoffMs.initial,
      };
      this.#slots.push(s);
      this.#fork(s);
    }
  }

  apply(version: number, ir: IR): Promise<void> {
    this.#current = { version, ir };
    const pending = new Set<number>();
    for (const s of this.#slots) {
      if (s.state !== 'starting' && s.state !== 'running') continue;
      pending.add(s.slot);
      // A starting worker gets the current configuration when it says hello.
      if (s.state === 'running') this.#send(s, { type: 'sluice:apply', version, ir });
    }
    if (pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#opts.log.warn(`workers ${[...pending].join(', ')} did not answer configuration v${version} in time`);
        waiter.resolve();
      }, this.#opts.applyTimeoutMs);
      const waiter: Waiter = {
        version,
        pending,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      this.#waiters.add(waiter);
    });
  }

  workers(): WorkerState[] {
    return this.#slots.map(({ slot, pid, state, version, result, error, restarts }) => ({
      slot,
      pid,
      state,
      restarts,
      ...(version !== undefined ? { version } : {}),
      ...(result ? { result } : {}),
      ...(error !== undefined ? { error } : {}),
    }));
  }

  async collectMetrics(): Promise<MetricsAggregate> {
    const id = ++this.#pullId;
    const pending = new Set<number>();
    for (const s of this.#slots) {
      if (s.state === 'running' && s.worker?.isConnected()) {
        pending.add(s.slot);
        this.#send(s, { type: 'sluice:metrics-pull', id });
      }
    }
    if (pending.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#opts.metricsPullTimeoutMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#pulls.set(id, { pending, resolve: done });
      });
      this.#pulls.delete(id);
    }
    const agg = new MetricsAggregate();
    agg.addAggregate(this.#retired);
    for (const s of this.#slots) if (s.metrics) agg.add(s.metrics, { worker: String(s.slot) });
    return agg;
  }

  async close(graceMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const exits: Array<Promise<void>> = [];
    for (const s of this.#slots) {
      clearTimeout(s.restartTimer);
      const w = s.worker;
      if (!w || w.isDead()) {
        s.state = 'stopped';
        continue;
      }
      exits.push(new Promise((resolve) => w.once('exit', () => resolve())));
      // A worker that has not said hello serves nothing yet and may not be listening for messages.
      if (s.state === 'starting') w.process.kill('SIGTERM');
      else this.#send(s, { type: 'sluice:shutdown', graceMs });
    }
    // A worker that does not finish draining in time is killed: shutdown is bounded.
    const deadline = setTimeout(() => {
      for (const s of this.#slots) if (s.worker && !s.worker.isDead()) s.worker.process.kill('SIGKILL');
    }, graceMs + 2000);
    await Promise.all(exits);
    clearTimeout(deadline);
    for (const w of this.#waiters) w.resolve();
  }

  #fork(s: Slot): void {
    const worker = cluster.fork({
      [WORKER_ENV.slot]: String(s.slot),
      [WORKER_ENV.portOffset]: String(this.#opts.portOffset),
      [WORKER_ENV.logLevel]: this.#opts.logLevel,
      [WORKER_ENV.tlsTicketSeed]: this.#ticketSeed,
      [WORKER_ENV.metrics]: this.#opts.metrics,
      [WORKER_ENV.accessLog]: this.#opts.accessLog,
    });
    s.worker = worker;
    s.pid = worker.process.pid ?? 0;
    s.state = 'starting';
    s.startedAt = Date.now();
    delete s.version;
    delete s.result;
    delete s.error;
    worker.on('message', (m: unknown) => {
      if (isMessage<FromWorker>(m)) this.#onMessage(s, worker, m);
    });
    worker.on('error', (err) => this.#opts.log.warn({ err, worker: s.slot }, 'worker IPC error'));
    worker.on('exit', (code, signal) => this.#onExit(s, worker, code, signal));
  }

  #onMessage(s: Slot, worker: Worker, m: FromWorker): void {
    if (s.worker !== worker) return;
    if (m.type === 'sluice:metrics') {
      s.metrics = m.snapshot;
      const pull = m.id === undefined ? undefined : this.#pulls.get(m.id);
      if (pull && pull.pending.delete(s.slot) && pull.pending.size === 0) pull.resolve();
      return;
    }
    if (m.type === 'sluice:hello') {
      s.state = 'running';
      if (this.#current) this.#send(s, { type: 'sluice:apply', ...this.#current });
      return;
    }
    s.version = m.version;
    if (m.type === 'sluice:applied') {
      s.result = m.result;
      delete s.error;
    } else {
      delete s.result;
      s.error = m.error;
    }
    this.#settle(s.slot, m.version);
  }

  #onExit(s: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (s.worker !== worker) return;
    delete s.worker;
    this.#settle(s.slot, Infinity);
    if (s.metrics) {
      this.#retired.add(s.metrics, { gauges: false });
      delete s.metrics;
    }
    for (const pull of this.#pulls.values()) if (pull.pending.delete(s.slot) && pull.pending.size === 0) pull.resolve();
    if (this.#closing) {
      s.state = 'stopped';
      return;
    }
    s.state = 'restarting';
    s.restarts++;
    // Dying young doubles the wait; a worker that ran a while was not crash-looping.
    if (Date.now() - s.startedAt >= this.#opts.stableAfterMs) s.backoffMs = this.#opts.restartBackoffMs.initial;
    const delay = s.backoffMs;
    s.backoffMs = Math.min(s.backoffMs * 2, this.#opts.restartBackoffMs.max);
    this.#opts.log.warn(
      { worker: s.slot, pid: s.pid, code, signal },
      `worker ${s.slot} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`,
    );
    s.restartTimer = setTimeout(() => {
      if (!this.#closing) this.#fork(s);
    }, delay);
  }

  /** The slot answered for `version` (or died): it no longer holds up waiters at or below that version. */
  #settle(slot: number, version: number): void {
    for (const w of this.#waiters) {
      if (w.version <= version && w.pending.delete(slot) && w.pending.size === 0) w.resolve();
    }
  }

  #send(s: Slot, msg: ToWorker): void {
    if (s.worker?.isConnected()) s.worker.send(msg);
  }
}
