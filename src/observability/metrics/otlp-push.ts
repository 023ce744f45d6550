/**
 * EnvoyProxy `telemetry.metrics.sinks` of type OpenTelemetry: the control
 * process pushes the gateway-wide aggregate (the same sums `GET /metrics`
 * shows) every `intervalMs` as OTLP/HTTP JSON (`POST <url>/v1/metrics`) to
 * each sink, with the series of the Gateways that configure that sink.
 * Names and labels are the Prometheus ones: counters are cumulative
 * monotonic sums, the duration histogram an explicit-bucket histogram,
 * in-flight and active sessions gauges. A push that fails is logged and
 * the next one carries the cumulative values again. A sink whose protocol
 * is gRPC (Envoy Gateway's transport) gets the same request as protobuf over
 * OTLP/gRPC instead (./otlp-grpc.ts, loaded only then).
 */
import type { IR, OtlpEndpointIR } from '../../ir/types.ts';
import type { Logger } from '../logger.ts';
import type { MetricsAggregate } from './aggregate.ts';
import type { GrpcMetricsExporter, MetricsRequestJson } from './otlp-grpc.ts';
import {
  DURATION_BUCKETS,
  ENDPOINT_CLASSES,
  L4Counter,
  SIZE_BUCKETS,
  SIZE_BUCKET_COUNT as NSZ,
} from './data-plane-metrics.ts';
import { ConnCounter, TLS_FAILURE_REASONS, UpstreamConn } from './data-plane-metrics.ts';

type Attr = { key: string; value: { stringValue: string } };
interface DataPoint {
  attributes: Attr[];
  startTimeUnixNano: string;
  timeUnixNano: string;
}
type OtlpMetric =
  | {
      name: string;
      description: string;
      sum: { aggregationTemporality: 2; isMonotonic: true; dataPoints: Array<DataPoint & { asDouble: number }> };
    }
  | { name: string; description: string; gauge: { dataPoints: Array<DataPoint & { asDouble: number }> } }
  | {
      name: string;
      description: string;
      histogram: {
        aggregationTemporality: 2;
        dataPoints: Array<DataPoint & { count: string; sum: number; bucketCounts: string[]; explicitBounds: number[] }>;
      };
    };

type HistogramPoint = DataPoint & { count: string; sum: number; bucketCounts: string[]; explicitBounds: number[] };

const SERIES_LABELS = ['gateway', 'listener', 'route', 'rule', 'backend'];
const L4_LABELS = ['gateway', 'listener', 'route', 'backend'];

function attrs(names: readonly string[], values: readonly string[]): Attr[] {
  return names.map((key, i) => ({ key, value: { stringValue: values[i] ?? '' } }));
}

/** The sinks of an IR, each with the Gateways (`<namespace>/<name>`) that send to it. */
export function metricSinks(ir: IR | undefined): Array<{ endpoint: OtlpEndpointIR; gateways: Set<string> }> {
  const bySink = new Map<string, { endpoint: OtlpEndpointIR; gateways: Set<string> }>();
  for (const gw of ir?.gateways ?? []) {
    for (const e of gw.telemetry?.metrics?.sinks ?? []) {
      const key = `${e.protocol ?? 'http'}|${e.url}|${JSON.stringify(e.headers ?? [])}|${JSON.stringify(e.resourceAttributes ?? {})}`;
      let s = bySink.get(key);
      if (s === undefined) bySink.set(key, (s = { endpoint: e, gateways: new Set() }));
      s.gateways.add(`${gw.namespace}/${gw.name}`);
    }
  }
  return [...bySink.values()];
}

