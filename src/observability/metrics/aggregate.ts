/**
 * The control process's side of metrics: worker snapshots (each in its own
 * id space) summed by label values into one gateway-wide view, rendered in
 * the Prometheus text exposition format (version 0.0.4). No dependency: the
 * format is a few lines of text per family.
 */
import type { IR } from '../../ir/types.ts';
import {
  DURATION_BUCKETS,
  DURATION_BUCKET_COUNT as NB,
  METHODS,
  UPSTREAM_EVENT_COUNT as NK,
  L4_COUNTER_COUNT as NL,
  SIZE_BUCKETS,
  SIZE_BUCKET_COUNT as NSZ,
  ENDPOINT_CLASS_COUNT as NE,
  ENDPOINT_CLASSES,
  L4Counter,
  UpstreamEvent,
  CONN_COUNTER_COUNT as NCC,
  TLS_FAILURE_COUNT as NTF,
  TLS_FAILURE_REASONS,
  UPSTREAM_CONN_COUNT as NUC,
  ConnCounter,
  UpstreamConn,
  type MetricsSnapshot,
  type ProcessSample,
} from './data-plane-metrics.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface SeriesTotals {
  labels: readonly string[];
  /** `method|code` → count. */
  requests: Map<string, number>;
  duration: number[];
  durationSum: number;
  requestBytes: number;
  responseBytes: number;
  inFlight: number;
  /** Size histograms (request buckets, response buckets, request sum, response sum); null = not kept. */
  sizes: number[] | null;
}

/** Sums of worker snapshots by label values. `counters` false on add(): gauges (in-flight, process) are skipped. */
export class MetricsAggregate {
  readonly series = new Map<string, SeriesTotals>();
  readonly upstream = new Map<string, number[]>();
  readonly processes: Array<{ worker: string; sample: ProcessSample }> = [];
  /** L4 series by labels (transport, gateway, listener, route, backend): L4Counter values. */
  readonly l4 = new Map<string, { labels: readonly string[]; values: number[] }>();
  accessLogDropped = 0;
  /** Listener series by labels (gateway, listener, kind): ConnCounter values, then failures by reason. */
  readonly conn = new Map<string, { labels: readonly string[]; values: number[] }>();
  /** Per backend: UpstreamConn values (created; open and pending are gauges). */
  readonly upstreamConn = new Map<string, number[]>();
  /** Per-endpoint and per-virtual-host request counts by labels (ClassLabels): counts by ENDPOINT_CLASSES. */
  readonly endpoints = new Map<string, { labels: readonly string[]; values: number[] }>();

  add(s: MetricsSnapshot, opts: { worker?: string; gauges?: boolean } = {}): void {
    const gauges = opts.gauges ?? true;
    const local: SeriesTotals[] = s.series.map((labels) => this.seriesFor(labels));
    for (let i = 0; i + 3 < s.requests.length; i += 4) {
      const t = local[s.requests[i]];
      if (t === undefined) continue;
      const key = `${METHODS[s.requests[i + 1]] ?? 'other'}|${s.requests[i + 2]}`;
      t.requests.set(key, (t.requests.get(key) ?? 0) + s.requests[i + 3]);
    }
    for (let i = 0; i < local.length; i++) {
      const t = local[i];
      const base = i * (NB + 1);
      for (let b = 0; b < NB; b++) t.duration[b] += s.duration[base + b] ?? 0;
      t.durationSum += s.duration[base + NB] ?? 0;
      t.requestBytes += s.requestBytes[i] ?? 0;
      t.responseBytes += s.responseBytes[i] ?? 0;
      if (gauges) t.inFlight += s.inFlight[i] ?? 0;
      if (s.sizes !== undefined) addSizes(t, s.sizes, i * SSZ);
    }
    for (let b = 0; b < s.backends.length; b++) {
      let u = this.upstream.get(s.backends[b]);
      if (u === undefined) this.upstream.set(s.backends[b], (u = new Array<number>(NK).fill(0)));
      for (let k = 0; k < NK; k++) u[k] += s.upstream[b * NK + k] ?? 0;
    }
    const uc = s.upstreamConn ?? [];
    for (let b = 0; b < s.backends.length && uc.length > 0; b++) {
      const u = this.upstreamConnFor(s.backends[b]);
      u[UpstreamConn.Created] += uc[b * NUC + UpstreamConn.Created] ?? 0;
      if (!gauges) continue;
      u[UpstreamConn.Active] += uc[b * NUC + UpstreamConn.Active] ?? 0;
      u[UpstreamConn.Pending] += uc[b * NUC + UpstreamConn.Pending] ?? 0;
    }
    const connSeries = s.connSeries ?? [];
    for (let i = 0; i < connSeries.length; i++) {
      const t = this.connFor(connSeries[i]);
      for (let k = 0; k < NCC; k++) {
        if (k === ConnCounter.Active && !gauges) continue;
        t.values[k] += s.conn?.[i * NCC + k] ?? 0;
      }
    }
    const l4Series = s.l4Series ?? [];
    for (let i = 0; i < l4Series.length; i++) {
      const t = this.l4For(l4Series[i]);
      for (let k = 0; k < NL; k++) {
        if (k === L4Counter.Active && !gauges) continue;
        t.values[k] += s.l4?.[i * NL + k] ?? 0;
      }
    }
    this.accessLogDropped += s.accessLogDropped ?? 0;
    const eps = s.classSeries ?? [];
    for (let i = 0; i < eps.length; i++) {
      const t = this.endpointFor(eps[i]);
      for (let k = 0; k < NE; k++) t.values[k] += s.classCounts?.[i * NE + k] ?? 0;
    }
    if (gauges && opts.worker !== undefined) this.processes.push({ worker: opts.worker, sample: s.process });
  }

