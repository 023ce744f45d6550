/**
 * A real OTLP/HTTP JSON trace receiver on loopback: decodes every POST to
 * /v1/traces into flat span records, and lets a test wait (bounded) until
 * the spans it expects have arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, withTimeout } from '../../proxy/helpers.ts';

export type AttrValue = string | number | boolean;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 2 = server, 3 = client. */
  kind: number;
  attributes: Record<string, AttrValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
  statusMessage: string;
  startNs: bigint;
  endNs: bigint;
  resource: Record<string, AttrValue>;
}

export const SERVER = 2;
export const CLIENT = 3;
export const ERROR = 2;

export interface Receiver {
  url: string;
  spans: ReceivedSpan[];
  /** POST requests received (with their headers). */
  posts: http.IncomingHttpHeaders[];
  /** Resolves with the spans once `pick` returns a non-empty list (bounded). */
  waitFor(what: string, pick: (spans: ReceivedSpan[]) => ReceivedSpan[], ms?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpKV {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKV[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKV[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

function value(v: OtlpValue): AttrValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue ?? '';
}

function attrs(list: OtlpKV[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

/** OTLP/JSON ids are hex; base64 (the protobuf-JSON default) is turned into hex too. */
function id(s: string | undefined): string {
  if (s === undefined || s === '') return '';
  return /^[0-9a-f]+$/.test(s) && (s.length === 32 || s.length === 16) ? s : Buffer.from(s, 'base64').toString('hex');
}

export async function startReceiver(): Promise<Receiver> {
  const spans: ReceivedSpan[] = [];
  const posts: http.IncomingHttpHeaders[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      posts.push(req.headers);
      const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpRequest;
      for (const rs of body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: id(s.traceId),
              spanId: id(s.spanId),
              parentSpanId: id(s.parentSpanId),
              name: s.name,
              kind: s.kind,
              attributes: attrs(s.attributes),
              status: s.status?.code ?? 0,
              statusMessage: s.status?.message ?? '',
              startNs: BigInt(s.startTimeUnixNano),
              endNs: BigInt(s.endTimeUnixNano),
              resource,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    posts,
    waitFor: (what, pick, ms = 10_000) => {
      let check: () => void = () => undefined;
      return withTimeout(
        new Promise<ReceivedSpan[]>((resolve) => {
          check = () => {
            const found = pick(spans);
            if (found.length > 0) {
              waiters.delete(check);
              resolve(found);
            }
          };
          waiters.add(check);
          check();
        }),
        ms,
        `spans: ${what} (have ${spans.length}: ${spans.map((s) => s.name).join(', ')})`,
      ).finally(() => waiters.delete(check));
    },
    close: () => closeServer(server),
  };
}