/** OTLP/HTTP JSON `ExportMetricsServiceRequest` of the series of `gateways`. */
export function otlpMetricsRequest(
  agg: MetricsAggregate,
  gateways: ReadonlySet<string>,
  resourceAttributes: Record<string, string>,
  startMs: number,
  nowMs: number,
): unknown {
  const start = `${BigInt(Math.round(startMs)) * 1_000_000n}`;
  const now = `${BigInt(Math.round(nowMs)) * 1_000_000n}`;
  const point = (a: Attr[]): DataPoint => ({ attributes: a, startTimeUnixNano: start, timeUnixNano: now });
  const requests: Array<DataPoint & { asDouble: number }> = [];
  const duration: Array<DataPoint & { count: string; sum: number; bucketCounts: string[]; explicitBounds: number[] }> =
    [];
  const reqBytes: Array<DataPoint & { asDouble: number }> = [];
  const resBytes: Array<DataPoint & { asDouble: number }> = [];
  const inFlight: Array<DataPoint & { asDouble: number }> = [];
  const reqSizes: HistogramPoint[] = [];
  const resSizes: HistogramPoint[] = [];
  for (const t of agg.series.values()) {
    if (!gateways.has(t.labels[0])) continue;
    const base = attrs(SERIES_LABELS, t.labels);
    for (const [k, v] of t.requests) {
      const [method, code] = k.split('|');
      const c = Number(code);
      const cls = c >= 100 && c < 600 ? `${Math.floor(c / 100)}xx` : 'none';
      requests.push({
        ...point([...base, ...attrs(['method', 'code', 'class'], [method, code, cls])]),
        asDouble: v,
      });
    }
    const count = t.duration.reduce((a, b) => a + b, 0);
    if (count > 0) {
      duration.push({
        ...point(base),
        count: String(count),
        sum: t.durationSum,
        bucketCounts: t.duration.map(String),
        explicitBounds: [...DURATION_BUCKETS],
      });
    }
    if (t.requestBytes > 0) reqBytes.push({ ...point(base), asDouble: t.requestBytes });
    if (t.responseBytes > 0) resBytes.push({ ...point(base), asDouble: t.responseBytes });
    if (t.labels[4] === '') inFlight.push({ ...point(base.slice(0, 4)), asDouble: t.inFlight });
    const sz = t.sizes;
    if (sz !== null) {
      for (const [dir, out] of [
        [0, reqSizes],
        [1, resSizes],
      ] as const) {
        const buckets = sz.slice(dir * NSZ, (dir + 1) * NSZ);
        out.push({
          ...point(base),
          count: String(buckets.reduce((a, b) => a + b, 0)),
          sum: sz[2 * NSZ + dir],
          bucketCounts: buckets.map(String),
          explicitBounds: [...SIZE_BUCKETS],
        });
      }
    }
  }
  const metrics: OtlpMetric[] = [
    sum('sluice_http_requests_total', 'HTTP requests finished.', requests),
    {
      name: 'sluice_http_request_duration_seconds',
      description: 'Time from the request headers to the last byte of the response.',
      histogram: { aggregationTemporality: 2, dataPoints: duration },
    },
    sum('sluice_http_request_body_bytes_total', 'Request body bytes received from clients.', reqBytes),
    histogram('sluice_http_request_size_bytes', 'Request body sizes.', reqSizes),
    histogram('sluice_http_response_size_bytes', 'Response body sizes.', resSizes),
    sum('sluice_http_response_body_bytes_total', 'Response body bytes sent to clients.', resBytes),
    {
      name: 'sluice_http_requests_in_flight',
      description: 'Requests routed and not finished yet.',
      gauge: { dataPoints: inFlight },
    },
  ];
  const classPoints = (kind: string, names: string[]): Array<DataPoint & { asDouble: number }> => {
    const out: Array<DataPoint & { asDouble: number }> = [];
    for (const t of agg.endpoints.values()) {
      if (t.labels[0] !== kind || !gateways.has(t.labels[1])) continue;
      t.values.forEach((v, k) => {
        if (v > 0) {
          const values = [...t.labels.slice(1, 1 + names.length), ENDPOINT_CLASSES[k]];
          out.push({ ...point(attrs([...names, 'class'], values)), asDouble: v });
        }
      });
    }
    return out;
  };
  metrics.push(
    sum(
      'sluice_upstream_endpoint_requests_total',
      'HTTP requests finished per upstream endpoint.',
      classPoints('endpoint', ['gateway', 'backend', 'endpoint']),
    ),
    sum(
      'sluice_http_vhost_requests_total',
      'HTTP requests finished per virtual host.',
      classPoints('vhost', ['gateway', 'vhost']),
    ),
  );
  for (const transport of ['tcp', 'udp']) {
    const l4 = [...agg.l4.values()].filter((t) => t.labels[0] === transport && gateways.has(t.labels[1]));
    const of = (c: L4Counter): Array<DataPoint & { asDouble: number }> =>
      l4.map((t) => ({ ...point(attrs(L4_LABELS, t.labels.slice(1))), asDouble: t.values[c] }));
    metrics.push(
      sum(`sluice_${transport}_sessions_total`, 'Sessions routed to a backend endpoint.', of(L4Counter.Sessions)),
      {
        name: `sluice_${transport}_sessions_active`,
        description: 'Sessions open now.',
        gauge: { dataPoints: of(L4Counter.Active) },
      },
      sum(`sluice_${transport}_received_bytes_total`, 'Bytes received from clients.', of(L4Counter.ReceivedBytes)),
      sum(`sluice_${transport}_sent_bytes_total`, 'Bytes sent to clients.', of(L4Counter.SentBytes)),
      sum(
        `sluice_${transport}_connect_failures_total`,
        'Upstream connections that could not be made.',
        of(L4Counter.ConnectFailures),
      ),
    );
  }
  metrics.push(...connectionMetrics(agg, gateways, point));
  return {
    resourceMetrics: [
      {
        resource: { attributes: attrs(...entries({ 'service.name': 'sluice', ...resourceAttributes })) },
        scopeMetrics: [{ scope: { name: 'sluice' }, metrics: metrics.filter(hasPoints) }],
      },
    ],
  };
}

