/**
 * The data plane's export pipelines, one per distinct destination (OTLP
 * endpoint URL and headers, service name, resource attributes): an SDK
 * tracer provider, a BatchSpanProcessor with a bounded queue (spans beyond
 * it are dropped, never buffered without limit) and the OTLP exporter:
 * OTLP/HTTP JSON, or OTLP/gRPC (./otlp-grpc.ts, loaded only for a gRPC
 * endpoint) when the endpoint's protocol is gRPC. Pipelines are kept across reloads; after a swap the ones no
 * longer used are shut down (their queued spans flushed) once in-flight
 * requests have had a grace period to end their spans, and all of them at
 * close.
 */
import type { Tracer as SdkTracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type BufferConfig,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingIR } from '../../ir/types.ts';
import { VERSION } from '../../version.ts';
import { grpcTracingModule } from '../telemetry-modules.ts';
import { ContextSampler, rate } from './sampler.ts';
import { compileTags } from './tags.ts';
import { GatewayTracer, type Tracer } from './tracer.ts';

/** How spans are batched and sent; each field left out takes its OTEL_BSP_* environment variable, else the SDK default. */
export interface TracingOptions {
  /** Time between two exports (default 5000 ms). */
  scheduledDelayMs?: number;
  /** Spans kept for export at most; more are dropped (default 2048). */
  maxQueueSize?: number;
  /** Spans per export request at most (default 512). */
  maxExportBatchSize?: number;
  /** One export request's time limit (default 30000 ms). */
  exportTimeoutMs?: number;
}

interface Pipeline {
  readonly provider: BasicTracerProvider;
  readonly tracer: SdkTracer;
}

export class TracerRegistry {
  private readonly pipelines = new Map<string, Pipeline>();
  /** Pipelines released and waiting for their grace period to end. */
  private readonly retiring = new Map<Pipeline, NodeJS.Timeout>();

  constructor(private readonly options: TracingOptions = {}) {}

  /**
   * The tracer of Gateway `gateway` (`<ns>/<name>`) for this configuration,
   * null when it has no tracing; `used` collects the pipeline keys the
   * configuration being compiled uses.
   */
  tracer(gateway: string, ir: TracingIR | undefined, used: Set<string>): Tracer | null {
    if (ir === undefined) return null;
    const { endpoint, serviceName } = ir.provider;
    const resource = Object.entries(endpoint.resourceAttributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify([
      endpoint.url,
      endpoint.protocol ?? 'http',
      endpoint.headers ?? [],
      serviceName,
      resource,
    ]);
    used.add(key);
    let p = this.pipelines.get(key);
    if (p === undefined) {
      p = this.build(ir);
      this.pipelines.set(key, p);
    }
    return new GatewayTracer(p.tracer, gateway, rate(ir.samplingPercent), compileTags(ir.tags));
  }

  /** After a configuration swap: pipelines outside `used` are shut down after `graceMs` (spans ended until then are still sent). */
  release(used: ReadonlySet<string>, graceMs: number): void {
    for (const [key, p] of this.pipelines) {
      if (used.has(key)) continue;
      this.pipelines.delete(key);
      const timer = setTimeout(() => {
        this.retiring.delete(p);
        void shutdown(p);
      }, graceMs);
      timer.unref();
      this.retiring.set(p, timer);
    }
  }

  /** Sends what is queued and stops every pipeline. */
  async close(): Promise<void> {
    const all = [...this.pipelines.values(), ...this.retiring.keys()];
    for (const t of this.retiring.values()) clearTimeout(t);
    this.pipelines.clear();
    this.retiring.clear();
    await Promise.all(all.map(shutdown));
  }

  private build(ir: TracingIR): Pipeline {
    const { endpoint, serviceName } = ir.provider;
    const timeout = this.options.exportTimeoutMs;
    let exporter: SpanExporter;
    if (endpoint.protocol === 'grpc') exporter = grpcTracingModule().grpcSpanExporter(endpoint, timeout);
    else {
      const headers: Record<string, string> = {};
      for (const h of endpoint.headers ?? []) headers[h.name] = h.value;
      exporter = new OTLPTraceExporter({
        url: `${endpoint.url.replace(/\/+$/, '')}/v1/traces`,
        headers,
        ...(timeout !== undefined ? { timeoutMillis: timeout } : {}),
      });
    }
    const buffer: BufferConfig = {};
    const o = this.options;
    if (o.scheduledDelayMs !== undefined) buffer.scheduledDelayMillis = o.scheduledDelayMs;
    if (o.maxQueueSize !== undefined) buffer.maxQueueSize = o.maxQueueSize;
    if (o.maxExportBatchSize !== undefined) buffer.maxExportBatchSize = o.maxExportBatchSize;
    if (o.exportTimeoutMs !== undefined) buffer.exportTimeoutMillis = o.exportTimeoutMs;
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ ...endpoint.resourceAttributes, [ATTR_SERVICE_NAME]: serviceName }),
      sampler: new ContextSampler(),
      spanProcessors: [new BatchSpanProcessor(exporter, buffer)],
    });
    return { provider, tracer: provider.getTracer('sluice', VERSION) };
  }
}

/** Never rejects: a collector that is down loses its spans, nothing else. */
async function shutdown(p: Pipeline): Promise<void> {
  try {
    await p.provider.shutdown();
  } catch {
    // the exporter gave up; nothing to retry
  }
}
