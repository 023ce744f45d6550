/**
 * The spans of one sampled request: the server span, from arrival to the
 * end of the response, and one client span per upstream attempt (retries
 * show as siblings, numbered by `sluice.attempt`). Each attempt's context
 * goes upstream in its headers. Requests that are not sampled have no
 * RequestTrace at all.
 *
 * Every start and end time is given from one clock (the time origin plus
 * performance.now()): the SDK's own defaults mix Date.now() in, which puts
 * a child up to a millisecond outside its parent.
 */
import {
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer as SdkTracer,
} from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { responseFlagsText } from '../access-log.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SLUICE_ATTEMPT,
  ATTR_SLUICE_BACKEND,
  ATTR_SLUICE_RESPONSE_FLAGS,
  ATTR_SLUICE_ROUTE,
  ATTR_UPSTREAM_CLUSTER,
} from './attributes.ts';
import { inject, type B3Form } from './propagation.ts';

/** What the spans read from a request (RequestContext has it). */
export interface TracedRequest {
  readonly method: string;
  /** Request headers as received. */
  readonly rawHeaders: readonly string[];
  /** Headers of the upstream request: the attempt's context is written here. */
  headers: string[];
  readonly path: string;
  /** Host for matching (lower case, no port). */
  readonly host: string;
  /** performance.now() at arrival. */
  readonly startMs: number;
  /** Status sent downstream, 0 = none. */
  readonly status: number;
  /** Attempts started so far (the current one included). */
  readonly attempts: number;
  /** Envoy response flags (access-log.ts ResponseFlag). */
  readonly responseFlags: number;
  readonly listener: { readonly scheme: string };
  readonly socket: { readonly remoteAddress?: string; readonly remotePort?: number };
  readonly route: { readonly name: string } | null;
  readonly backend: { readonly name: string } | null;
  /** The endpoint of the current attempt: `address` is `ip:port` (or a socket path), `hostname` the endpoint's name. */
  readonly target: { readonly address: string; readonly hostname: string } | null;
  /** `HTTP/1.1`, `HTTP/2`... */
  protocol(): string | null;
}

export class RequestTrace {
  private serverContext: Context | null = null;
  private client: Span | null = null;
  /** Status of the current attempt's response, 0 = none yet. */
  private clientStatus = 0;

  constructor(
    private readonly tracer: SdkTracer,
    private readonly server: Span,
    /** The caller's context (remote parent, B3 debug flag) and the sampler. */
    private readonly context: Context,
    private readonly b3: B3Form,
    private readonly clientName: string | null,
  ) {}

  /** A new attempt of `req` (target and attempt count set): its client span, and its context in the upstream headers. */
  startAttempt(req: TracedRequest): void {
    this.endAttempt(req);
    const target = req.target;
    const backend = req.backend?.name ?? '';
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_SLUICE_ATTEMPT]: req.attempts,
      [ATTR_SLUICE_ROUTE]: req.route?.name ?? '',
      [ATTR_SLUICE_BACKEND]: backend,
      [ATTR_UPSTREAM_CLUSTER]: backend,
    };
    if (req.attempts > 1) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = req.attempts - 1;
    if (target !== null) {
      const colon = target.address.lastIndexOf(':');
      const port = colon === -1 ? NaN : Number(target.address.slice(colon + 1));
      if (Number.isInteger(port)) {
        let ip = target.address.slice(0, colon);
        if (ip.charCodeAt(0) === 91 /* [ */) ip = ip.slice(1, -1);
        attributes[ATTR_NETWORK_PEER_ADDRESS] = ip;
        attributes[ATTR_NETWORK_PEER_PORT] = port;
        attributes[ATTR_SERVER_PORT] = port;
      } else {
        attributes[ATTR_NETWORK_PEER_ADDRESS] = target.address;
      }
      attributes[ATTR_SERVER_ADDRESS] = target.hostname;
    }
    this.serverContext ??= trace.setSpan(this.context, this.server);
    const span = this.tracer.startSpan(
      this.clientName ?? `${req.method} ${backend}`,
      { kind: SpanKind.CLIENT, attributes, startTime: hrTime() },
      this.serverContext,
    );
    this.client = span;
    req.headers = inject(req.headers, trace.setSpan(this.context, span), this.b3);
  }

  /** The current attempt's response status (before it is relayed or retried). */
  attemptStatus(status: number): void {
    this.clientStatus = status;
  }

  /** The current attempt failed without a response it could relay (`reason`: connect_failure, timeout...). */
  attemptFailed(reason: string): void {
    const span = this.client;
    if (span === null) return;
    this.client = null;
    if (this.clientStatus !== 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, this.clientStatus);
    span.setAttribute(ATTR_ERROR_TYPE, reason);
    span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    span.end(hrTime());
    this.clientStatus = 0;
  }

  /** Ends the current attempt's span with what is known of it. */
  endAttempt(req: TracedRequest): void {
    const span = this.client;
    if (span === null) return;
    this.client = null;
    let status = this.clientStatus;
    this.clientStatus = 0;
    if (status === 0) {
      // No response seen: the request ended meanwhile (timeout, client gone), or it was upgraded (101).
      if (req.responseFlags !== 0 || req.status === 0) {
        const reason = responseFlagsText(req.responseFlags) ?? 'cancelled';
        span.setAttribute(ATTR_ERROR_TYPE, reason);
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        span.end(hrTime());
        return;
      }
      status = req.status;
    }
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(hrTime());
  }

  /** The request is over: the last attempt's span, then the server span. */
  end(req: TracedRequest): void {
    this.endAttempt(req);
    const span = this.server;
    const status = req.status;
    const backend = req.backend;
    if (backend !== null) {
      span.setAttribute(ATTR_SLUICE_BACKEND, backend.name);
      span.setAttribute(ATTR_UPSTREAM_CLUSTER, backend.name);
    }
    const flags = responseFlagsText(req.responseFlags);
    if (flags !== null) span.setAttribute(ATTR_SLUICE_RESPONSE_FLAGS, flags);
    if (status !== 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500 || status === 0) {
      const reason = status === 0 ? (flags ?? 'cancelled') : String(status);
      span.setAttribute(ATTR_ERROR_TYPE, reason);
      span.setStatus({ code: SpanStatusCode.ERROR, message: status === 0 ? reason : undefined });
    }
    span.end(hrTime());
  }
}
