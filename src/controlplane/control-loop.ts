/**
 * The control loop: a provider's snapshot comes in, is translated, the IR
 * goes to the data-plane workers, and their answers decide readiness and
 * the status the admin API shows. Reloads are serialised by the caller (the
 * watcher awaits each one).
 */
import type { KubeObject } from '../api/object.ts';
import type { IR } from '../ir/types.ts';
import type { Logger } from '../observability/logger.ts';
import { MetricsAggregate, prometheusHiddenGateways, renderPrometheus } from '../observability/metrics/aggregate.ts';
import { ProcessSampler } from '../observability/metrics/data-plane-metrics.ts';
import type { BoundSocket } from '../proxy/dataplane.ts';
import { formatProblem, type LoadProblem, type ResourceSnapshot } from '../providers/snapshot.ts';
import { resourcesWithStatus, translate, type TranslateOptions, type TranslateResult } from '../translate/index.ts';
import { applyOutcome, irListeners, socketLabel, notReadyReason, withBoundStatus } from './bound-status.ts';
import type { DataPlaneRunner } from './runner.ts';
import { carryStatusTimes } from './status-times.ts';

/** A provider's load, as the control loop needs it. */
export interface ConfigLoad {
  /** What to serve: the provider has already put back the last good version of anything broken. */
  snapshot: ResourceSnapshot;
  /** Problems with the source as it is now (reported, not served). */
  problems: LoadProblem[];
  /** Sources (files) served at their last good version because of those problems. */
  kept: string[];
}

export interface ControlLoopOptions {
  runner: DataPlaneRunner;
  translate?: Partial<TranslateOptions>;
  log: Logger;
  /** Runs with each new snapshot before its IR goes to the workers (the demo backends follow the config). */
  onSnapshot?: (snapshot: ResourceSnapshot) => void | Promise<void>;
}

export interface ReloadRecord {
  at: string;
  /** ok: applied as loaded; partial: applied without what has problems (see `kept`); failed: nothing changed. */
  result: 'ok' | 'partial' | 'failed';
  /** The configuration version serving after this reload. */
  version: number;
  problems: string[];
  /** Files served at their last good version. */
  kept: string[];
  error?: string;
}

interface Generation {
  version: number;
  snapshot: ResourceSnapshot;
  result: TranslateResult;
  irJson: string;
  /** When it was translated (RFC 3339, seconds), the time of conditions derived from it. */
  at: string;
}

export interface StatusDocument {
  version: number;
  ready: boolean;
  /** Why not ready (absent when ready). */
  reason?: string;
  resources: KubeObject[];
  /** Load problems of the files as they are now on disk. */
  problems: string[];
  reloads: { count: number; errors: number; last?: ReloadRecord };
  sockets: BoundSocket[];
  workers: Array<{ slot: number; pid: number; state: string; version?: number; restarts: number }>;
}

export class ControlLoop {
  readonly #opts: ControlLoopOptions;
  #current: Generation | undefined;
  #reloads = 0;
  #errors = 0;
  #last: ReloadRecord | undefined;
  #stopping = false;
  readonly #sampler = new ProcessSampler();

  constructor(opts: ControlLoopOptions) {
    this.#opts = opts;
  }

