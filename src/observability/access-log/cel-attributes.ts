/**
 * The values EnvoyProxy access-log `matches` (CEL) read: Envoy's attribute
 * names over a finished request or session, built only for Gateways whose
 * settings have matches.
 */
import type { AccessLogEntry } from './entry.ts';
import { withoutPort } from './format.ts';

/** Values CEL matches read: Envoy's attribute names (`request.headers['x']`, `response.code`). */
export type CelAttributes = Record<string, unknown>;
/** A compiled `matches` list: true when one expression is true (access-log/matches.ts). */
export type LineMatch = (attributes: CelAttributes) => boolean;

/** Envoy's attribute names over a finished request or session (numbers as CEL ints). */
export function celAttributes(e: AccessLogEntry, now: number, session: boolean): CelAttributes {
  const headers = new Map<string, string>();
  const raw = e.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? raw[i + 1] : `${prev},${raw[i + 1]}`);
  }
  const remote = e.downstreamRemoteAddress();
  const local = e.downstreamLocalAddress();
  const query = e.url.length > e.path.length ? e.url.slice(e.path.length) : '';
  return {
    request: session
      ? { headers, size: BigInt(e.requestBytes), duration: durationOf(now - e.startMs) }
      : {
          method: e.method,
          path: e.url,
          url_path: e.path,
          query: query.startsWith('?') ? query.slice(1) : query,
          host: e.host,
          scheme: e.requestHeader('x-forwarded-proto') ?? 'http',
          protocol: e.protocol() ?? '',
          headers,
          id: e.requestHeader('x-request-id') ?? '',
          useragent: e.requestHeader('user-agent') ?? '',
          referer: e.requestHeader('referer') ?? '',
          size: BigInt(e.requestBytes),
          duration: durationOf(now - e.startMs),
        },
    response: {
      code: BigInt(e.status),
      flags: BigInt(e.responseFlags),
      size: BigInt(e.responseBytes),
    },
    source: { address: addressOf(remote), port: portOf(remote) },
    destination: { address: addressOf(local), port: portOf(local) },
    upstream: { address: e.upstreamHost() ?? '' },
    xds: { route_name: e.routeName() ?? '', cluster_name: e.upstreamCluster() ?? '' },
    connection: { mtls: false },
  };
}

/** CEL has no duration literal short of `duration('1s')`; seconds as a double compare naturally. */
function durationOf(ms: number): number {
  return ms / 1000;
}

function addressOf(a: string): string {
  return withoutPort(a);
}

function portOf(a: string): bigint {
  const i = a.lastIndexOf(':');
  const n = i === -1 ? 0 : Number(a.slice(i + 1));
  return BigInt(Number.isInteger(n) ? n : 0);
}