  private endpointFor(labels: readonly string[]): { labels: readonly string[]; values: number[] } {
    const key = labels.join('\u0000');
    let t = this.endpoints.get(key);
    if (t === undefined) this.endpoints.set(key, (t = { labels, values: new Array<number>(NE).fill(0) }));
    return t;
  }

  private connFor(labels: readonly string[]): { labels: readonly string[]; values: number[] } {
    const key = labels.join('\u0000');
    let t = this.conn.get(key);
    if (t === undefined) this.conn.set(key, (t = { labels, values: new Array<number>(NCC).fill(0) }));
    return t;
  }

  private upstreamConnFor(backend: string): number[] {
    let u = this.upstreamConn.get(backend);
    if (u === undefined) this.upstreamConn.set(backend, (u = new Array<number>(NUC).fill(0)));
    return u;
  }

  private l4For(labels: readonly string[]): { labels: readonly string[]; values: number[] } {
    const key = labels.join('\u0000');
    let t = this.l4.get(key);
    if (t === undefined) this.l4.set(key, (t = { labels, values: new Array<number>(NL).fill(0) }));
    return t;
  }

  /** Adds another aggregate's counters (the totals of workers that have exited). */
  addAggregate(o: MetricsAggregate): void {
    for (const t of o.series.values()) {
      const mine = this.seriesFor(t.labels);
      for (const [k, v] of t.requests) mine.requests.set(k, (mine.requests.get(k) ?? 0) + v);
      for (let b = 0; b < NB; b++) mine.duration[b] += t.duration[b];
      mine.durationSum += t.durationSum;
      mine.requestBytes += t.requestBytes;
      mine.responseBytes += t.responseBytes;
      if (t.sizes !== null) addSizes(mine, t.sizes, 0);
    }
    for (const t of o.l4.values()) {
      const mine = this.l4For(t.labels);
      for (let k = 0; k < NL; k++) if (k !== L4Counter.Active) mine.values[k] += t.values[k];
    }
    for (const t of o.conn.values()) {
      const mine = this.connFor(t.labels);
      for (let k = 0; k < NCC; k++) if (k !== ConnCounter.Active) mine.values[k] += t.values[k];
    }
    for (const [name, u] of o.upstreamConn) this.upstreamConnFor(name)[UpstreamConn.Created] += u[UpstreamConn.Created];
    this.accessLogDropped += o.accessLogDropped;
    for (const t of o.endpoints.values()) {
      const mine = this.endpointFor(t.labels);
      for (let k = 0; k < NE; k++) mine.values[k] += t.values[k];
    }
    for (const [name, u] of o.upstream) {
      let mine = this.upstream.get(name);
      if (mine === undefined) this.upstream.set(name, (mine = new Array<number>(NK).fill(0)));
      for (let k = 0; k < NK; k++) mine[k] += u[k];
    }
  }

