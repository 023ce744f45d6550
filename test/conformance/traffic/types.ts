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