function entries(o: Record<string, string>): [string[], string[]] {
  return [Object.keys(o), Object.values(o)];
}

function sum(name: string, description: string, dataPoints: Array<DataPoint & { asDouble: number }>): OtlpMetric {
  return { name, description, sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints } };
}

function histogram(name: string, description: string, dataPoints: HistogramPoint[]): OtlpMetric {
  return { name, description, histogram: { aggregationTemporality: 2, dataPoints } };
}

function hasPoints(m: OtlpMetric): boolean {
  if ('sum' in m) return m.sum.dataPoints.length > 0;
  if ('gauge' in m) return m.gauge.dataPoints.length > 0;
  return m.histogram.dataPoints.length > 0;
}

export interface OtlpMetricsPusherOptions {
  /** The aggregate now (ControlLoop.metricsAggregate). */
  collect: () => Promise<MetricsAggregate>;
  /** The IR in force (its Gateways' metric sinks). */
  config: () => IR | undefined;
  log: Logger;
  intervalMs?: number;
  /** Per POST. */
  timeoutMs?: number;
}

/** Pushes on a timer while some Gateway has a metrics sink; does nothing otherwise. */
export class OtlpMetricsPusher {
  private readonly timer: NodeJS.Timeout;
  private readonly startMs = Date.now();
  private running = false;
  /** Loaded with the first gRPC sink. */
  private grpc: { exporter: GrpcMetricsExporter; statusName: (code: number) => string } | null = null;