  private seriesFor(labels: readonly string[]): SeriesTotals {
    const key = labels.join('\u0000');
    let t = this.series.get(key);
    if (t === undefined) {
      t = {
        labels,
        requests: new Map(),
        duration: new Array<number>(NB).fill(0),
        durationSum: 0,
        requestBytes: 0,
        responseBytes: 0,
        inFlight: 0,
        sizes: null,
      };
      this.series.set(key, t);
    }
    return t;
  }
}

/** Per series stride of the size histograms (data-plane-metrics.ts recordSizes). */
const SSZ = 2 * NSZ + 2;

function addSizes(t: SeriesTotals, from: readonly number[], offset: number): void {
  let any = false;
  for (let k = 0; k < SSZ; k++) if ((from[offset + k] ?? 0) !== 0) any = true;
  if (!any) return;
  const sz = (t.sizes ??= new Array<number>(SSZ).fill(0));
  for (let k = 0; k < SSZ; k++) sz[k] += from[offset + k] ?? 0;
}

/** Counters of the control process itself. */
export interface ControlMetrics {
  reloads: number;
  reloadErrors: number;
  /** Unix seconds of the last reload (0 = none yet). */
  lastReloadSeconds: number;
  lastReloadSuccess: boolean;
  configVersion: number;
  workers: Array<{ slot: number; state: string; restarts: number }>;
  control: ProcessSample;
  /** Gateways (`<namespace>/<name>`) whose EnvoyProxy sets `metrics.prometheus.disable`: their series are left out. */
  hiddenGateways?: ReadonlySet<string>;
}

/** The Gateways of an IR whose EnvoyProxy turns Prometheus off. */
export function prometheusHiddenGateways(ir: IR | undefined): Set<string> {
  const out = new Set<string>();
  for (const gw of ir?.gateways ?? []) {
    if (gw.telemetry?.metrics?.prometheusDisabled === true) out.add(`${gw.namespace}/${gw.name}`);
  }
  return out;
}

const SERIES_LABELS = ['gateway', 'listener', 'route', 'rule', 'backend'] as const;

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[]): string {
  let s = '';
  for (let i = 0; i < names.length; i++) s += `${i ? ',' : ''}${names[i]}="${esc(values[i])}"`;
  return s;
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
}

class Writer {
  out: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: string, value: number): void {
    this.out.push(labels === '' ? `${name} ${num(value)}` : `${name}{${labels}} ${num(value)}`);
  }
}

const UPSTREAM_FAMILIES: Array<[UpstreamEvent, string, string]> = [
  [
    UpstreamEvent.ConnectFailure,
    'sluice_upstream_connect_failures_total',
    'Upstream connection attempts that failed (refused, unreachable, DNS, TLS handshake, connect timeout).',
  ],
  [
    UpstreamEvent.Timeout,
    'sluice_upstream_timeouts_total',
    'Upstream requests that timed out (route request or backendRequest timeout, response headers timeout).',
  ],
  [
    UpstreamEvent.Reset,
    'sluice_upstream_resets_total',
    'Upstream connections that dropped before or during the response.',
  ],
  [UpstreamEvent.Retry, 'sluice_upstream_retries_total', 'Retries sent to the backend (attempts after the first).'],
  [UpstreamEvent.MirrorSent, 'sluice_mirror_requests_total', 'Mirrored copies of requests sent to the backend.'],
  [
    UpstreamEvent.MirrorDropped,
    'sluice_mirror_dropped_total',
    'Mirrored copies not sent (too many in flight, no endpoint).',
  ],
];

const UPSTREAM_CONN_FAMILIES: Array<[number, string, 'counter' | 'gauge', string]> = [
  [
    UpstreamConn.Created,
    'sluice_upstream_connections_created_total',
    'counter',
    'Upstream connections established (HTTP/1 pool connections, HTTP/2 sessions).',
  ],
  [UpstreamConn.Active, 'sluice_upstream_connections_active', 'gauge', 'Upstream connections open now.'],
  [
    UpstreamConn.Pending,
    'sluice_upstream_requests_pending',
    'gauge',
    'Requests waiting for an upstream connection or stream.',
  ],
];

const CONN_LABELS = ['gateway', 'listener'] as const;

