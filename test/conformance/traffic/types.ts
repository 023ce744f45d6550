/**
 * The traffic check kinds as FORMAT.md, cases/http/EXTRA-KINDS.md (1-6)
 * and cases/other/TRANSPORT-KINDS.md (3.4, 3.5, 6.5) define them; only the
 * fields this runner reads.
 */

export interface GatewayRef {
  namespace: string;
  name: string;
}

export interface SecretKeyRef {
  kind: string;
  namespace: string;
  name: string;
  key?: string;
  certKey?: string;
  keyKey?: string;
}

export interface HttpRequestSpec {
  method?: string;
  host?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** `HTTP` (default), `H2C_PRIOR_KNOWLEDGE`, `H2`. */
  protocol?: string;
  sni?: string;
}

export interface HttpResponseSpec {
  statusCode?: number | number[];
  headers?: Record<string, string>;
  validHeaderValues?: Record<string, string[]>;
  ignoreWhitespace?: boolean;
  absentHeaders?: string[];
  protocol?: string;
  expectFailure?: boolean;
}

export interface ExpectedRequestSpec {
  method?: string;
  host?: string;
  path?: string;
  headers?: Record<string, string>;
  absentHeaders?: string[];
  sni?: string;
  clientCertificate?: SecretKeyRef;
  httpPort?: string;
}

export interface RedirectSpec {
  scheme?: string;
  host?: string;
  port?: string | string[];
  path?: string;
  portFromListener?: boolean;
}

interface TimingFields {
  timeoutSeconds?: number;
  pollSeconds?: number;
  consecutive?: number;
}

export interface HttpCheck extends TimingFields {
  kind: string;
  name?: string;
  gateway: GatewayRef;
  listenerPort: number;
  scheme?: string;
  request: HttpRequestSpec;
  response?: HttpResponseSpec;
  backend?: string;
  namespace?: string;
  expectedRequest?: ExpectedRequestSpec;
  redirect?: RedirectSpec;
  fromBackend?: boolean;
  perAttemptUUID?: string;
  expectConnectionFailure?: boolean;
  trust?: SecretKeyRef;
  clientCertificate?: SecretKeyRef;
  expectCertificateRequest?: boolean;
  /** timing: the per-request limit. */
  maxSeconds?: number;
}

export interface MirrorTarget {
  backend: string;
  namespace: string;
  percent?: number;
  minCount?: number;
  maxCount?: number;
}

export interface MirrorCheck extends HttpCheck {
  mirroredTo: MirrorTarget[];
  requestIdQueryParam?: string;
  requests?: number;
  concurrency?: number;
  attempts?: number;
  pauseBetweenAttemptsSeconds?: number;
}

export interface WeightsCheck extends HttpCheck {
  protocol?: string;
  requests: number;
  concurrency?: number;
  expected: Record<string, number>;
  tolerance: number;
  attempts?: number;
  entropy?: string;
  requestTimeoutSeconds?: number;
}

export interface BackendHeaderConsistencyCheck extends HttpCheck {
  requests: number;
  header: string;
}

export interface WebSocketMessage {
  text?: string;
  binaryBase64?: string;
}

export interface WebSocketCheck extends TimingFields {
  kind: 'websocket';
  gateway: GatewayRef;
  listenerPort: number;
  scheme?: string;
  request: { path: string; host?: string; origin?: string; subprotocol?: string };
  messages: WebSocketMessage[];
  comparePayloadOnly?: boolean;
}

// --- transport kinds (TRANSPORT-KINDS.md 6.1-6.4, 3.5) -------------------------

export interface GrpcRequestSpec {
  service: string;
  method: string;
  /** `:authority`; default: the dialled `address:port`. */
  authority?: string;
  metadata?: Record<string, string | string[]>;
}

export interface GrpcCheck extends TimingFields {
  kind: 'grpc';
  name?: string;
  gateway: GatewayRef;
  listenerPort: number;
  /** `h2c` (the only transport upstream uses towards the gateway). */
  transport?: string;
  request: GrpcRequestSpec;
  /** A gRPC status by name: `code` must equal it, `codeNot` must not. */
  response?: { code?: string; codeNot?: string };
  backend?: string;
  namespace?: string;
  expectedRequestMetadata?: Record<string, string | string[]>;
  metadataCheckedUpstream?: boolean;
}

export interface TcpExchangeSpec {
  /** `full`, `test` or `connect`. */
  exchange?: string;
}

export interface TcpResponseSpec {
  backendIsTLS?: boolean;
  backendServerName?: string;
}

export interface TcpCheck extends TimingFields {
  kind: 'tcp';
  name?: string;
  gateway: GatewayRef;
  listenerPort: number;
  request: TcpExchangeSpec;
  response?: TcpResponseSpec;
  backend?: string;
  namespace?: string;
  samples?: number;
  sampleTimeoutSeconds?: number;
  forbiddenBackends?: string[];
}

export interface TlsCheck extends TimingFields {
  kind: 'tls';
  name?: string;
  gateway: GatewayRef;
  listenerPort: number;
  tlsMode?: string;
  request: TcpExchangeSpec & {
    sni?: string;
    /** A Secret/ConfigMap key, or `"system"` for the platform's roots. */
    trust?: SecretKeyRef | 'system';
    /** `TLS1.2` or `TLS1.3`. */
    minVersion?: string;
    /** `tcp-echo`; absent: only the handshake. */
    payload?: string;
  };
  response?: TcpResponseSpec & { rejected?: boolean };
  backend?: string;
  namespace?: string;
}

export interface UdpCheck extends TimingFields {
  kind: 'udp';
  name?: string;
  gateway: GatewayRef;
  listenerPort: number;
  request: { payload?: string; dnsQuery?: { name: string; type?: string } };
  response?: { dnsResponse?: boolean };
  service?: string;
  namespace?: string;
  backend?: string;
  probeTimeoutSeconds?: number;
  samples?: number;
}

/** `weights` with `protocol` grpc, tcp or udp: the request of that kind. */
export interface TransportWeightsCheck extends TimingFields {
  kind: 'weights';
  protocol: string;
  gateway: GatewayRef;
  listenerPort: number;
  transport?: string;
  request: Partial<GrpcRequestSpec> & TcpExchangeSpec & { payload?: string };
  requests: number;
  concurrency?: number;
  expected: Record<string, number>;
  tolerance: number;
  attempts?: number;
  entropy?: string;
  requestTimeoutSeconds?: number;
}