  constructor(private readonly opts: OtlpMetricsPusherOptions) {
    this.timer = setInterval(() => void this.push(), opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** One push to every sink (skipped while the previous one is still running). */
  async push(): Promise<void> {
    const sinks = metricSinks(this.opts.config());
    if (this.running) return;
    // gRPC channels of sinks no Gateway has any more are closed.
    this.grpc?.exporter.retain(new Set(sinks.filter((s) => s.endpoint.protocol === 'grpc').map((s) => s.endpoint.url)));
    if (sinks.length === 0) return;
    this.running = true;
    try {
      const agg = await this.opts.collect();
      const now = Date.now();
      await Promise.all(
        sinks.map(async ({ endpoint, gateways }) => {
          const body = otlpMetricsRequest(agg, gateways, endpoint.resourceAttributes ?? {}, this.startMs, now);
          if (endpoint.protocol === 'grpc') {
            await this.pushGrpc(endpoint, body as MetricsRequestJson);
            return;
          }
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          for (const h of endpoint.headers ?? []) headers[h.name] = h.value;
          try {
            const r = await fetch(`${endpoint.url}/v1/metrics`, {
              method: 'POST',
              headers,
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
            });
            await r.arrayBuffer();
            if (!r.ok) this.opts.log.warn({ sink: endpoint.url, status: r.status }, 'OTLP metrics push refused');
          } catch (err) {
            this.opts.log.warn({ err, sink: endpoint.url }, 'OTLP metrics push failed');
          }
        }),
      );
    } finally {
      this.running = false;
    }
  }

  private async pushGrpc(endpoint: OtlpEndpointIR, body: MetricsRequestJson): Promise<void> {
    try {
      if (this.grpc === null) {
        const m = await import('./otlp-grpc.ts');
        this.grpc ??= { exporter: new m.GrpcMetricsExporter(), statusName: m.grpcStatusName };
      }
      await this.grpc.exporter.export(endpoint, body, this.opts.timeoutMs ?? 5000);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const status = typeof code === 'number' && this.grpc !== null ? this.grpc.statusName(code) : undefined;
      this.opts.log.warn({ err, sink: endpoint.url, ...(status ? { status } : {}) }, 'OTLP/gRPC metrics push failed');
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.grpc?.exporter.close();
  }
}

/**
 * Downstream connection and TLS handshake families (the series of
 * `gateways`), and upstream connection families. These are labelled by
 * backend only, like the Prometheus ones: every sink gets all of them.
 */
function connectionMetrics(
  agg: MetricsAggregate,
  gateways: ReadonlySet<string>,
  point: (a: Attr[]) => DataPoint,
): OtlpMetric[] {
  const labels = ['gateway', 'listener'];
  const conn = [...agg.conn.values()].filter((t) => gateways.has(t.labels[0]));
  const downstream = conn.filter((t) => t.labels[2] !== 'tls');
  const tls = conn.filter((t) => t.labels[2] !== 'http');
  const of = (list: typeof conn, k: number): Array<DataPoint & { asDouble: number }> =>
    list.map((t) => ({ ...point(attrs(labels, t.labels)), asDouble: t.values[k] }));
  const failures: Array<DataPoint & { asDouble: number }> = [];
  for (const t of tls) {
    TLS_FAILURE_REASONS.forEach((reason, r) => {
      failures.push({
        ...point(attrs([...labels, 'reason'], [t.labels[0], t.labels[1], reason])),
        asDouble: t.values[ConnCounter.Failures + r],
      });
    });
  }
  const upstream = (k: number): Array<DataPoint & { asDouble: number }> =>
    [...agg.upstreamConn].map(([backend, u]) => ({ ...point(attrs(['backend'], [backend])), asDouble: u[k] }));
  return [
    sum(
      'sluice_downstream_connections_total',
      'Client connections accepted by HTTP and HTTPS listeners.',
      of(downstream, ConnCounter.Connections),
    ),
    {
      name: 'sluice_downstream_connections_active',
      description: 'Client connections open now.',
      gauge: { dataPoints: of(downstream, ConnCounter.Active) },
    },
    sum('sluice_tls_handshakes_total', 'TLS handshakes completed.', of(tls, ConnCounter.Handshakes)),
    sum('sluice_tls_resumed_total', 'TLS handshakes that resumed a session.', of(tls, ConnCounter.Resumed)),
    sum('sluice_tls_handshake_failures_total', 'TLS handshakes that failed, by reason.', failures),
    sum(
      'sluice_upstream_connections_created_total',
      'Upstream connections established.',
      upstream(UpstreamConn.Created),
    ),
    {
      name: 'sluice_upstream_connections_active',
      description: 'Upstream connections open now.',
      gauge: { dataPoints: upstream(UpstreamConn.Active) },
    },
    {
      name: 'sluice_upstream_requests_pending',
      description: 'Requests waiting for an upstream connection or stream.',
      gauge: { dataPoints: upstream(UpstreamConn.Pending) },
    },
  ];
}
