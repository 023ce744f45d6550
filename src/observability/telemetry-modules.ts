/**
 * The heavy telemetry libraries - the OpenTelemetry SDKs with their OTLP
 * exporters, and the CEL interpreter of access-log matches - add about
 * 25 MiB to every worker once loaded, and most configurations use none of
 * them. They are loaded when a configuration first needs them, before it is
 * compiled (compilation is synchronous: DataPlane.apply awaits
 * `loadTelemetryModules` first), and stay loaded. The OTLP/gRPC exporters
 * (with @grpc/grpc-js) are loaded only for an endpoint whose protocol is
 * gRPC, the OTLP/HTTP ones with their pipeline.
 */
import type { IR } from '../ir/types.ts';
import type * as MatchesModuleNs from './access-log/matches.ts';
import type * as GrpcLogsModuleNs from './access-log/otlp-grpc.ts';
import type * as OtlpLogsModuleNs from './access-log/otlp-sink.ts';
import type * as GrpcTracingModuleNs from './tracing/otlp-grpc.ts';
import type * as TracingModuleNs from './tracing/registry.ts';

type TracingModule = typeof TracingModuleNs;
type GrpcTracingModule = typeof GrpcTracingModuleNs;
type OtlpLogsModule = typeof OtlpLogsModuleNs;
type GrpcLogsModule = typeof GrpcLogsModuleNs;
type MatchesModule = typeof MatchesModuleNs;

let tracing: TracingModule | null = null;
let grpcTracing: GrpcTracingModule | null = null;
let otlpLogs: OtlpLogsModule | null = null;
let grpcLogs: GrpcLogsModule | null = null;
let matches: MatchesModule | null = null;

/** Loads what `ir`'s telemetry needs and is not loaded yet. */
export async function loadTelemetryModules(ir: IR): Promise<void> {
  for (const gw of ir.gateways) {
    const t = gw.telemetry;
    if (t === undefined) continue;
    if (t.tracing !== undefined) {
      tracing ??= await import('./tracing/registry.ts');
      if (t.tracing.provider.endpoint.protocol === 'grpc') grpcTracing ??= await import('./tracing/otlp-grpc.ts');
    }
    for (const s of t.accessLog?.settings ?? []) {
      if (s.matches.length > 0) matches ??= await import('./access-log/matches.ts');
      for (const k of s.sinks) {
        if (k.type !== 'OpenTelemetry') continue;
        otlpLogs ??= await import('./access-log/otlp-sink.ts');
        if (k.endpoint.protocol === 'grpc') grpcLogs ??= await import('./access-log/otlp-grpc.ts');
      }
    }
  }
}

/** The tracing pipelines' module, or null while no configuration has traced. */
export function tracingModule(): TracingModule | null {
  return tracing;
}

/** The OTLP/gRPC span exporter; throws when no configuration asked for it through loadTelemetryModules. */
export function grpcTracingModule(): GrpcTracingModule {
  if (grpcTracing === null) throw new Error('OTLP/gRPC tracing is not loaded (loadTelemetryModules first)');
  return grpcTracing;
}

/** The OTLP/gRPC log exporter; throws when no configuration asked for it through loadTelemetryModules. */
export function grpcLogsModule(): GrpcLogsModule {
  if (grpcLogs === null) throw new Error('OTLP/gRPC access-log sinks are not loaded (loadTelemetryModules first)');
  return grpcLogs;
}

/** The OTLP access-log sink; throws when no configuration asked for it through loadTelemetryModules. */
export function otlpLogsModule(): OtlpLogsModule {
  if (otlpLogs === null) throw new Error('OTLP access-log sinks are not loaded (loadTelemetryModules first)');
  return otlpLogs;
}

/** CEL access-log matches; throws when no configuration asked for them through loadTelemetryModules. */
export function matchesModule(): MatchesModule {
  if (matches === null) throw new Error('access-log matches are not loaded (loadTelemetryModules first)');
  return matches;
}
