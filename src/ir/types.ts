/**
 * The intermediate representation: what the data plane serves.
 *
 * Plain, serialisable data (it crosses IPC to the workers and is printed by
 * `sluice translate`). Every reference is resolved and every decision about
 * validity is already made: the data plane never looks at a Kubernetes
 * resource and never re-checks the spec. Shape inspired by Envoy Gateway's
 * `internal/ir` (listeners own their routes; one route entry per
 * rule × match × hostname, already ordered by the spec's precedence).
 */

export interface IR {
  gateways: GatewayIR[];
}

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface GatewayIR {
  namespace: string;
  name: string;
  /** Addresses this Gateway binds to (its `status.addresses`). */
  addresses: string[];
  listeners: ListenerIR[];
  /**
   * Envoy Gateway `EnvoyProxy` `spec.telemetry` of this Gateway: the
   * EnvoyProxy named by the Gateway's `spec.infrastructure.parametersRef`,
   * else by its GatewayClass's `spec.parametersRef`. Absent: no EnvoyProxy
   * (the command line's defaults apply: access log on stdout, Prometheus on,
   * no tracing).
   */
  telemetry?: TelemetryIR;
}

/** EnvoyProxy `spec.telemetry`, resolved. Each part left out = that part's default. */
export interface TelemetryIR {
  /** `<namespace>/<name>` of the EnvoyProxy it came from. */
  source: string;
  accessLog?: AccessLogIR;
  metrics?: MetricsTelemetryIR;
  tracing?: TracingIR;
}

/** Where OTLP data is sent: a `host`/`port`, or the first endpoint of a resolved backendRef. */
export interface OtlpEndpointIR {
  /** `http://host:port`; OTLP/HTTP appends the signal's path (`/v1/traces`...), gRPC uses host and port only. */
  url: string;
  /**
   * The OTLP transport. The translator always sets it: `grpc` (what Envoy
   * Gateway's Envoy speaks, port 4317) unless the endpoint says OTLP/HTTP -
   * port 4318, or a Service port whose appProtocol is `http`. Absent (an IR
   * written by hand) = `http`.
   */
  protocol?: 'grpc' | 'http';
  /** Extra request headers (EnvoyProxy `openTelemetry.headers`); gRPC metadata over gRPC. */
  headers?: Array<{ name: string; value: string }>;
  /** OTLP resource attributes (`resources` / `resourceAttributes`). */
  resourceAttributes?: Record<string, string>;
}

export interface AccessLogIR {
  /** `accessLog.disable`: no access log at all for this Gateway. */
  disabled: boolean;
  /** Empty (and not disabled) = Envoy Gateway's default: text format on stdout. */
  settings: AccessLogSettingIR[];
}

export interface AccessLogSettingIR {
  /** Text: an Envoy format string (absent = Envoy's default line). JSON: field name → operator string (absent = EG's default fields). */
  format: { type: 'Text'; text?: string } | { type: 'JSON'; json?: Record<string, string> };
  /** CEL expressions over Envoy's attributes (`request.headers['x'] == 'y'`, `response.code >= 400`); a line is written when any is true. Empty = every line. */
  matches: string[];
  /** `Listener` (HTTP requests and TCP/UDP sessions, the default), `Route` (HTTP requests only), `Upstream` (per upstream attempt; served as Route). */
  type?: 'Listener' | 'Route' | 'Upstream';
  sinks: AccessLogSinkIR[];
}

export type AccessLogSinkIR =
  /** `path` `/dev/stdout` = the process's stdout. */
  { type: 'File'; path: string } | { type: 'OpenTelemetry'; endpoint: OtlpEndpointIR };

export interface MetricsTelemetryIR {
  /** `prometheus.disable`: this Gateway's series are left out of `GET /metrics`. */
  prometheusDisabled: boolean;
  /** Series per upstream endpoint (address:port) as well as per backend. */
  enablePerEndpointStats: boolean;
  /** Series per virtual host (the listener hostname a request matched). */
  enableVirtualHostStats: boolean;
  /** Request/response size histograms. */
  enableRequestResponseSizesStats: boolean;
  /** OTLP metric sinks: the Gateway's series are pushed there periodically. */
  sinks: OtlpEndpointIR[];
}

