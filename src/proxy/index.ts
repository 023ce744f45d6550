/**
 * The data plane: compile an IR, bind its sockets, swap, serve. See
 * ./dataplane.ts for the contract and docs in each folder:
 * compile/ (IR → tables), router/ (Host and route matching), filters/ (one
 * file per filter), upstream/ (pools, h2c sessions, DNS, load balancing),
 * http/ (the request path and wire behaviour), listeners/ (sockets).
 */
import type { IR } from '../ir/types.ts';
import { compileConfig } from './compile/compile-config.ts';
import type { ApplyResult, DataPlane, DataPlaneOptions } from './dataplane.ts';
import type { ProxyRuntime } from './http/runtime.ts';
import { DEFAULT_TUNING } from './http/tuning.ts';
import { compileL4Config } from './l4/compile.ts';
import { L4ListenerSet } from './l4/l4-listener-set.ts';
import { ListenerSet } from './listeners/listener-set.ts';
import { SecureContextCache } from './tls/secure-contexts.ts';
import { TicketKeys } from './tls/ticket-keys.ts';
import { UpstreamRegistry } from './upstream/registry.ts';
import { DataPlaneMetrics, type MetricsSnapshot } from '../observability/metrics/data-plane-metrics.ts';
import type { TracerRegistry } from '../observability/tracing/registry.ts';
import { loadTelemetryModules, tracingModule } from '../observability/telemetry-modules.ts';
import { AccessLogSinks } from '../observability/access-log/sinks.ts';
import { accessLogDrops } from '../observability/access-log.ts';

export type { ApplyResult, BoundSocket, DataPlane, DataPlaneOptions } from './dataplane.ts';
export type { ProxyTuning } from './http/tuning.ts';
export { DEFAULT_TUNING } from './http/tuning.ts';

/** Default drain time of `close()`. */
const DEFAULT_CLOSE_GRACE_MS = 10_000;

export function createDataPlane(opts: DataPlaneOptions): DataPlane {
  return new HttpDataPlane(opts);
}

class HttpDataPlane implements DataPlane {
  private readonly runtime: ProxyRuntime;
  private readonly listeners: ListenerSet;
  /** TLS, TCP and UDP listeners (src/proxy/l4/). */
  private readonly l4: L4ListenerSet;
  private readonly tlsContexts: SecureContextCache;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The IR in force, applied again when session ticket keys rotate. */
  private current: IR | null = null;
  private rotationTimer: NodeJS.Timeout | null = null;
  /** Created with the first configuration that traces (the SDK loads then). */
  private tracers: TracerRegistry | undefined;
  /** Files and OTLP exporters of the Gateways' access logs (EnvoyProxy telemetry), kept across reloads. */
  private readonly accessLogSinks: AccessLogSinks;

  constructor(private readonly opts: DataPlaneOptions) {
    const tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.accessLogSinks = new AccessLogSinks({
      onError: (path, err) => opts.log.warn({ err, path }, 'access log file cannot be written'),
    });
    const metrics = new DataPlaneMetrics(tuning.metrics);
    this.runtime = {
      tuning,
      log: opts.log,
      upstreams: new UpstreamRegistry(tuning, metrics),
      mirrorsInFlight: 0,
      metrics,
      accessLog: opts.accessLog ?? null,
      accessLogSinks: this.accessLogSinks,
    };
    this.runtime.metrics.accessLogDropped = () => accessLogDrops.total;
    const upstreams = this.runtime.upstreams;
    metrics.sampleUpstream = () => upstreams.sample(metrics);
    this.listeners = new ListenerSet(this.runtime);
    this.l4 = new L4ListenerSet(this.runtime);
    this.tlsContexts = new SecureContextCache(new TicketKeys(opts.tlsTicketSeed, tuning.tlsTicketKeyRotationMs));
  }

  apply(ir: IR): Promise<ApplyResult> {
    const next = this.queue.then(() => this.applyNow(ir));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNow(ir: IR): Promise<ApplyResult> {
    if (this.closed) throw new Error('data plane is closed');
    await loadTelemetryModules(ir);
    const tracing = tracingModule();
    if (this.tracers === undefined && tracing !== null) {
      this.tracers = this.runtime.tracers = new tracing.TracerRegistry(this.opts.tracing);
    }
    const config = compileConfig(ir, this.opts.portOffset, this.runtime, this.tlsContexts);
    const l4 = compileL4Config(ir, this.opts.portOffset, config.telemetry, this.runtime.metrics);
    await this.l4.release(l4); // frees ports an HTTP listener may take over
    const result = await this.listeners.apply(config);
    const l4Result = await this.l4.apply(l4);
    result.bound.push(...l4Result.bound);
    result.errors.push(...l4Result.errors);
    this.current = ir;
    this.scheduleTicketRotation();
    // Pools the new tables do not use drain in the background (undici finishes what they carry).
    this.runtime.upstreams
      .release(config.upstreamKeys, this.runtime.tuning.removedListenerGraceMs)
      .catch((err: unknown) => {
        this.runtime.log.warn({ err }, 'closing upstream pools failed');
      });
    // Trace pipelines no Gateway uses any more: flushed and stopped once requests in flight have ended their spans.
    this.tracers?.release(config.tracerKeys, this.runtime.tuning.removedListenerGraceMs);
    // Access-log files and exporters no Gateway uses any more: flushed and closed.
    this.accessLogSinks.sweep(config.accessLogKeys).catch((err: unknown) => {
      this.runtime.log.warn({ err }, 'closing access log sinks failed');
    });
    for (const e of result.errors) this.runtime.log.warn({ problem: e }, 'data plane cannot serve part of the IR');
    this.runtime.log.info(
      { sockets: result.bound.map((b) => `${b.address}:${b.boundPort}`), errors: result.errors.length },
      'data plane configuration applied',
    );
    return result;
  }

  /** At the next ticket key period the IR in force is compiled again: contexts are rebuilt with the new key. */
  private scheduleTicketRotation(): void {
    if (this.rotationTimer !== null) return;
    const wait = this.tlsContexts.tickets.msUntilNext();
    this.rotationTimer = setTimeout(() => {
      this.rotationTimer = null;
      if (this.closed || this.current === null) return;
      this.apply(this.current).catch((err: unknown) => {
        this.runtime.log.warn({ err }, 'rotating TLS session ticket keys failed');
      });
    }, wait + 1);
    this.rotationTimer.unref();
  }

  metrics(): MetricsSnapshot {
    return this.runtime.metrics.snapshot();
  }

  async close(graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.closed = true;
    this.runtime.metrics.close();
    if (this.rotationTimer !== null) clearTimeout(this.rotationTimer);
    const deadline = Date.now() + graceMs;
    await this.queue;
    await Promise.all([this.listeners.closeAll(graceMs), this.l4.closeAll(graceMs)]);
    // What is still in flight upstream now (mirrors) shares the same deadline.
    await this.runtime.upstreams.release(new Set(), Math.max(0, deadline - Date.now()));
    this.runtime.accessLog?.close();
    await this.accessLogSinks.close();
    await this.tracers?.close();
  }
}