  async reload(load: ConfigLoad): Promise<void> {
    const { log, runner } = this.#opts;
    this.#reloads++;
    const { snapshot, kept } = load;
    const problems = load.problems.map(formatProblem);
    let result: TranslateResult;
    try {
      result = translate(snapshot, this.#opts.translate);
    } catch (err) {
      this.#failed(err as Error);
      return;
    }
    for (const p of problems) log.error(p);
    for (const f of kept) log.warn(`${f}: has problems; serving its last good version`);
    if (this.#current) carryStatusTimes(result.status, this.#current.result.status);

    // Status may change without the IR changing (or a broken save may change nothing at all): the workers only hear of new IRs.
    const irJson = JSON.stringify(result.ir);
    const changed = irJson !== this.#current?.irJson;
    const version = changed ? (this.#current?.version ?? 0) + 1 : this.#current!.version;
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.#current = { version, snapshot, result, irJson, at };
    if (problems.length) this.#errors++;
    this.#last = {
      at,
      result: problems.length ? 'partial' : 'ok',
      version,
      problems,
      kept,
    };
    if (!changed) {
      log.info(`configuration v${version} unchanged for the data plane`);
      return;
    }
    await this.#opts.onSnapshot?.(snapshot);
    const started = performance.now();
    await runner.apply(version, result.ir);
    const outcome = applyOutcome(version, runner.workers());
    const ms = Math.round(performance.now() - started);
    const listeners = irListeners(result.ir).length;
    const reason = notReadyReason(result.ir, outcome);
    const sockets = outcome.sockets.map(socketLabel);
    const what = `configuration v${version} (${listeners} listeners)`;
    if (reason) log.warn({ sockets }, `${what} not fully applied after ${ms} ms: ${reason}`);
    else log.info({ sockets }, `${what} applied by ${outcome.workers} workers in ${ms} ms`);
  }

  /** A reload that produced no configuration (the directory vanished, the loader threw): the current one keeps serving. */
  reloadFailed(err: Error): void {
    this.#reloads++;
    this.#failed(err);
  }

  #failed(err: Error): void {
    this.#errors++;
    this.#last = {
      at: new Date().toISOString(),
      result: 'failed',
      version: this.#current?.version ?? 0,
      problems: [],
      kept: [],
      error: err.message,
    };
    this.#opts.log.error({ err }, `reload failed; configuration v${this.#last.version} keeps serving`);
  }

  /**
   * The whole gateway in Prometheus text format (`GET /metrics`): every
   * worker's counters, pulled fresh and summed, plus the control process's
   * own (docs/metrics.md).
   */
  async metrics(): Promise<string> {
    const agg = (await this.#opts.runner.collectMetrics?.()) ?? new MetricsAggregate();
    const last = this.#last;
    return renderPrometheus(agg, {
      reloads: this.#reloads,
      reloadErrors: this.#errors,
      lastReloadSeconds: last ? Date.parse(last.at) / 1000 : 0,
      lastReloadSuccess: last?.result === 'ok',
      configVersion: this.#current?.version ?? 0,
      workers: this.#opts.runner.workers(),
      control: this.#sampler.sample(),
      hiddenGateways: prometheusHiddenGateways(this.config()),
    });
  }

  /** Every worker's counters summed by labels, fresh as of the call (the dashboard diffs these each second). */
  async metricsAggregate(): Promise<MetricsAggregate> {
    return (await this.#opts.runner.collectMetrics?.()) ?? new MetricsAggregate();
  }

  /** The current IR (undefined before the first configuration). */
  config(): IR | undefined {
    return this.#current?.result.ir;
  }

  /** Shutdown has begun: readiness fails from now on, so load balancers stop sending new traffic. */
  stopping(): void {
    this.#stopping = true;
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.#stopping) return { ready: false, reason: 'shutting down' };
    const cur = this.#current;
    if (!cur) return { ready: false, reason: 'no configuration loaded yet' };
    const reason = notReadyReason(cur.result.ir, applyOutcome(cur.version, this.#opts.runner.workers()));
    return reason ? { ready: false, reason } : { ready: true };
  }

  status(): StatusDocument {
    const cur = this.#current;
    const workers = this.#opts.runner.workers();
    const { ready, reason } = this.readiness();
    let resources: KubeObject[] = [];
    let sockets: BoundSocket[] = [];
    if (cur) {
      const outcome = applyOutcome(cur.version, workers);
      resources = withBoundStatus(resourcesWithStatus(cur.snapshot, cur.result), cur.result.ir, outcome, cur.at);
      sockets = outcome.sockets;
    }
    return {
      version: cur?.version ?? 0,
      ready,
      ...(reason !== undefined ? { reason } : {}),
      resources,
      problems: this.#last?.problems ?? [],
      reloads: { count: this.#reloads, errors: this.#errors, ...(this.#last ? { last: this.#last } : {}) },
      sockets,
      workers: workers.map((w) => ({
        slot: w.slot,
        pid: w.pid,
        state: w.state,
        restarts: w.restarts,
        ...(w.version !== undefined ? { version: w.version } : {}),
      })),
    };
  }
}