export interface TracingIR {
  /** 0..100 (`samplingRate`, or `samplingFraction` as a percentage); default 100. */
  samplingPercent: number;
  provider: {
    /** Zipkin and Datadog are refused by the translator (EnvoyProxy Accepted=False on the Gateway) - only OpenTelemetry is served. */
    type: 'OpenTelemetry';
    endpoint: OtlpEndpointIR;
    /** `service.name` of the spans; default `<gateway name>.<gateway namespace>`, as Envoy Gateway documents it. */
    serviceName: string;
  };
  /** Span attributes added to every server span (`customTags` / `tags`). */
  tags: Record<string, TracingTagIR>;
}

export type TracingTagIR =
  | { type: 'Literal'; value: string }
  | { type: 'Environment'; name: string; defaultValue?: string }
  | { type: 'RequestHeader'; name: string; defaultValue?: string };

/** BackendTrafficPolicy `telemetry.tracing` on a route or Gateway: overrides the EnvoyProxy's sampling and tags. */
export interface RouteTracingIR {
  samplingPercent?: number;
  tags?: Record<string, TracingTagIR>;
  /** Envoy's span name overrides (server / client). */
  spanName?: { server: string; client: string };
}

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

export interface ListenerIR {
  /** `<gateway ns>/<gateway name>/<listener name>`; unique in the IR. */
  name: string;
  /** The section name as written in the Gateway (or ListenerSet). */
  sectionName: string;
  /** Set when the listener comes from a ListenerSet. */
  listenerSet?: { namespace: string; name: string };
  port: number;
  protocol: ListenerProtocol;
  /** The listener's hostname (exact or `*.suffix`); absent = any host. */
  hostname?: string;
  tls?: ListenerTLSIR;
  /** HTTP/HTTPS listeners: virtual hosts, exact hostnames first, then wildcards longest first, then `*`. */
  virtualHosts?: VirtualHostIR[];
  /** TLS listeners: routes by SNI. */
  tlsRoutes?: TLSRouteIR[];
  /** TCP listeners (and TLS-terminating listeners with TCPRoutes). */
  tcpRoutes?: L4RouteIR[];
  /** UDP listeners. */
  udpRoutes?: L4RouteIR[];
  /**
   * Clients must open each connection with a PROXY protocol header (v1 or
   * v2); the addresses it carries replace the socket's (X-Forwarded-For,
   * access logs, the header sent on to backends). Envoy Gateway
   * ClientTrafficPolicy `enableProxyProtocol` / `proxyProtocol`; honoured
   * on HTTP, HTTPS (before TLS), TCP and TLS listeners. Listeners sharing a
   * port share the decision: one requiring the header makes it required.
   */
  enableProxyProtocol?: boolean;
  /**
   * ClientTrafficPolicy `proxyProtocol.optional`: connections that do not
   * start with a PROXY header (told by their first bytes) are served too,
   * with the socket's addresses.
   */
  proxyProtocolOptional?: boolean;
}

export interface CertificateIR {
  /** `<namespace>/<name>` of the Secret it came from. */
  secret: string;
  certPem: string;
  keyPem: string;
}

export interface ListenerTLSIR {
  mode: 'Terminate' | 'Passthrough';
  certificates: CertificateIR[];
  /** Client certificate validation (Gateway spec.tls.frontend, or ClientTrafficPolicy tls.clientValidation). */
  clientValidation?: ClientValidationIR;
  options?: Record<string, string>;
  /**
   * Downstream TLS parameters (what ClientTrafficPolicy `tls` sets); every
   * field left out keeps the data plane's default. Applied per listener,
   * also on a port shared with other listeners: the data plane reads the
   * SNI before the handshake and runs it with that listener's settings.
   */
  settings?: TLSSettingsIR;
}

