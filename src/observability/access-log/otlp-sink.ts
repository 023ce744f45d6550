/**
 * The OpenTelemetry access-log sink: OTLP/HTTP JSON `POST <url>/v1/logs`, or
 * OTLP/gRPC `LogsService/Export` when the endpoint's protocol is gRPC
 * (./otlp-grpc.ts, loaded only then), through @opentelemetry/sdk-logs with a batch processor (bounded queue: a
 * record beyond it is dropped by the SDK); the body is the formatted line,
 * JSON formats also give each field as an attribute. Loaded on demand
 * (../telemetry-modules.ts).
 */
import type { LogAttributes, Logger as OtelLogger } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { OtlpEndpointIR } from '../../ir/types.ts';
import type { AccessLogEntry } from './entry.ts';
import type { LineOutput } from './output.ts';
import { grpcLogsModule } from '../telemetry-modules.ts';
import { CLOSE_WAIT_MS, type KeptSink } from './sinks.ts';

/** Lines as OTLP log records (body = the line without its newline). */
class OtlpLogOutput implements LineOutput {
  constructor(
    private readonly logger: OtelLogger,
    /** JSON formats: the entry's fields as attributes. */
    private readonly attributes: ((line: string) => LogAttributes) | null,
  ) {}

  add(line: string, _e: AccessLogEntry, nowMs: number): void {
    const body = line.endsWith('\n') ? line.slice(0, -1) : line;
    this.logger.emit({
      body,
      timestamp: performance.timeOrigin + nowMs,
      ...(this.attributes !== null ? { attributes: this.attributes(body) } : {}),
    });
  }

  flush(): void {
    // the batch processor exports on its own schedule
  }
}

export class OtlpSink implements KeptSink {
  readonly provider: LoggerProvider;
  readonly output: LineOutput;
  readonly jsonOutput: LineOutput;

  constructor(endpoint: OtlpEndpointIR) {
    let exporter: LogRecordExporter;
    if (endpoint.protocol === 'grpc') exporter = grpcLogsModule().grpcLogExporter(endpoint);
    else {
      const headers: Record<string, string> = {};
      for (const h of endpoint.headers ?? []) headers[h.name] = h.value;
      exporter = new OTLPLogExporter({ url: `${endpoint.url}/v1/logs`, headers });
    }
    this.provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'sluice', ...(endpoint.resourceAttributes ?? {}) }),
      processors: [
        new BatchLogRecordProcessor({
          exporter,
          maxQueueSize: 8192,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1000,
        }),
      ],
    });
    const logger = this.provider.getLogger('sluice.access_log');
    this.output = new OtlpLogOutput(logger, null);
    this.jsonOutput = new OtlpLogOutput(logger, jsonAttributes);
  }

  /** Exports what is queued, waiting at most CLOSE_WAIT_MS for an unreachable collector. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}

/** A JSON line's top-level fields as OTLP attributes (nulls left out). */
function jsonAttributes(line: string): LogAttributes {
  const out: LogAttributes = {};
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
  } catch {
    // not JSON after all: the body alone
  }
  return out;
}
