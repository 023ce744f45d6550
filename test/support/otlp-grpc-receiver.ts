/**
 * A real OTLP/gRPC receiver on loopback (@grpc/grpc-js server, port 0):
 * `TraceService/Export`, `LogsService/Export` and `MetricsService/Export`,
 * their requests decoded
 * through the minimal hand-written protos of ./otlp/ (OTLP's package,
 * service and field numbers; fields they leave out are skipped on the wire).
 * Spans come out as the OTLP/HTTP receiver's records
 * (../observability/tracing/otlp-receiver.ts), so tests can use either.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import type { AttrValue, ReceivedSpan } from '../observability/tracing/otlp-receiver.ts';
import { withTimeout } from '../proxy/helpers.ts';

export interface ReceivedLog {
  body: string;
  timeNs: bigint;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  scope: string;
}

export interface ReceivedPoint {
  attributes: Record<string, AttrValue>;
  startNs: bigint;
  timeNs: bigint;
  /** Sums and gauges. */
  value?: number;
  /** Histograms. */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface ReceivedMetric {
  name: string;
  description: string;
  type: 'sum' | 'gauge' | 'histogram';
  /** Sums: monotonic; sums and histograms: aggregation temporality (2 = cumulative). */
  monotonic?: boolean;
  temporality?: number;
  points: ReceivedPoint[];
  resource: Record<string, AttrValue>;
}

export interface GrpcReceiver {
  /** `http://127.0.0.1:<port>`, what an OtlpEndpointIR with protocol grpc holds. */
  url: string;
  port: number;
  spans: ReceivedSpan[];
  logs: ReceivedLog[];
  /** One entry per metric per Export call. */
  metrics: ReceivedMetric[];
  /** Metadata of every Export call, by service. */
  calls: Array<{ service: 'trace' | 'logs' | 'metrics'; metadata: Record<string, string> }>;
  /** Resolves with the spans once `pick` returns a non-empty list (bounded). */
  waitFor(what: string, pick: (spans: ReceivedSpan[]) => ReceivedSpan[], ms?: number): Promise<ReceivedSpan[]>;
  /** Resolves with the log records once `pick` returns a non-empty list (bounded). */
  waitForLogs(what: string, pick: (logs: ReceivedLog[]) => ReceivedLog[], ms?: number): Promise<ReceivedLog[]>;
  /** Resolves with the metrics once `pick` returns a non-empty list (bounded). */
  waitForMetrics(
    what: string,
    pick: (metrics: ReceivedMetric[]) => ReceivedMetric[],
    ms?: number,
  ): Promise<ReceivedMetric[]>;
  close(): Promise<void>;
}

interface PbValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
}
interface PbKV {
  key: string;
  value?: PbValue;
}
interface PbResource {
  attributes?: PbKV[];
}
interface PbSpan {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: PbKV[];
  status?: { message?: string; code?: number };
}
interface PbTraceRequest {
  resourceSpans?: Array<{ resource?: PbResource; scopeSpans?: Array<{ spans?: PbSpan[] }> }>;
}
interface PbLogRecord {
  timeUnixNano: string;
  body?: PbValue;
  attributes?: PbKV[];
}
interface PbLogsRequest {
  resourceLogs?: Array<{
    resource?: PbResource;
    scopeLogs?: Array<{ scope?: { name?: string }; logRecords?: PbLogRecord[] }>;
  }>;
}

