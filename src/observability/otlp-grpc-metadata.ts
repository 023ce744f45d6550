/**
 * EnvoyProxy `openTelemetry.headers` as gRPC metadata for the OTLP/gRPC
 * exporters. Imported only by the gRPC exporter modules, themselves loaded
 * only when a configuration has a gRPC endpoint (./telemetry-modules.ts).
 */
import { Metadata } from '@grpc/grpc-js';
import type { OtlpEndpointIR } from '../ir/types.ts';

/** A metadata key gRPC accepts as text (binary `-bin` keys and pseudo-headers are not headers here). */
const TEXT_KEY = /^[0-9a-z_.-]+$/;

/**
 * The endpoint's headers as metadata (names lowercased, as HTTP/2 sends
 * them); a name gRPC cannot carry as text is left out rather than failing
 * the whole configuration.
 */
export function grpcMetadata(endpoint: OtlpEndpointIR): Metadata {
  const md = new Metadata();
  for (const h of endpoint.headers ?? []) {
    const key = h.name.toLowerCase();
    if (TEXT_KEY.test(key) && !key.endsWith('-bin')) md.add(key, h.value);
  }
  return md;
}
