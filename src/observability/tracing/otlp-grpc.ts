/**
 * The OTLP/gRPC span exporter (`TraceService/Export`), for tracing
 * endpoints whose protocol is gRPC - Envoy Gateway's transport. Loaded by
 * ../telemetry-modules.ts only when a configuration traces to such an
 * endpoint, so @grpc/grpc-js stays out of every other process.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpEndpointIR } from '../../ir/types.ts';
import { grpcMetadata } from '../otlp-grpc-metadata.ts';

/** An exporter to `endpoint.url`'s host and port (plaintext: the URL is `http://`), headers sent as metadata. */
export function grpcSpanExporter(endpoint: OtlpEndpointIR, timeoutMillis?: number): SpanExporter {
  return new OTLPTraceExporter({
    url: endpoint.url,
    metadata: grpcMetadata(endpoint),
    ...(timeoutMillis !== undefined ? { timeoutMillis } : {}),
  });
}
