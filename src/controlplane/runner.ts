/**
 * How the control loop drives data planes, whether they live in cluster
 * workers or in the control process itself (`--workers 1`). Each worker
 * applies configurations in order and skips any that a newer one
 * superseded while it was busy; the control loop only reads the state.
 */
import type { IR } from '../ir/types.ts';
import { MetricsAggregate } from '../observability/metrics/aggregate.ts';
import type { ApplyResult, DataPlane, DataPlaneOptions } from '../proxy/dataplane.ts';

export type DataPlaneFactory = (opts: DataPlaneOptions) => DataPlane;

export interface WorkerState {
  /** Stable slot number (a restarted worker keeps its slot). */
  slot: number;
  pid: number;
  state: 'starting' | 'running' | 'restarting' | 'stopped';
  /** The configuration version this worker last applied (successfully or not). */
  version?: number;
  result?: ApplyResult;
  /** Set when apply() itself threw. */
  error?: string;
  restarts: number;
}

export interface DataPlaneRunner {
  /**
   * Hands `ir` (configuration `version`) to every worker, and to every worker
   * started later. Resolves once each worker has answered for this version,
   * been superseded by a newer one, died, or timed out.
   */
  apply(version: number, ir: IR): Promise<void>;
  workers(): WorkerState[];
  /** Every worker closes its data plane (draining up to `graceMs`) and stops. */
  close(graceMs: number): Promise<void>;
  /** The counters of every worker (exited ones included), summed by labels; fresh as of the call. */
  collectMetrics?(): Promise<MetricsAggregate>;
}

/**
 * Applies configurations one at a time, newest first: while one apply runs,
 * later requests overwrite a single pending slot, so a burst of reloads
 * costs at most one extra apply. Shared by the in-process runner and the
 * cluster worker.
 */
export class ApplyQueue {
  #pending: { version: number; ir: IR } | undefined;
  #busy = false;
  #idle: Array<() => void> = [];

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly onResult: (version: number, result: ApplyResult | Error) => void,
  ) {}

  push(version: number, ir: IR): void {
    this.#pending = { version, ir };
    if (!this.#busy) void this.#drain();
  }

  /** Resolves when nothing is applying or pending. */
  idle(): Promise<void> {
    return this.#busy ? new Promise((resolve) => this.#idle.push(resolve)) : Promise.resolve();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    while (this.#pending) {
      const { version, ir } = this.#pending;
      this.#pending = undefined;
      let result: ApplyResult | Error;
      try {
        result = await this.dataPlane.apply(ir);
      } catch (err) {
        result = err instanceof Error ? err : new Error(String(err));
      }
      this.onResult(version, result);
    }
    this.#busy = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

/** `--workers 1`: the data plane runs in the control process. */
export class InProcessRunner implements DataPlaneRunner {
  readonly #state: WorkerState = { slot: 0, pid: process.pid, state: 'running', restarts: 0 };
  readonly #dataPlane: DataPlane;
  readonly #queue: ApplyQueue;
  readonly #waiters: Array<{ version: number; resolve: () => void }> = [];

  constructor(factory: DataPlaneFactory, opts: DataPlaneOptions) {
    this.#dataPlane = factory(opts);
    this.#queue = new ApplyQueue(this.#dataPlane, (version, result) => {
      this.#state.version = version;
      if (result instanceof Error) {
        delete this.#state.result;
        this.#state.error = result.message;
        opts.log.error({ err: result }, `data plane failed to apply configuration v${version}`);
      } else {
        delete this.#state.error;
        this.#state.result = result;
      }
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        if (this.#waiters[i].version <= version) this.#waiters.splice(i, 1)[0].resolve();
      }
    });
  }

  apply(version: number, ir: IR): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ version, resolve });
      this.#queue.push(version, ir);
    });
  }

  workers(): WorkerState[] {
    return [{ ...this.#state }];
  }

  collectMetrics(): Promise<MetricsAggregate> {
    const agg = new MetricsAggregate();
    if (this.#dataPlane.metrics) agg.add(this.#dataPlane.metrics(), { worker: '0' });
    return Promise.resolve(agg);
  }

  async close(graceMs: number): Promise<void> {
    if (this.#state.state === 'stopped') return;
    this.#state.state = 'stopped';
    await this.#queue.idle();
    await this.#dataPlane.close(graceMs);
    for (const w of this.#waiters.splice(0)) w.resolve();
  }
}
