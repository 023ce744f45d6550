/**
 * Hostname matching and Listener/Route hostname intersection, as the
 * Gateway API defines them (HTTPRouteSpec.hostnames, GRPCRouteSpec.hostnames,
 * TLSRouteSpec.hostnames): a leading `*.` label is a suffix match that needs
 * at least one more label (`*.example.com` matches `a.example.com` and
 * `a.b.example.com`, never `example.com`). `*` stands for "any host" (a
 * listener or route without hostnames).
 */

export const ANY_HOST = '*';

export function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/** Does `pattern` (exact, `*.suffix` or `*`) match the concrete or wildcard `host`? */
export function hostnameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === ANY_HOST) return true;
  if (!isWildcard(p)) return p === h;
  // `*.example.com` covers `a.example.com` and also the narrower `*.a.example.com`.
  const suffix = p.slice(1); // `.example.com`
  const hostRest = isWildcard(h) ? h.slice(1) : h;
  return hostRest.length > suffix.length && hostRest.endsWith(suffix);
}

/**
 * The hostnames a route serves on a listener. An empty result means the
 * route and the listener share no hostname (Accepted=False
 * NoMatchingListenerHostname). Per the spec, route hostnames that the
 * listener does not cover are ignored, and where one side is a wildcard the
 * more specific name is kept.
 */
export function intersectHostnames(
  listenerHostname: string | undefined,
  routeHostnames: string[] | undefined,
): string[] {
  const routeHosts = (routeHostnames ?? []).filter((h) => h !== '');
  const listenerHost = listenerHostname && listenerHostname !== '' ? listenerHostname : undefined;
  if (routeHosts.length === 0) return [listenerHost ?? ANY_HOST];
  if (!listenerHost) return dedupe(routeHosts);
  const out: string[] = [];
  for (const h of routeHosts) {
    if (hostnameMatches(listenerHost, h)) out.push(h);
    else if (hostnameMatches(h, listenerHost)) out.push(listenerHost);
    else if (h.toLowerCase() === listenerHost.toLowerCase()) out.push(h);
  }
  return dedupe(out);
}

/** Could one request host match both patterns? (Used for HTTPRoute/GRPCRoute cross-serving.) */
export function hostnamesOverlap(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  return hostnameMatches(a, b) || hostnameMatches(b, a);
}

/**
 * Virtual host order: exact hostnames first, then wildcards with the longest
 * suffix first, then `*`; ties alphabetical so the IR is stable.
 */
export function compareHostnames(a: string, b: string): number {
  const rank = (h: string): number => (h === ANY_HOST ? 2 : isWildcard(h) ? 1 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function dedupe(hosts: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const h of hosts) {
    const key = h.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(h);
  }
  return out;
}
