/**
 * OTLP/gRPC for the metric sinks (`MetricsService/Export`): the request
 * ./otlp-push.ts builds as OTLP JSON is encoded as the protobuf
 * `ExportMetricsServiceRequest` by hand - the few messages it uses, with
 * OTLP's field numbers - and sent with @grpc/grpc-js. Loaded by the pusher
 * only when a sink's protocol is gRPC.
 */
import { Client, credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { OtlpEndpointIR } from '../../ir/types.ts';
import { grpcMetadata } from '../otlp-grpc-metadata.ts';

const EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}
interface NumberPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: number | string;
}
interface HistogramPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  count: string | number;
  sum?: number;
  bucketCounts: Array<string | number>;
  explicitBounds: number[];
}
interface JsonMetric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints: NumberPoint[] };
  sum?: { dataPoints: NumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints: HistogramPoint[]; aggregationTemporality?: number };
}
/** The OTLP JSON `ExportMetricsServiceRequest` subset otlp-push.ts writes. */
export interface MetricsRequestJson {
  resourceMetrics: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics: Array<{ scope?: { name?: string; version?: string }; metrics: JsonMetric[] }>;
  }>;
}

// ------------------------------------------------------------ protobuf writer

const VARINT = 0;
const I64 = 1;
const LEN = 2;

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

const tag = (field: number, wire: number): Buffer => varint(BigInt((field << 3) | wire));
const len = (field: number, body: Buffer): Buffer =>
  Buffer.concat([tag(field, LEN), varint(BigInt(body.length)), body]);
const str = (field: number, s: string | undefined): Buffer[] =>
  s === undefined || s === '' ? [] : [len(field, Buffer.from(s, 'utf8'))];
const messages = (field: number, bodies: Buffer[]): Buffer[] => bodies.map((b) => len(field, b));

function u64(v: string | number | undefined): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v ?? 0)));
  return b;
}
function f64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
}
const fixed64 = (field: number, v: string | number | undefined): Buffer[] =>
  v === undefined ? [] : [tag(field, I64), u64(v)];
const double = (field: number, v: number | undefined): Buffer[] => (v === undefined ? [] : [tag(field, I64), f64(v)]);
const enumField = (field: number, v: number | undefined): Buffer[] =>
  v === undefined || v === 0 ? [] : [tag(field, VARINT), varint(BigInt(v))];

// ------------------------------------------------------------ OTLP messages

function anyValue(v: KeyValue['value']): Buffer {
  if (v.stringValue !== undefined) return len(1, Buffer.from(v.stringValue, 'utf8'));
  if (v.boolValue !== undefined) return Buffer.concat([tag(2, VARINT), varint(v.boolValue ? 1n : 0n)]);
  if (v.intValue !== undefined) return Buffer.concat([tag(3, VARINT), varint(BigInt(v.intValue))]);
  if (v.doubleValue !== undefined) return Buffer.concat([tag(4, I64), f64(v.doubleValue)]);
  return Buffer.alloc(0);
}

function keyValues(field: number, list: KeyValue[] | undefined): Buffer[] {
  return messages(
    field,
    (list ?? []).map((kv) => Buffer.concat([...str(1, kv.key), len(2, anyValue(kv.value))])),
  );
}

/** NumberDataPoint: attributes 7, start 2, time 3, as_double 4, as_int 6 (sfixed64). */
function numberPoint(p: NumberPoint): Buffer {
  return Buffer.concat([
    ...keyValues(7, p.attributes),
    ...fixed64(2, p.startTimeUnixNano),
    ...fixed64(3, p.timeUnixNano),
    ...(p.asInt !== undefined ? fixed64(6, p.asInt) : double(4, p.asDouble ?? 0)),
  ]);
}

/** HistogramDataPoint: attributes 9, start 2, time 3, count 4, sum 5, bucket_counts 6 and explicit_bounds 7 (packed). */
function histogramPoint(p: HistogramPoint): Buffer {
  return Buffer.concat([
    ...keyValues(9, p.attributes),
    ...fixed64(2, p.startTimeUnixNano),
    ...fixed64(3, p.timeUnixNano),
    ...fixed64(4, p.count),
    ...double(5, p.sum),
    len(6, Buffer.concat(p.bucketCounts.map(u64))),
    len(7, Buffer.concat(p.explicitBounds.map(f64))),
  ]);
}

/** Metric: name 1, description 2, unit 3, gauge 5, sum 7, histogram 9. */
function metric(m: JsonMetric): Buffer {
  const parts = [...str(1, m.name), ...str(2, m.description), ...str(3, m.unit)];
  if (m.gauge) parts.push(len(5, Buffer.concat(messages(1, m.gauge.dataPoints.map(numberPoint)))));
  if (m.sum) {
    parts.push(
      len(
        7,
        Buffer.concat([
          ...messages(1, m.sum.dataPoints.map(numberPoint)),
          ...enumField(2, m.sum.aggregationTemporality),
          ...(m.sum.isMonotonic ? [tag(3, VARINT), varint(1n)] : []),
        ]),
      ),
    );
  }
  if (m.histogram) {
    parts.push(
      len(
        9,
        Buffer.concat([
          ...messages(1, m.histogram.dataPoints.map(histogramPoint)),
          ...enumField(2, m.histogram.aggregationTemporality),
        ]),
      ),
    );
  }
  return Buffer.concat(parts);
}

/** The protobuf `ExportMetricsServiceRequest` of an OTLP JSON one. */
export function encodeMetricsRequest(req: MetricsRequestJson): Buffer {
  return Buffer.concat(
    messages(
      1,
      req.resourceMetrics.map((rm) =>
        Buffer.concat([
          len(1, Buffer.concat(keyValues(1, rm.resource?.attributes))),
          ...messages(
            2,
            rm.scopeMetrics.map((sm) =>
              Buffer.concat([
                len(1, Buffer.concat([...str(1, sm.scope?.name), ...str(2, sm.scope?.version)])),
                ...messages(2, sm.metrics.map(metric)),
              ]),
            ),
          ),
        ]),
      ),
    ),
  );
}

// ------------------------------------------------------------ transport

/** One gRPC channel per sink URL, kept between pushes. */
export class GrpcMetricsExporter {
  private readonly clients = new Map<string, Client>();

  /** Sends `req` to `endpoint` (plaintext: the URL is `http://`); rejects with the gRPC error when it is refused or times out. */
  export(endpoint: OtlpEndpointIR, req: MetricsRequestJson, timeoutMs: number): Promise<void> {
    let client = this.clients.get(endpoint.url);
    if (client === undefined) {
      client = new Client(new URL(endpoint.url).host, credentials.createInsecure());
      this.clients.set(endpoint.url, client);
    }
    const body = encodeMetricsRequest(req);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        EXPORT,
        () => body,
        () => ({}),
        req,
        grpcMetadata(endpoint),
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null) => (err ? reject(err) : resolve()),
      );
    });
  }

  /** Closes the channels of URLs not in `used`. */
  retain(used: ReadonlySet<string>): void {
    for (const [url, c] of this.clients) {
      if (used.has(url)) continue;
      c.close();
      this.clients.delete(url);
    }
  }

  close(): void {
    this.retain(new Set());
  }
}

/** `UNAVAILABLE` and the like, for the log line. */
export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? String(code);
}
