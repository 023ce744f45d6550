/**
 * The data plane's contract with whoever runs it (a cluster worker, or the
 * single process with `--workers 1`): give it an IR, it compiles it beside
 * the current one, binds any new listener sockets, swaps the tables in one
 * assignment and closes sockets no longer needed. Requests in flight finish
 * on the tables they started with.
 *
 * Implemented by `createDataPlane` in ./index.ts.
 */
import type { IR } from '../ir/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProxyTuning } from './http/tuning.ts';
import type { AccessLogger } from '../observability/access-log.ts';
import type { TracingOptions } from '../observability/tracing/registry.ts';
import type { MetricsSnapshot } from '../observability/metrics/data-plane-metrics.ts';

export interface DataPlaneOptions {
  /** Added to every listener port (tests run port-80 Gateways unprivileged). */
  portOffset: number;
  log: Logger;
  /** Limits and timeouts; each field left out keeps its default (src/proxy/http/tuning.ts). */
  tuning?: Partial<ProxyTuning>;
  /**
   * Secret (≥ 32 random bytes) that TLS session ticket keys are derived from.
   * Workers given the same seed resume each other's sessions; without one,
   * each data plane draws its own.
   */
  tlsTicketSeed?: Buffer;
  /** Where finished requests are logged (observability/access-log.ts); none by default. Closed with the data plane. */
  accessLog?: AccessLogger | null;
  /** Span batching of the Gateways' tracers (observability/tracing/registry.ts); defaults from OTEL_BSP_* or the SDK. */
  tracing?: TracingOptions;
}

/** A socket the data plane listens on, with the port actually bound. */
export interface BoundSocket {
  address: string;
  /** The IR listener port (before the offset). */
  port: number;
  /** The port bound (port + offset). */
  boundPort: number;
  protocol: 'tcp' | 'udp';
  /** IR listener names served on this socket. */
  listeners: string[];
}

export interface ApplyResult {
  bound: BoundSocket[];
  /** One line per listener that could not be served (e.g. address in use); the rest still serve. */
  errors: string[];
}

export interface DataPlane {
  /**
   * Serves `ir` from now on. Calls are serialised. Never rejects for a
   * listener or route that cannot be served: those come back in `errors`.
   */
  apply(ir: IR): Promise<ApplyResult>;
  /** Stops accepting, lets in-flight requests finish (bounded by `graceMs`), then closes everything. */
  close(graceMs?: number): Promise<void>;
  /** The data plane's counters so far (cumulative; docs/metrics.md). Absent on stand-ins. */
  metrics?(): MetricsSnapshot;
}
