/**
 * Check variants this runner has no client for. The suite's cases use none
 * of them (every kind and variant of FORMAT.md, EXTRA-KINDS.md and
 * TRANSPORT-KINDS.md 6 runs); a case that did would be reported as
 * `SKIP <case>: needs: <what>`, decided from its checks alone (never from
 * its name), with every other check of the case left alone too, since a
 * case passes only when all of its checks ran.
 */
import type { Check } from '../case-types.ts';

const HTTP_KINDS = new Set(['http', 'timing', 'mirror', 'backendHeaderConsistency']);
const PROTOCOLS = new Set(['HTTP', 'H2C_PRIOR_KNOWLEDGE', 'H2']);

/** A field value as text for a reason (JSON for anything but a string). */
function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function httpNeed(c: Record<string, unknown>): string | undefined {
  const scheme = typeof c.scheme === 'string' ? c.scheme : 'http';
  if (scheme !== 'http' && scheme !== 'https') return `scheme ${scheme}`;
  const protocol = rec(c.request).protocol;
  if (protocol === undefined) return undefined;
  if (typeof protocol !== 'string' || !PROTOCOLS.has(protocol)) return `request.protocol ${text(protocol)}`;
  if (protocol === 'H2' && scheme !== 'https') return 'request.protocol H2 over cleartext';
  return undefined;
}

function grpcNeed(c: Record<string, unknown>): string | undefined {
  const transport = c.transport ?? 'h2c';
  return transport === 'h2c' ? undefined : `gRPC transport ${text(transport)}`;
}

/** The first check variant the runner cannot exercise, or undefined. */
export function missingFeature(checks: Check[]): string | undefined {
  for (const check of checks) {
    const c = check as Record<string, unknown>;
    const req = rec(c.request);
    let need: string | undefined;
    switch (check.kind) {
      case 'websocket':
        need = (c.scheme ?? 'ws') === 'ws' ? undefined : `WebSocket scheme ${text(c.scheme)}`;
        break;
      case 'weights': {
        const protocol = c.protocol ?? 'http';
        if (protocol === 'http') need = httpNeed(c);
        else if (protocol === 'grpc') need = grpcNeed(c);
        else if (protocol !== 'tcp' && protocol !== 'udp') need = `weights over ${text(protocol)}`;
        break;
      }
      case 'grpc':
        need = grpcNeed(c);
        break;
      case 'tls':
        if (req.payload !== undefined && req.payload !== 'tcp-echo') need = `TLS payload ${text(req.payload)}`;
        break;
      case 'udp': {
        const q = rec(req.dnsQuery);
        if (req.dnsQuery !== undefined && (q.type ?? 'A') !== 'A') need = `DNS query type ${text(q.type)}`;
        break;
      }
      default:
        if (HTTP_KINDS.has(check.kind)) need = httpNeed(c);
    }
    if (need) return need;
  }
  return undefined;
}
