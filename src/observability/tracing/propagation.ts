/**
 * Trace context in and out of the flat `[name, value, ...]` header lists the
 * proxy works with. In: W3C `traceparent`/`tracestate` first, else B3 (the
 * single `b3` header or the `x-b3-*` set). Out: W3C always (Envoy's
 * OpenTelemetry tracer speaks W3C), plus B3 in the form it arrived in when
 * the request came with B3, so that B3-only services behind the gateway keep
 * their traces. The client's own context headers are replaced, never
 * forwarded next to the gateway's.
 */
import {
  ROOT_CONTEXT,
  TraceFlags,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';

/** How the request carried B3, which is how it goes on upstream. */
export const B3Form = { None: 0, Single: 1, Multi: 2 } as const;
export type B3Form = (typeof B3Form)[keyof typeof B3Form];

/** The trace context a request came with. */
export interface Extracted {
  /** ROOT_CONTEXT with the remote span context (and B3's debug flag) set. */
  readonly context: Context;
  /** The caller's span; null when the headers carried none that is valid. */
  readonly parent: SpanContext | null;
  readonly b3: B3Form;
  /** B3 with ids but no sampling decision: the gateway decides, as for a new trace, and keeps the ids. */
  readonly deferred: boolean;
  /** `b3: 0`: the caller asked for no trace. */
  readonly deny: boolean;
}

const w3c = new W3CTraceContextPropagator();
const b3Single = new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
const b3Multi = new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });

/** Lower-case names of every header the gateway reads and replaces. */
const NAMES = new Set([
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
]);
/** 1 at the lengths of those names, so most headers are never lower-cased. */
const LENGTHS = new Uint8Array(32);
for (const n of NAMES) LENGTHS[n.length] = 1;

function isContextHeader(name: string): boolean {
  return LENGTHS[name.length] === 1 && NAMES.has(name.toLowerCase());
}

/** Reads the context headers of a request in one pass; null when it carries none. */
export function extract(raw: readonly string[]): Extracted | null {
  let carrier: Record<string, string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (!isContextHeader(name)) continue;
    carrier ??= {};
    const key = name.toLowerCase();
    // A repeated tracestate is one list (W3C §3.3.1.1); for the rest the first one counts.
    if (carrier[key] === undefined) carrier[key] = raw[i + 1];
    else if (key === 'tracestate') carrier[key] += `,${raw[i + 1]}`;
  }
  if (carrier === null) return null;
  let context = w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  let b3: B3Form = B3Form.None;
  let deferred = false;
  if (trace.getSpanContext(context) === undefined) {
    const single = carrier['b3'];
    if (single !== undefined) {
      b3 = B3Form.Single;
      // `{traceid}-{spanid}` without a third field leaves the decision to us.
      deferred = single.split('-').length === 2;
    } else if (carrier['x-b3-traceid'] !== undefined) {
      b3 = B3Form.Multi;
      deferred = carrier['x-b3-sampled'] === undefined && carrier['x-b3-flags'] === undefined;
    }
    if (b3 !== B3Form.None)
      context = (b3 === B3Form.Single ? b3Single : b3Multi).extract(context, carrier, defaultTextMapGetter);
  }
  const parent = trace.getSpanContext(context) ?? null;
  return {
    context,
    parent,
    b3: parent === null ? B3Form.None : b3,
    deferred: parent !== null && deferred,
    deny: parent === null && carrier['b3'] === '0',
  };
}

/** True when the caller's span was sampled (the trace is recorded upstream of us). */
export function parentSampled(parent: SpanContext): boolean {
  return (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * The upstream headers with the request's own context headers replaced by
 * `context`'s span (the attempt's client span): a new list, same order,
 * host first as before.
 */
export function inject(headers: readonly string[], context: Context, b3: B3Form): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (i !== 0 && isContextHeader(headers[i])) continue;
    out.push(headers[i], headers[i + 1]);
  }
  const carrier: Record<string, string> = {};
  w3c.inject(context, carrier, defaultTextMapSetter);
  if (b3 === B3Form.Single) b3Single.inject(context, carrier, defaultTextMapSetter);
  else if (b3 === B3Form.Multi) b3Multi.inject(context, carrier, defaultTextMapSetter);
  for (const name in carrier) out.push(name, carrier[name]);
  return out;
}