interface PbNumberPoint {
  attributes?: PbKV[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: string;
}
interface PbHistogramPoint {
  attributes?: PbKV[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
interface PbMetric {
  name: string;
  description?: string;
  gauge?: { dataPoints?: PbNumberPoint[] };
  sum?: { dataPoints?: PbNumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: PbHistogramPoint[]; aggregationTemporality?: number };
}
interface PbMetricsRequest {
  resourceMetrics?: Array<{ resource?: PbResource; scopeMetrics?: Array<{ metrics?: PbMetric[] }> }>;
}

function numberPoint(p: PbNumberPoint): ReceivedPoint {
  return {
    attributes: attrs(p.attributes),
    startNs: BigInt(p.startTimeUnixNano ?? '0'),
    timeNs: BigInt(p.timeUnixNano ?? '0'),
    value: p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? 0),
  };
}

function histogramPoint(p: PbHistogramPoint): ReceivedPoint {
  return {
    attributes: attrs(p.attributes),
    startNs: BigInt(p.startTimeUnixNano ?? '0'),
    timeNs: BigInt(p.timeUnixNano ?? '0'),
    count: Number(p.count ?? '0'),
    sum: p.sum ?? 0,
    bucketCounts: (p.bucketCounts ?? []).map(Number),
    explicitBounds: p.explicitBounds ?? [],
  };
}

const PROTO_DIR = join(import.meta.dirname, 'otlp');

function value(v: PbValue | undefined): AttrValue {
  if (v?.stringValue !== undefined) return v.stringValue;
  if (v?.intValue !== undefined) return Number(v.intValue);
  if (v?.boolValue !== undefined) return v.boolValue;
  return v?.doubleValue ?? '';
}

function attrs(list: PbKV[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

function hex(b: Buffer | undefined): string {
  return b === undefined ? '' : Buffer.from(b).toString('hex');
}

function metadataOf(call: grpc.ServerUnaryCall<unknown, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) out[k] = String(v);
  return out;
}

type ServiceOf = grpc.ServiceDefinition;

function service(file: string, path: string[]): ServiceOf {
  const def = protoLoader.loadSync(join(PROTO_DIR, file), {
    includeDirs: [PROTO_DIR],
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
  });
  let node: unknown = grpc.loadPackageDefinition(def);
  for (const p of path) node = (node as Record<string, unknown>)[p];
  return (node as { service: ServiceOf }).service;
}

export async function startGrpcReceiver(): Promise<GrpcReceiver> {
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLog[] = [];
  const metrics: ReceivedMetric[] = [];
  const calls: GrpcReceiver['calls'] = [];
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
  };
  const server = new grpc.Server();
  server.addService(service('trace.proto', ['opentelemetry', 'proto', 'collector', 'trace', 'v1', 'TraceService']), {
    Export: (call: grpc.ServerUnaryCall<PbTraceRequest, object>, callback: grpc.sendUnaryData<object>) => {
      calls.push({ service: 'trace', metadata: metadataOf(call) });
      for (const rs of call.request.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind ?? 0,
              attributes: attrs(s.attributes),
              status: s.status?.code ?? 0,
              statusMessage: s.status?.message ?? '',
              startNs: BigInt(s.startTimeUnixNano ?? '0'),
              endNs: BigInt(s.endTimeUnixNano ?? '0'),
              resource,
            });
          }
        }
      }
      callback(null, {});
      wake();
    },
  });
  server.addService(service('logs.proto', ['opentelemetry', 'proto', 'collector', 'logs', 'v1', 'LogsService']), {
    Export: (call: grpc.ServerUnaryCall<PbLogsRequest, object>, callback: grpc.sendUnaryData<object>) => {
      calls.push({ service: 'logs', metadata: metadataOf(call) });
      for (const rl of call.request.resourceLogs ?? []) {
        const resource = attrs(rl.resource?.attributes);
        for (const sl of rl.scopeLogs ?? []) {
          for (const r of sl.logRecords ?? []) {
            logs.push({
              body: String(value(r.body)),
              timeNs: BigInt(r.timeUnixNano ?? '0'),
              attributes: attrs(r.attributes),
              resource,
              scope: sl.scope?.name ?? '',
            });
          }
        }
      }
      callback(null, {});
      wake();
    },
  });
  server.addService(
    service('metrics.proto', ['opentelemetry', 'proto', 'collector', 'metrics', 'v1', 'MetricsService']),
    {
      Export: (call: grpc.ServerUnaryCall<PbMetricsRequest, object>, callback: grpc.sendUnaryData<object>) => {
        calls.push({ service: 'metrics', metadata: metadataOf(call) });
        for (const rm of call.request.resourceMetrics ?? []) {
          const resource = attrs(rm.resource?.attributes);
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              const base = { name: m.name, description: m.description ?? '', resource };
              if (m.sum) {
                metrics.push({
                  ...base,
                  type: 'sum',
                  monotonic: m.sum.isMonotonic ?? false,
                  temporality: m.sum.aggregationTemporality ?? 0,
                  points: (m.sum.dataPoints ?? []).map(numberPoint),
                });
              } else if (m.gauge) {
                metrics.push({ ...base, type: 'gauge', points: (m.gauge.dataPoints ?? []).map(numberPoint) });
              } else if (m.histogram) {
                metrics.push({
                  ...base,
                  type: 'histogram',
                  temporality: m.histogram.aggregationTemporality ?? 0,
                  points: (m.histogram.dataPoints ?? []).map(histogramPoint),
                });
              }
            }
          }
        }
        callback(null, {});
        wake();
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  function waitOn<T>(list: T[], what: string, pick: (l: T[]) => T[], ms: number): Promise<T[]> {
    let check: () => void = () => undefined;
    return withTimeout(
      new Promise<T[]>((resolve) => {
        check = () => {
          const found = pick(list);
          if (found.length > 0) {
            waiters.delete(check);
            resolve(found);
          }
        };
        waiters.add(check);
        check();
      }),
      ms,
      `${what} (have ${spans.length} spans: ${spans.map((s) => s.name).join(', ')}; ${logs.length} log records; ${metrics.length} metrics)`,
    ).finally(() => waiters.delete(check));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    spans,
    logs,
    metrics,
    calls,
    waitFor: (what, pick, ms = 10_000) => waitOn(spans, `spans: ${what}`, pick, ms),
    waitForLogs: (what, pick, ms = 10_000) => waitOn(logs, `logs: ${what}`, pick, ms),
    waitForMetrics: (what, pick, ms = 10_000) => waitOn(metrics, `metrics: ${what}`, pick, ms),
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
        5000,
        'gRPC receiver shutdown',
      ).catch(() => server.forceShutdown()),
  };
}