export interface ClientValidationIR {
  caPems: string[];
  /**
   * The Gateway API's modes: only verified certificates, or any client
   * (valid certificate or none). Without `verification`, what the data
   * plane enforces.
   */
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
  /**
   * ClientTrafficPolicy only, enforced in place of `mode` (which holds the
   * nearest Gateway API mode): RequireAndVerify, VerifyIfGiven (no
   * certificate is fine, an invalid one is refused), RequireAny (a
   * certificate, not verified) or Request (any client).
   */
  verification?: 'RequireAndVerify' | 'VerifyIfGiven' | 'RequireAny' | 'Request';
  /**
   * ClientTrafficPolicy matchers on the verified certificate (any one must
   * match). Checked in the verifying modes (RequireAndVerify, VerifyIfGiven)
   * when a certificate is presented, as Envoy does.
   */
  subjectAltNames?: SubjectAltNameMatchIR[];
  /** Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (any one). */
  spkiHashes?: string[];
  /** Hex SHA-256 of the DER certificate (any one; colons and case ignored). */
  certificateHashes?: string[];
  /** Accept a certificate whose only fault is its notAfter (chain, signatures and the rest still checked). */
  allowExpiredCertificate?: boolean;
}

export interface SubjectAltNameMatchIR {
  type: 'DNS' | 'Email' | 'IPAddress' | 'URI' | 'OtherName';
  /** OtherName only: the OID of the name. */
  oid?: string;
  match: 'Exact' | 'Prefix' | 'Suffix' | 'RegularExpression';
  value: string;
}

export type TLSVersionIR = 'Auto' | '1.0' | '1.1' | '1.2' | '1.3';

export interface TLSSettingsIR {
  /** Default 1.2. */
  minVersion?: TLSVersionIR;
  /** Default 1.3. */
  maxVersion?: TLSVersionIR;
  /** OpenSSL names (TLS 1.2) and TLS 1.3 suite names; default AEAD only. */
  ciphers?: string[];
  /** Key exchange groups (e.g. `X25519`, `P-256`); default OpenSSL's. */
  ecdhCurves?: string[];
  /** Signature algorithms (OpenSSL sigalgs names); default OpenSSL's. */
  signatureAlgorithms?: string[];
  /** ALPN protocols offered, in preference order (`h2`, `http/1.1`); default both, h2 first. */
  alpnProtocols?: string[];
  session?: {
    /** `Stateless` (tickets, the default) or `None`; `Stateful` is served as `Stateless` (reported). */
    resumption?: 'Stateless' | 'Stateful' | 'None';
    /** Ticket lifetime hint; default 300 s. */
    ticketLifetimeSeconds?: number;
  };
}

export interface VirtualHostIR {
  /** `*` (any), `example.com`, or `*.example.com`. */
  hostname: string;
  routes: HTTPRouteIR[];
}

export type StringMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';

export interface PathMatchIR {
  type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value: string;
}

export interface HeaderMatchIR {
  name: string;
  type: 'Exact' | 'RegularExpression';
  value: string;
}

export interface HeaderModifierIR {
  set?: Array<{ name: string; value: string }>;
  add?: Array<{ name: string; value: string }>;
  remove?: string[];
}

export interface RedirectIR {
  scheme?: string;
  hostname?: string;
  port?: number;
  path?: { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; value: string };
  statusCode: number;
}

export interface URLRewriteIR {
  hostname?: string;
  path?:
    | { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; value: string }
    | { type: 'RegexReplace'; pattern: string; substitution: string };
  /** Envoy Gateway HTTPRouteFilter: take the host from a request header. */
  hostFromHeader?: string;
  /** Envoy Gateway HTTPRouteFilter: use the selected backend's host. */
  hostFromBackend?: boolean;
}

export interface MirrorIR {
  backend: BackendIR;
  /** 0..100, fractional allowed. */
  percent: number;
}

export interface CORSIR {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAge?: number;
  allowCredentials: boolean;
}

export interface DirectResponseIR {
  statusCode: number;
  body?: string;
  contentType?: string;
}

