/**
 * Header handling as Go's net/http does it for the echo: canonical header
 * keys, the request-header map the echo reports, and the response headers
 * asked for with `X-Echo-Set-Header` (ECHO.md section 4).
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go's textproto.CanonicalMIMEHeaderKey: `x-header-add` → `X-Header-Add`; a non-token name stays as it is. */
export function canonicalHeaderKey(name: string): string {
  if (!TOKEN.test(name)) return name;
  let upper = true;
  let out = '';
  for (const ch of name) {
    if (upper && ch >= 'a' && ch <= 'z') out += ch.toUpperCase();
    else if (!upper && ch >= 'A' && ch <= 'Z') out += ch.toLowerCase();
    else out += ch;
    upper = ch === '-';
  }
  return out;
}

/**
 * The `headers` field of the echo: every field line except Host and
 * Transfer-Encoding (and HTTP/2 pseudo-headers), keyed by canonical name,
 * one array element per line in arrival order. `raw` is Node's rawHeaders
 * (name, value, name, value, ...).
 */
export function echoHeaderMap(raw: readonly string[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.startsWith(':')) continue;
    const key = canonicalHeaderKey(name);
    if (key === 'Host' || key === 'Transfer-Encoding') continue;
    (map[key] ??= []).push(raw[i + 1]);
  }
  // Go's server adds Cache-Control: no-cache for a lone Pragma: no-cache (HTTP/1.0 compatibility).
  if (map.Pragma?.[0] === 'no-cache' && !map['Cache-Control']) map['Cache-Control'] = ['no-cache'];
  return map;
}

/**
 * Response headers requested with `X-Echo-Set-Header`: each line is a
 * comma-separated list of `Name:Value`; the name keeps its exact spelling,
 * a later entry for the same spelling appends `,value`, empty names are
 * dropped. Values are trimmed as Go trims them on the wire.
 */
export function echoSetHeaders(lines: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const line of lines) {
    for (const entry of line.split(',')) {
      const trimmed = entry.trim();
      const colon = trimmed.indexOf(':');
      const name = colon === -1 ? trimmed : trimmed.slice(0, colon);
      const value = colon === -1 ? '' : trimmed.slice(colon + 1).trim();
      if (name === '') continue;
      const existing = out.find(([n]) => n === name);
      if (existing) existing[1] += `,${value}`;
      else out.push([name, value]);
    }
  }
  return out;
}

/** Values of one header (case-insensitive name) from Node's rawHeaders, in order. */
export function rawValues(raw: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].toLowerCase() === lower) out.push(raw[i + 1]);
  return out;
}