/** Downstream connection families (HTTP and HTTPS listeners) and TLS handshake families (HTTPS and TLS-terminate listeners). */
function renderConnFamilies(w: Writer, conn: ReadonlyArray<{ labels: readonly string[]; values: number[] }>): void {
  const downstream = conn.filter((t) => t.labels[2] !== 'tls');
  const tls = conn.filter((t) => t.labels[2] !== 'http');
  w.family(
    'sluice_downstream_connections_total',
    'counter',
    'Client connections accepted by HTTP and HTTPS listeners.',
  );
  for (const t of downstream)
    w.sample(
      'sluice_downstream_connections_total',
      labelText(CONN_LABELS, t.labels),
      t.values[ConnCounter.Connections],
    );
  w.family(
    'sluice_downstream_connections_active',
    'gauge',
    'Client connections open now (HTTPS: handshake completed).',
  );
  for (const t of downstream)
    w.sample('sluice_downstream_connections_active', labelText(CONN_LABELS, t.labels), t.values[ConnCounter.Active]);
  w.family('sluice_tls_handshakes_total', 'counter', 'TLS handshakes completed (client certificate accepted).');
  for (const t of tls)
    w.sample('sluice_tls_handshakes_total', labelText(CONN_LABELS, t.labels), t.values[ConnCounter.Handshakes]);
  w.family('sluice_tls_resumed_total', 'counter', 'TLS handshakes that resumed a session (session ticket).');
  for (const t of tls)
    w.sample('sluice_tls_resumed_total', labelText(CONN_LABELS, t.labels), t.values[ConnCounter.Resumed]);
  w.family('sluice_tls_handshake_failures_total', 'counter', 'TLS handshakes that failed, by reason.');
  for (const t of tls) {
    const base = labelText(CONN_LABELS, t.labels);
    for (let r = 0; r < NTF; r++) {
      w.sample(
        'sluice_tls_handshake_failures_total',
        `${base},reason="${TLS_FAILURE_REASONS[r]}"`,
        t.values[ConnCounter.Failures + r],
      );
    }
  }
}

const L4_LABELS = ['gateway', 'listener', 'route', 'backend'] as const;

const L4_FAMILIES: Array<[L4Counter, string, 'counter' | 'gauge', (what: string) => string]> = [
  [L4Counter.Sessions, 'sessions_total', 'counter', (w) => `${w} routed to a backend endpoint.`],
  [L4Counter.Active, 'sessions_active', 'gauge', (w) => `${w} open now.`],
  [L4Counter.ReceivedBytes, 'received_bytes_total', 'counter', (w) => `Bytes received from clients over ${w}.`],
  [L4Counter.SentBytes, 'sent_bytes_total', 'counter', (w) => `Bytes sent to clients over ${w}.`],
  [
    L4Counter.ConnectFailures,
    'connect_failures_total',
    'counter',
    (w) => `Upstream connections of ${w} that could not be made (refused, unreachable, timeout, DNS).`,
  ],
];

