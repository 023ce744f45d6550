/**
 * The OTLP/gRPC log exporter (`LogsService/Export`), for access-log sinks
 * whose endpoint protocol is gRPC - Envoy Gateway's transport. Loaded by
 * ../telemetry-modules.ts only when a configuration has such a sink, so
 * @grpc/grpc-js stays out of every other process.
 */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { OtlpEndpointIR } from '../../ir/types.ts';
import { grpcMetadata } from '../otlp-grpc-metadata.ts';

/** An exporter to `endpoint.url`'s host and port (plaintext: the URL is `http://`), headers sent as metadata. */
export function grpcLogExporter(endpoint: OtlpEndpointIR): LogRecordExporter {
  return new OTLPLogExporter({ url: endpoint.url, metadata: grpcMetadata(endpoint) });
}
