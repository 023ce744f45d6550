/**
 * The data plane's counters (one instance per worker). Label values come
 * from configuration only: a *series* is (gateway, listener, route, rule,
 * backend) and gets a small integer id when a configuration is compiled;
 * requests then bump plain typed arrays at that id. Nothing is allocated per
 * request: the one sparse counter (requests by method and status code) is a
 * Map from a small integer key to an index in a typed array.
 *
 * Counters are cumulative for the worker's life and never reset: a series
 * whose route left the configuration keeps its last value (bounded by the
 * configurations seen). The control process reads `snapshot()` (over IPC
 * about once a second, and on each scrape) and sums the workers
 * (./aggregate.ts).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Request duration buckets (seconds), upper bounds; +Inf is implicit. */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const BUCKET_MS = DURATION_BUCKETS.map((s) => s * 1000);
/** Buckets per series: the bounds plus +Inf. */
const NB = DURATION_BUCKETS.length + 1;

/** The method label: the standard ones, everything else counts as `other`. */
export const METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  'other',
];

export function methodIndex(m: string): number {
  switch (m) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'CONNECT':
      return 7;
    case 'TRACE':
      return 8;
    default:
      return 9;
  }
}

/** Upstream event kinds counted per backend. */
export const UpstreamEvent = {
  ConnectFailure: 0,
  Timeout: 1,
  Reset: 2,
  Retry: 3,
  MirrorSent: 4,
  MirrorDropped: 5,
} as const;
export type UpstreamEvent = (typeof UpstreamEvent)[keyof typeof UpstreamEvent];
const NK = 6;

/**
 * Why a TLS handshake failed (`reason` of sluice_tls_handshake_failures_total), in this order:
 * not finished in time; no common version, cipher, group or ALPN protocol, or not TLS at all;
 * the client's certificate missing or refused; the client refused the gateway's certificate
 * (an alert about it); the client went away mid-handshake; anything else.
 */
export const TLS_FAILURE_REASONS: readonly string[] = [
  'timeout',
  'protocol',
  'client_certificate',
  'server_certificate',
  'closed',
  'other',
];
export const TlsFailure = {
  Timeout: 0,
  Protocol: 1,
  ClientCertificate: 2,
  ServerCertificate: 3,
  Closed: 4,
  Other: 5,
} as const;
export type TlsFailure = (typeof TlsFailure)[keyof typeof TlsFailure];
const NTF = 6;

/**
 * The failure reason of a handshake error (node's `tlsClientError`, a
 * terminating TLSSocket's 'error'). `authorizationError`: the socket's, set
 * when node itself refused the client certificate (it then closes the
 * socket, which surfaces as a reset).
 */
export function tlsFailureReason(err: unknown, authorizationError?: unknown): TlsFailure {
  if (authorizationError) return TlsFailure.ClientCertificate;
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === 'string' ? code : '';
  if (c === 'ERR_TLS_HANDSHAKE_TIMEOUT' || c === 'ETIMEDOUT') return TlsFailure.Timeout;
  if (c === 'ECONNRESET' || c === 'EPIPE' || c === 'ECONNABORTED') return TlsFailure.Closed;
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_VERIFY_FAILED|NO_CERTIFICATE/.test(c)) {
    return TlsFailure.ClientCertificate;
  }
  if (/ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_|UNSUPPORTED_CERTIFICATE)/.test(c)) {
    return TlsFailure.ServerCertificate;
  }
  if (
    /VERSION|PROTOCOL|CIPHER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|RECORD|PACKET_LENGTH|NO_SHARED|NO_SUITABLE|GROUP|SIGALG|HANDSHAKE_FAILURE|CLIENTHELLO/.test(
      c,
    )
  ) {
    return TlsFailure.Protocol;
  }
  return TlsFailure.Other;
}

/** Per listener series (downstream connections and TLS handshakes), in this order; then one failure count per TLS_FAILURE_REASONS. */
export const ConnCounter = {
  /** Connections accepted (HTTPS: attributed to the listener the ClientHello selects). */
  Connections: 0,
  /** Connections open now (a gauge; HTTPS: those whose handshake completed). */
  Active: 1,
  /** TLS handshakes completed (and, with client validation, accepted). */
  Handshakes: 2,
  /** Of those, resumed sessions (a session ticket). */
  Resumed: 3,
  /** First failure slot: `Failures + TlsFailure`. */
  Failures: 4,
} as const;
export type ConnCounter = (typeof ConnCounter)[keyof typeof ConnCounter];
const NCC = 4 + NTF;

