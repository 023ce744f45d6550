/** The IPC protocol between the control process and its data-plane workers. */
import type { IR } from '../ir/types.ts';
import type { MetricsSnapshot } from '../observability/metrics/data-plane-metrics.ts';
import type { ApplyResult } from '../proxy/dataplane.ts';

/** Control process → worker. */
export type ToWorker =
  | { type: 'sluice:apply'; version: number; ir: IR }
  | { type: 'sluice:shutdown'; graceMs: number }
  /** Send a metrics snapshot now (a scrape is waiting), answered with the same id. */
  | { type: 'sluice:metrics-pull'; id: number };

/** Worker → control process. */
export type FromWorker =
  /** The worker is up and waits for its first configuration. */
  | { type: 'sluice:hello' }
  | { type: 'sluice:applied'; version: number; result: ApplyResult }
  | { type: 'sluice:apply-failed'; version: number; error: string }
  /** The worker's cumulative counters: about every second, and in answer to a pull (`id`). */
  | { type: 'sluice:metrics'; id?: number; snapshot: MetricsSnapshot };

/** Narrowing for messages off the IPC channel (anything else on it is not ours). */
export function isMessage<T extends { type: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
