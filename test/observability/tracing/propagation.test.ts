/** Trace context headers in and out: W3C first, B3 single and multi, replacement of the caller's headers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { B3Form, extract, inject } from '../../../src/observability/tracing/propagation.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const CHILD = 'b7ad6b7169203331';

test('no context headers: nothing to extract', () => {
  assert.equal(extract(['Host', 'a', 'User-Agent', 'x']), null);
});

test('W3C traceparent and tracestate (repeated fields joined), any header case', () => {
  const ex = extract(['TraceParent', `00-${TRACE}-${SPAN}-01`, 'tracestate', 'a=1', 'TRACESTATE', 'b=2'])!;
  assert.deepEqual(
    [ex.parent?.traceId, ex.parent?.spanId, ex.parent?.traceFlags, ex.b3, ex.deferred],
    [TRACE, SPAN, TraceFlags.SAMPLED, B3Form.None, false],
  );
  assert.equal(ex.parent?.traceState?.serialize(), 'a=1,b=2');
});

test('W3C wins over B3 when both come', () => {
  const ex = extract(['b3', `${'1'.repeat(32)}-${CHILD}-1`, 'traceparent', `00-${TRACE}-${SPAN}-00`])!;
  assert.deepEqual([ex.parent?.traceId, ex.parent?.traceFlags, ex.b3], [TRACE, TraceFlags.NONE, B3Form.None]);
});

test('a malformed traceparent is no parent', () => {
  const ex = extract(['traceparent', 'garbage'])!;
  assert.equal(ex.parent, null);
});

test('B3 single: sampled, unsampled, deferred, debug and deny', () => {
  const sampled = extract(['b3', `${TRACE}-${SPAN}-1`])!;
  assert.deepEqual(
    [sampled.parent?.traceId, sampled.parent?.spanId, sampled.parent?.traceFlags, sampled.b3, sampled.deferred],
    [TRACE, SPAN, TraceFlags.SAMPLED, B3Form.Single, false],
  );
  assert.equal(extract(['b3', `${TRACE}-${SPAN}-0`])!.parent?.traceFlags, TraceFlags.NONE);
  assert.equal(extract(['b3', `${TRACE}-${SPAN}`])!.deferred, true);
  assert.equal(extract(['b3', `${TRACE}-${SPAN}-d`])!.parent?.traceFlags, TraceFlags.SAMPLED);
  const deny = extract(['b3', '0'])!;
  assert.deepEqual([deny.parent, deny.deny], [null, true]);
});

test('B3 multi: 64-bit trace ids are padded; no sampled header = deferred', () => {
  const ex = extract(['X-B3-TraceId', 'a'.repeat(16), 'X-B3-SpanId', SPAN, 'X-B3-Sampled', '1'])!;
  assert.deepEqual(
    [ex.parent?.traceId, ex.parent?.traceFlags, ex.b3, ex.deferred],
    ['0'.repeat(16) + 'a'.repeat(16), TraceFlags.SAMPLED, B3Form.Multi, false],
  );
  assert.equal(extract(['x-b3-traceid', TRACE, 'x-b3-spanid', SPAN])!.deferred, true);
  assert.equal(
    extract(['x-b3-traceid', TRACE, 'x-b3-spanid', SPAN, 'x-b3-flags', '1'])!.parent?.traceFlags,
    TraceFlags.SAMPLED,
  );
});

test("inject replaces the caller's context headers, keeps the rest in order, host first", () => {
  const ex = extract(['b3', `${TRACE}-${SPAN}-1`])!;
  const child = trace.setSpanContext(ex.context, { traceId: TRACE, spanId: CHILD, traceFlags: TraceFlags.SAMPLED });
  const headers = [
    'host',
    'example.com',
    'B3',
    `${TRACE}-${SPAN}-1`,
    'x-a',
    '1',
    'traceparent',
    'stale',
    'x-b3-parentspanid',
    SPAN,
    'x-b',
    '2',
  ];
  assert.deepEqual(inject(headers, child, B3Form.Single), [
    'host',
    'example.com',
    'x-a',
    '1',
    'x-b',
    '2',
    'traceparent',
    `00-${TRACE}-${CHILD}-01`,
    'b3',
    `${TRACE}-${CHILD}-1`,
  ]);
  assert.deepEqual(inject(['host', 'h'], child, B3Form.Multi), [
    'host',
    'h',
    'traceparent',
    `00-${TRACE}-${CHILD}-01`,
    'x-b3-traceid',
    TRACE,
    'x-b3-spanid',
    CHILD,
    'x-b3-sampled',
    '1',
  ]);
});

test('inject carries tracestate on', () => {
  const ex = extract(['traceparent', `00-${TRACE}-${SPAN}-01`, 'tracestate', 'v=1'])!;
  const child = trace.setSpanContext(ROOT_CONTEXT, { ...ex.parent!, spanId: CHILD, isRemote: false });
  assert.deepEqual(inject(['host', 'h', 'tracestate', 'v=1'], child, B3Form.None), [
    'host',
    'h',
    'traceparent',
    `00-${TRACE}-${CHILD}-01`,
    'tracestate',
    'v=1',
  ]);
});