/** [gateway, listener (section name, '' when a cleartext socket serves several), kind: `http`, `https` or `tls`]. */
export type ConnLabels = readonly [string, string, string];

/** Upstream connection figures per backend, in this order: created (counter), open and requests waiting (gauges, sampled at snapshot time). */
export const UpstreamConn = { Created: 0, Active: 1, Pending: 2 } as const;
const NUC = 3;

/** Route label value of requests no route matched (404), and of requests refused before routing. */
export const NO_ROUTE = 'no_route';

/** [gateway, listener, route, rule, backend]. */
export type SeriesLabels = readonly [string, string, string, string, string];

/** L4 session counters, per L4 series, in this order. */
export const L4Counter = {
  /** Sessions started (a TCP/TLS connection routed to a backend endpoint; a UDP session opened). */
  Sessions: 0,
  /** Sessions open now (a gauge). */
  Active: 1,
  /** Bytes received from clients. */
  ReceivedBytes: 2,
  /** Bytes sent to clients. */
  SentBytes: 3,
  /** Upstream connections that could not be made (refused, unreachable, timeout, DNS). */
  ConnectFailures: 4,
} as const;
export type L4Counter = (typeof L4Counter)[keyof typeof L4Counter];
const NL = 5;

/**
 * Request counters by status class (1xx..5xx, then none for code 0) for the
 * EnvoyProxy opt-in series: per upstream endpoint (enablePerEndpointStats)
 * and per virtual host (enableVirtualHostStats).
 */