/** Filters in the order the data plane runs them. */
export type FilterIR =
  | { type: 'RequestHeaderModifier'; modifier: HeaderModifierIR }
  | { type: 'ResponseHeaderModifier'; modifier: HeaderModifierIR }
  | { type: 'RequestRedirect'; redirect: RedirectIR }
  | { type: 'URLRewrite'; rewrite: URLRewriteIR }
  | { type: 'RequestMirror'; mirror: MirrorIR }
  | { type: 'CORS'; cors: CORSIR }
  | { type: 'DirectResponse'; response: DirectResponseIR };

export interface HTTPRouteIR {
  /** `httproute/<ns>/<name>/rule/<i>/match/<j>/<hostname>`; unique within a listener. */
  name: string;
  route: ObjectRef;
  ruleIndex: number;
  ruleName?: string;
  matchIndex: number;
  /** The intersected hostname this entry serves (same as its virtual host). */
  hostname: string;
  path: PathMatchIR;
  headers: HeaderMatchIR[];
  queryParams: Array<{ name: string; type: 'Exact' | 'RegularExpression'; value: string }>;
  method?: string;
  /** True for GRPCRoute entries (gRPC status mapping, UNIMPLEMENTED on no match). */
  grpc?: boolean;
  filters: FilterIR[];
  backends: WeightedBackendIR[];
  /** Answer without contacting a backend (e.g. 500 when every backendRef is invalid). */
  directResponse?: DirectResponseIR;
  timeouts?: { requestMs?: number; backendRequestMs?: number };
  retry?: { codes: number[]; attempts: number; backoffMs?: number };
  sessionPersistence?: Record<string, unknown>;
  /** BackendTrafficPolicy `telemetry.tracing` (route, else Gateway target). */
  tracing?: RouteTracingIR;
}

export type AppProtocol = 'http' | 'h2c' | 'ws' | 'grpc' | 'tls' | 'tcp' | 'udp';

export interface EndpointIR {
  /** IP address, hostname (FQDN backends, resolved by the data plane) or unix socket path. */
  address: string;
  port: number;
  kind: 'ip' | 'fqdn' | 'unix';
}

export interface BackendTLSIR {
  sni: string;
  caPems: string[];
  /** Use the system trust store (WellKnownCACertificates: System). */
  systemCAs: boolean;
  subjectAltNames: Array<{ type: 'Hostname' | 'URI'; value: string }>;
  clientCertificate?: CertificateIR;
  options?: Record<string, string>;
  /**
   * Envoy Gateway Backend `tls.insecureSkipVerify`: accept any server
   * certificate (no chain or name check; SNI and client certificate are
   * still sent).
   */
  insecureSkipVerify?: boolean;
}

export interface BackendIR {
  /** `Service/<ns>/<name>:<port>` or `Backend/<ns>/<name>`; stable, used in metrics. */
  name: string;
  ref: ObjectRef & { port?: number };
  protocol: AppProtocol;
  endpoints: EndpointIR[];
  tls?: BackendTLSIR;
  /**
   * Send a PROXY protocol header with the client's addresses first on each
   * upstream connection (Envoy Gateway BackendTrafficPolicy `proxyProtocol`,
   * set on the backends of every route kind). The data plane honours it on
   * TCP and TLS routes so far.
   */
  proxyProtocol?: { version: 'V1' | 'V2' };
}

export interface WeightedBackendIR extends BackendIR {
  weight: number;
  /** Per-backendRef filters (HTTPRoute backendRefs[].filters). */
  filters: FilterIR[];
  /** The ref is invalid: requests picked for it answer 500 (spec: weight stays counted). */
  invalid?: boolean;
}

export interface TLSRouteIR {
  name: string;
  route: ObjectRef;
  /** SNI hostnames (exact or `*.suffix`); `*` = any. */
  hostnames: string[];
  backends: WeightedBackendIR[];
}

export interface L4RouteIR {
  name: string;
  route: ObjectRef;
  backends: WeightedBackendIR[];
}