/** The whole gateway in Prometheus text format. */
export function renderPrometheus(agg: MetricsAggregate, control: ControlMetrics): string {
  const w = new Writer();
  const hidden = control.hiddenGateways;
  const shown = (labels: readonly string[], gatewayIndex: number): boolean =>
    hidden === undefined || hidden.size === 0 || !hidden.has(labels[gatewayIndex]);
  const series = [...agg.series.values()]
    .filter((t) => shown(t.labels, 0))
    .sort((a, b) => cmp(a.labels.join('\u0000'), b.labels.join('\u0000')));

  w.family(
    'sluice_http_requests_total',
    'counter',
    'HTTP requests finished, by route, backend, method and status code (0: the client went away first).',
  );
  for (const t of series) {
    const base = labelText(SERIES_LABELS, t.labels);
    for (const [k, v] of [...t.requests].sort((a, b) => cmp(a[0], b[0]))) {
      const [method, code] = k.split('|');
      w.sample(
        'sluice_http_requests_total',
        `${base},method="${method}",code="${code}",class="${classOf(Number(code))}"`,
        v,
      );
    }
  }
  w.family(
    'sluice_http_request_duration_seconds',
    'histogram',
    'Time from the request headers to the last byte of the response.',
  );
  for (const t of series) {
    const count = t.duration.reduce((a, b) => a + b, 0);
    if (count === 0) continue;
    const base = labelText(SERIES_LABELS, t.labels);
    let cum = 0;
    for (let b = 0; b < NB; b++) {
      cum += t.duration[b];
      const le = b < DURATION_BUCKETS.length ? String(DURATION_BUCKETS[b]) : '+Inf';
      w.sample('sluice_http_request_duration_seconds_bucket', `${base},le="${le}"`, cum);
    }
    w.sample('sluice_http_request_duration_seconds_sum', base, t.durationSum);
    w.sample('sluice_http_request_duration_seconds_count', base, count);
  }
  for (const [dir, name, help] of [
    [
      0,
      'sluice_http_request_size_bytes',
      'Request body sizes (Gateways whose EnvoyProxy sets enableRequestResponseSizesStats).',
    ],
    [
      1,
      'sluice_http_response_size_bytes',
      'Response body sizes (Gateways whose EnvoyProxy sets enableRequestResponseSizesStats).',
    ],
  ] as const) {
    w.family(name, 'histogram', help);
    for (const t of series) {
      const sz = t.sizes;
      if (sz === null) continue;
      const base = labelText(SERIES_LABELS, t.labels);
      let cum = 0;
      for (let b = 0; b < NSZ; b++) {
        cum += sz[dir * NSZ + b];
        const le = b < SIZE_BUCKETS.length ? String(SIZE_BUCKETS[b]) : '+Inf';
        w.sample(`${name}_bucket`, `${base},le="${le}"`, cum);
      }
      w.sample(`${name}_sum`, base, sz[2 * NSZ + dir]);
      w.sample(`${name}_count`, base, cum);
    }
  }
  w.family(
    'sluice_http_request_body_bytes_total',
    'counter',
    'Request body bytes received from clients (Content-Length, or the size of a body the gateway buffered).',
  );
  for (const t of series)
    if (t.requestBytes > 0)
      w.sample('sluice_http_request_body_bytes_total', labelText(SERIES_LABELS, t.labels), t.requestBytes);
  w.family('sluice_http_response_body_bytes_total', 'counter', 'Response body bytes sent to clients.');
  for (const t of series)
    if (t.responseBytes > 0)
      w.sample('sluice_http_response_body_bytes_total', labelText(SERIES_LABELS, t.labels), t.responseBytes);
  w.family('sluice_http_requests_in_flight', 'gauge', 'Requests routed and not finished yet.');
  for (const t of series) {
    if (t.labels[4] === '')
      w.sample('sluice_http_requests_in_flight', labelText(SERIES_LABELS.slice(0, 4), t.labels), t.inFlight);
  }

  const backends = [...agg.upstream.keys()].sort(cmp);
  for (const [kind, name, help] of UPSTREAM_FAMILIES) {
    w.family(name, 'counter', help);
    for (const b of backends) w.sample(name, `backend="${esc(b)}"`, agg.upstream.get(b)![kind]);
  }
  const connBackends = [...agg.upstreamConn.keys()].sort(cmp);
  for (const [k, name, type, help] of UPSTREAM_CONN_FAMILIES) {
    w.family(name, type, help);
    for (const b of connBackends) w.sample(name, `backend="${esc(b)}"`, agg.upstreamConn.get(b)![k]);
  }

  const l4 = [...agg.l4.values()]
    .filter((t) => shown(t.labels, 1))
    .sort((a, b) => cmp(a.labels.join('\u0000'), b.labels.join('\u0000')));
  for (const transport of ['tcp', 'udp']) {
    const mine = l4.filter((t) => t.labels[0] === transport);
    for (const [counter, suffix, type, help] of L4_FAMILIES) {
      const name = `sluice_${transport}_${suffix}`;
      w.family(
        name,
        type,
        help(transport === 'tcp' ? 'TCP (and TLS passthrough/terminated) connections' : 'UDP sessions'),
      );
      for (const t of mine) w.sample(name, labelText(L4_LABELS, t.labels.slice(1)), t.values[counter]);
    }
  }
  const conn = [...agg.conn.values()]
    .filter((t) => shown(t.labels, 0))
    .sort((a, b) => cmp(a.labels.join('\u0000'), b.labels.join('\u0000')));
  renderConnFamilies(w, conn);
  w.family(
    'sluice_upstream_endpoint_requests_total',
    'counter',
    'HTTP requests finished per upstream endpoint, by status class (Gateways whose EnvoyProxy sets enablePerEndpointStats).',
  );
  const classes = [...agg.endpoints.values()]
    .filter((t) => shown(t.labels, 1))
    .sort((a, b) => cmp(a.labels.join('\u0000'), b.labels.join('\u0000')));
  const classFamily = (kind: string, name: string, names: readonly string[]): void => {
    for (const t of classes) {
      if (t.labels[0] !== kind) continue;
      const base = labelText(names, t.labels.slice(1));
      for (let k = 0; k < NE; k++) {
        if (t.values[k] > 0) w.sample(name, `${base},class="${ENDPOINT_CLASSES[k]}"`, t.values[k]);
      }
    }
  };
  classFamily('endpoint', 'sluice_upstream_endpoint_requests_total', ['gateway', 'backend', 'endpoint']);
  w.family(
    'sluice_http_vhost_requests_total',
    'counter',
    'HTTP requests finished per virtual host, by status class (Gateways whose EnvoyProxy sets enableVirtualHostStats).',
  );
  classFamily('vhost', 'sluice_http_vhost_requests_total', ['gateway', 'vhost']);
  w.family(
    'sluice_access_log_dropped_total',
    'counter',
    'Access-log lines dropped because their file or stdout did not keep up (bounded buffer).',
  );
  w.sample('sluice_access_log_dropped_total', '', agg.accessLogDropped);

  w.family('sluice_config_reloads_total', 'counter', 'Configuration reloads (each load of the config source).');
  w.sample('sluice_config_reloads_total', '', control.reloads);
  w.family(
    'sluice_config_reload_errors_total',
    'counter',
    'Reloads that failed or had problems (part of the configuration kept at its last good version).',
  );
  w.sample('sluice_config_reload_errors_total', '', control.reloadErrors);
  w.family('sluice_config_last_reload_timestamp_seconds', 'gauge', 'Unix time of the last reload.');
  w.sample('sluice_config_last_reload_timestamp_seconds', '', control.lastReloadSeconds);
  w.family('sluice_config_last_reload_success', 'gauge', '1 when the last reload applied everything, else 0.');
  w.sample('sluice_config_last_reload_success', '', control.lastReloadSuccess ? 1 : 0);
  w.family('sluice_config_version', 'gauge', 'Version of the configuration being served.');
  w.sample('sluice_config_version', '', control.configVersion);
  w.family('sluice_worker_restarts_total', 'counter', 'Data-plane workers restarted after exiting.');
  for (const wk of control.workers) w.sample('sluice_worker_restarts_total', `worker="${wk.slot}"`, wk.restarts);
  w.family('sluice_worker_up', 'gauge', '1 while the worker is running.');
  for (const wk of control.workers) w.sample('sluice_worker_up', `worker="${wk.slot}"`, wk.state === 'running' ? 1 : 0);

  const procs = [{ worker: 'control', sample: control.control }, ...agg.processes];
  const proc: Array<[string, 'counter' | 'gauge', string, (p: ProcessSample) => number]> = [
    ['sluice_process_cpu_user_seconds_total', 'counter', 'User CPU time of the process.', (p) => p.cpuUserSeconds],
    [
      'sluice_process_cpu_system_seconds_total',
      'counter',
      'System CPU time of the process.',
      (p) => p.cpuSystemSeconds,
    ],
    ['sluice_process_resident_memory_bytes', 'gauge', 'Resident set size.', (p) => p.residentBytes],
    ['sluice_process_heap_used_bytes', 'gauge', 'V8 heap in use.', (p) => p.heapUsedBytes],
    ['sluice_process_heap_total_bytes', 'gauge', 'V8 heap allocated.', (p) => p.heapTotalBytes],
    [
      'sluice_process_event_loop_lag_seconds',
      'gauge',
      'Mean event-loop delay since the previous sample.',
      (p) => p.eventLoopLagMeanSeconds,
    ],
    [
      'sluice_process_event_loop_lag_p99_seconds',
      'gauge',
      '99th percentile event-loop delay since the previous sample.',
      (p) => p.eventLoopLagP99Seconds,
    ],
    [
      'sluice_process_event_loop_lag_max_seconds',
      'gauge',
      'Longest event-loop delay since the previous sample.',
      (p) => p.eventLoopLagMaxSeconds,
    ],
    ['sluice_process_start_time_seconds', 'gauge', 'Unix time the process started.', (p) => p.startTimeSeconds],
  ];
  for (const [name, type, help, get] of proc) {
    w.family(name, type, help);
    for (const p of procs) w.sample(name, `worker="${p.worker}"`, get(p.sample));
  }
  return w.out.join('\n') + '\n';
}

function classOf(code: number): string {
  return code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : 'none';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