const NE = 6;
export const ENDPOINT_CLASSES: readonly string[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'];

/** Request/response size buckets (bytes), upper bounds; +Inf is implicit (EnvoyProxy enableRequestResponseSizesStats). */
export const SIZE_BUCKETS: readonly number[] = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
/** Buckets per direction: the bounds plus +Inf. */
const NSZ = SIZE_BUCKETS.length + 1;
export const SIZE_BUCKET_COUNT = NSZ;
/** Per series: request buckets, response buckets, request sum, response sum. */
const SSZ = 2 * NSZ + 2;

/** `['endpoint', gateway, backend, address:port]` or `['vhost', gateway, hostname, '']`. */
export type ClassLabels = readonly [string, string, string, string];

/** [transport (tcp, udp), gateway, listener, route, backend]. */
export type L4SeriesLabels = readonly [string, string, string, string, string];

/** What a worker reports; plain arrays (IPC is JSON). Indexes are the worker's own series/backend ids. */
export interface MetricsSnapshot {
  series: SeriesLabels[];
  /** Flat `[series, methodIndex, code, count, ...]`. */
  requests: number[];
  /** Per series, `NB` cumulative-free bucket counts (not cumulative), then the sum in seconds. */
  duration: number[];
  requestBytes: number[];
  responseBytes: number[];
  inFlight: number[];
  backends: string[];
  /** Per backend, `NK` counts in UpstreamEvent order. */
  upstream: number[];
  process: ProcessSample;
  /** L4 series (absent from older workers and stand-ins). */
  l4Series?: L4SeriesLabels[];
  /** Per L4 series, `NL` values in L4Counter order. */
  l4?: number[];
  /** Access-log lines dropped by stalled sinks in this process. */
  accessLogDropped?: number;
  /** Listener series of downstream connection and TLS handshake counters. */
  connSeries?: ConnLabels[];
  /** Per listener series, `NCC` values in ConnCounter order (failures by TLS_FAILURE_REASONS last). */
  conn?: number[];
  /** Per backend (as `backends`), `NUC` values in UpstreamConn order. */
  upstreamConn?: number[];
  /** Per-endpoint and per-virtual-host series (Gateways that ask for them). */
  classSeries?: ClassLabels[];
  /** Per class series, `NE` counts in ENDPOINT_CLASSES order. */
  classCounts?: number[];
  /** Per series, `NSZ` request-size then `NSZ` response-size bucket counts (not cumulative), then the two sums; absent when none recorded. */
  sizes?: number[];
}

export interface ProcessSample {
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  residentBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Event-loop delay since the previous sample (seconds). */
  eventLoopLagMeanSeconds: number;
  eventLoopLagP99Seconds: number;
  eventLoopLagMaxSeconds: number;
  startTimeSeconds: number;
}

function grow(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Float64Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

const START_TIME_S = Date.now() / 1000 - process.uptime();

/** The event-loop delay window: figures cover at least this long before the histogram restarts. */
const LAG_WINDOW_MS = 1000;
/** monitorEventLoopDelay's sampling interval (ms); it is subtracted from what the histogram records. */
const LAG_RESOLUTION_MS = 10;

/**
 * CPU, memory and event-loop delay of this process. Event-loop delay is
 * measured over windows of at least a second: samples taken closer together
 * (a scrape right after the periodic report) repeat the last window.
 */
export class ProcessSampler {
  private readonly lag: IntervalHistogram;
  private windowStart = performance.now();
  private lagMean = 0;
  private lagP99 = 0;
  private lagMax = 0;

  constructor() {
    this.lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.lag.enable();
  }

  sample(): ProcessSample {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const now = performance.now();
    const h = this.lag;
    if (now - this.windowStart >= LAG_WINDOW_MS && h.count > 0) {
      // The histogram counts in ns.
      this.lagMean = h.mean / 1e9;
      this.lagP99 = h.percentile(99) / 1e9;
      this.lagMax = h.max / 1e9;
      h.reset();
      this.windowStart = now;
    }
    return {
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      residentBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      eventLoopLagMeanSeconds: this.lagMean,
      eventLoopLagP99Seconds: this.lagP99,
      eventLoopLagMaxSeconds: this.lagMax,
      startTimeSeconds: START_TIME_S,
    };
  }

  close(): void {
    this.lag.disable();
  }
}

export class DataPlaneMetrics {
  private readonly seriesIds = new Map<string, number>();
  private readonly seriesLabels: SeriesLabels[] = [];
  private readonly backendIds = new Map<string, number>();
  private readonly backendNames: string[] = [];

  /** (series * 16 + method) * 1024 + code → index into reqCount. */
  private readonly reqIndex = new Map<number, number>();
  private reqKeys = new Float64Array(64);
  private reqCount = new Float64Array(64);
  private reqN = 0;

  private duration = new Float64Array(NB * 16);
  private durationSum = new Float64Array(16);
  private requestBytes = new Float64Array(16);
  private responseBytes = new Float64Array(16);
  private inFlight = new Float64Array(16);
  private upstream = new Float64Array(NK * 16);
  private readonly l4Ids = new Map<string, number>();
  private readonly l4Labels: L4SeriesLabels[] = [];
  private l4 = new Float64Array(NL * 16);
  private readonly endpointIds = new Map<string, number>();
  private readonly endpointLabels: ClassLabels[] = [];
  private endpointCounts = new Float64Array(NE * 16);
  /** Size histograms, allocated on the first request of a Gateway that asks for them. */
  private sizes: Float64Array<ArrayBuffer> | null = null;
  private readonly connIds = new Map<string, number>();
  private readonly connLabels: ConnLabels[] = [];
  private conn = new Float64Array(NCC * 16);
  private upstreamConn = new Float64Array(NUC * 16);
  /**
   * Called at snapshot time, after the sampled upstream gauges are zeroed:
   * reports each upstream target's open connections and waiting requests
   * (`upstreamSample`). Set by the data plane (its upstream registry).
   */
  sampleUpstream: (() => void) | null = null;
  /** Read at snapshot time (observability/access-log.ts accessLogDrops). */
  accessLogDropped: () => number = () => 0;
  private sampler: ProcessSampler | null = null;

  constructor(
    /** False: every record call returns at once (the tuning flag `metrics`). */
    readonly enabled = true,
  ) {
    if (enabled) this.sampler = new ProcessSampler();
  }

  /** Compile time: the id of a series (the same labels always give the same id). */
  series(labels: SeriesLabels): number {
    const key = labels.join('\u0000');
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      id = this.seriesLabels.length;
      this.seriesIds.set(key, id);
      this.seriesLabels.push(labels);
      const n = id + 1;
      this.duration = grow(this.duration, n * NB);
      this.durationSum = grow(this.durationSum, n);
      this.requestBytes = grow(this.requestBytes, n);
      this.responseBytes = grow(this.responseBytes, n);
      this.inFlight = grow(this.inFlight, n);
    }
    return id;
  }

  /** Compile time: the id of a backend by its IR name. */
  backend(name: string): number {
    let id = this.backendIds.get(name);
    if (id === undefined) {
      id = this.backendNames.length;
      this.backendIds.set(name, id);
      this.backendNames.push(name);
      this.upstream = grow(this.upstream, (id + 1) * NK);
      this.upstreamConn = grow(this.upstreamConn, (id + 1) * NUC);
    }
    return id;
  }

  /** Compile time: the id of a listener series (downstream connections, TLS handshakes). */
  connSeries(labels: ConnLabels): number {
    const key = labels.join('\u0000');
    let id = this.connIds.get(key);
    if (id === undefined) {
      id = this.connLabels.length;
      this.connIds.set(key, id);
      this.connLabels.push(labels);
      this.conn = grow(this.conn, (id + 1) * NCC);
    }
    return id;
  }

  /** Adds `n` to a listener counter (`Active` takes -1 when a connection closes). */
  connAdd(series: number, counter: ConnCounter, n = 1): void {
    if (this.enabled && series >= 0) this.conn[series * NCC + counter] += n;
  }

  /** A TLS handshake that failed, by reason. */
  tlsFailed(series: number, reason: TlsFailure): void {
    if (this.enabled && series >= 0) this.conn[series * NCC + ConnCounter.Failures + reason]++;
  }

  /** An upstream connection (HTTP/1 pool connection, HTTP/2 session) was established for the backend. */
  upstreamConnected(backend: number): void {
    if (this.enabled && backend >= 0) this.upstreamConn[backend * NUC + UpstreamConn.Created]++;
  }

  /** During `sampleUpstream`: one target's open connections and waiting requests, added to the backend's. */
  upstreamSample(backend: number, active: number, pending: number): void {
    if (backend < 0) return;
    this.upstreamConn[backend * NUC + UpstreamConn.Active] += active;
    this.upstreamConn[backend * NUC + UpstreamConn.Pending] += pending;
  }

  /** Compile time: the id of an L4 series. */
  l4Series(labels: L4SeriesLabels): number {
    const key = labels.join('\u0000');
    let id = this.l4Ids.get(key);
    if (id === undefined) {
      id = this.l4Labels.length;
      this.l4Ids.set(key, id);
      this.l4Labels.push(labels);
      this.l4 = grow(this.l4, (id + 1) * NL);
    }
    return id;
  }

  /** The id of a per-endpoint or per-virtual-host series (endpoints: on first use, as a request picks one). */
  classSeries(labels: ClassLabels): number {
    const key = labels.join('\u0000');
    let id = this.endpointIds.get(key);
    if (id === undefined) {
      id = this.endpointLabels.length;
      this.endpointIds.set(key, id);
      this.endpointLabels.push(labels);
      this.endpointCounts = grow(this.endpointCounts, (id + 1) * NE);
    }
    return id;
  }

  /** Request and response body sizes of a finished request (Gateways with enableRequestResponseSizesStats). */
  recordSizes(series: number, reqBytes: number, resBytes: number): void {
    if (!this.enabled || series < 0) return;
    const need = (series + 1) * SSZ;
    let a = this.sizes;
    if (a === null || a.length < need) a = this.sizes = grow(a ?? new Float64Array(0), need);
    const base = series * SSZ;
    a[base + sizeBucket(reqBytes)]++;
    a[base + NSZ + sizeBucket(resBytes)]++;
    a[base + 2 * NSZ] += reqBytes;
    a[base + 2 * NSZ + 1] += resBytes;
  }

  /** One finished request, by its status class. */
  classRequest(series: number, code: number): void {
    if (!this.enabled || series < 0) return;
    const c = code >= 100 && code < 600 ? Math.floor(code / 100) - 1 : NE - 1;
    this.endpointCounts[series * NE + c]++;
  }

  /** Adds `n` to an L4 counter (`Active` takes -1 when a session ends). */
  l4Add(series: number, counter: L4Counter, n = 1): void {
    if (this.enabled && series >= 0) this.l4[series * NL + counter] += n;
  }

  requestStarted(series: number): void {
    if (this.enabled && series >= 0) this.inFlight[series]++;
  }

  requestEnded(series: number): void {
    if (this.enabled && series >= 0) this.inFlight[series]--;
  }

  /** One finished request (answered, failed or abandoned: code 0). */
  record(series: number, method: number, code: number, durationMs: number, reqBytes: number, resBytes: number): void {
    if (!this.enabled || series < 0) return;
    const key = (series * 16 + method) * 1024 + (code > 999 || code < 0 ? 0 : code);
    let i = this.reqIndex.get(key);
    if (i === undefined) {
      i = this.reqN++;
      if (i >= this.reqCount.length) {
        this.reqCount = grow(this.reqCount, i + 1);
        this.reqKeys = grow(this.reqKeys, i + 1);
      }
      this.reqKeys[i] = key;
      this.reqIndex.set(key, i);
    }
    this.reqCount[i]++;
    let b = 0;
    while (b < NB - 1 && durationMs > BUCKET_MS[b]) b++;
    this.duration[series * NB + b]++;
    this.durationSum[series] += durationMs / 1000;
    this.requestBytes[series] += reqBytes;
    this.responseBytes[series] += resBytes;
  }

  upstreamEvent(backend: number, kind: UpstreamEvent): void {
    if (this.enabled && backend >= 0) this.upstream[backend * NK + kind]++;
  }

  snapshot(): MetricsSnapshot {
    const ns = this.seriesLabels.length;
    const requests: number[] = [];
    for (let i = 0; i < this.reqN; i++) {
      const key = this.reqKeys[i];
      const code = key % 1024;
      const sm = (key - code) / 1024;
      requests.push(Math.floor(sm / 16), sm % 16, code, this.reqCount[i]);
    }
    const duration: number[] = [];
    for (let s = 0; s < ns; s++) {
      for (let b = 0; b < NB; b++) duration.push(this.duration[s * NB + b]);
      duration.push(this.durationSum[s]);
    }
    this.sampler ??= new ProcessSampler();
    const nb = this.backendNames.length;
    if (this.enabled && this.sampleUpstream !== null) {
      for (let b = 0; b < nb; b++) {
        this.upstreamConn[b * NUC + UpstreamConn.Active] = 0;
        this.upstreamConn[b * NUC + UpstreamConn.Pending] = 0;
      }
      this.sampleUpstream();
    }
    return {
      series: this.seriesLabels.slice(),
      requests,
      duration,
      requestBytes: Array.from(this.requestBytes.subarray(0, ns)),
      responseBytes: Array.from(this.responseBytes.subarray(0, ns)),
      inFlight: Array.from(this.inFlight.subarray(0, ns)),
      backends: this.backendNames.slice(),
      upstream: Array.from(this.upstream.subarray(0, this.backendNames.length * NK)),
      process: this.sampler.sample(),
      l4Series: this.l4Labels.slice(),
      l4: Array.from(this.l4.subarray(0, this.l4Labels.length * NL)),
      accessLogDropped: this.accessLogDropped(),
      connSeries: this.connLabels.slice(),
      conn: Array.from(this.conn.subarray(0, this.connLabels.length * NCC)),
      upstreamConn: Array.from(this.upstreamConn.subarray(0, nb * NUC)),
      ...(this.sizes !== null ? { sizes: Array.from(this.sizes.subarray(0, ns * SSZ)) } : {}),
      classSeries: this.endpointLabels.slice(),
      classCounts: Array.from(this.endpointCounts.subarray(0, this.endpointLabels.length * NE)),
    };
  }

  close(): void {
    this.sampler?.close();
    this.sampler = null;
  }
}

function sizeBucket(n: number): number {
  let b = 0;
  while (b < NSZ - 1 && n > SIZE_BUCKETS[b]) b++;
  return b;
}

export const DURATION_BUCKET_COUNT = NB;
export const UPSTREAM_EVENT_COUNT = NK;
export const L4_COUNTER_COUNT = NL;
export const ENDPOINT_CLASS_COUNT = NE;
export const CONN_COUNTER_COUNT = NCC;
export const TLS_FAILURE_COUNT = NTF;
export const UPSTREAM_CONN_COUNT = NUC;
