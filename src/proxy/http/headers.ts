/**
 * Headers travel through the data plane as flat arrays `[name, value, name,
 * value, ...]`, the shape node's `rawHeaders`, undici's dispatch and
 * `res.writeHead` all speak, so a proxied request never builds a header
 * object. Names keep the case they arrived with; lookups compare lower case.
 */

/** True when `name` equals `lower` (already lower case) ignoring case. */
export function nameIs(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

/** All values of a header joined with `,` (how Envoy matches repeated headers), or undefined. */
export function getHeader(flat: readonly string[], lower: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < flat.length; i += 2) {
    if (nameIs(flat[i], lower)) out = out === undefined ? flat[i + 1] : `${out},${flat[i + 1]}`;
  }
  return out;
}

export function removeHeader(flat: string[], lower: string): void {
  let w = 0;
  for (let r = 0; r < flat.length; r += 2) {
    if (nameIs(flat[r], lower)) continue;
    if (w !== r) {
      flat[w] = flat[r];
      flat[w + 1] = flat[r + 1];
    }
    w += 2;
  }
  flat.length = w;
}

/** Replaces every value of the header by one. */
export function setHeader(flat: string[], name: string, lower: string, value: string): void {
  for (let i = 0; i < flat.length; i += 2) {
    if (nameIs(flat[i], lower)) {
      flat[i + 1] = value;
      // Later duplicates go; the first keeps its position.
      const rest = flat.splice(i + 2);
      removeHeader(rest, lower);
      for (const x of rest) flat.push(x);
      return;
    }
  }
  flat.push(name, value);
}

/**
 * Appends a value: `old,new` on the last existing line (what backends and
 * clients read for list headers), a new line when there is none or for
 * `set-cookie`, which must never be comma-joined.
 */
export function addHeader(flat: string[], name: string, lower: string, value: string): void {
  if (lower !== 'set-cookie') {
    for (let i = flat.length - 2; i >= 0; i -= 2) {
      if (nameIs(flat[i], lower)) {
        flat[i + 1] = flat[i + 1] === '' ? value : `${flat[i + 1]},${value}`;
        return;
      }
    }
  }
  flat.push(name, value);
}

/** Lower-cased comma-separated tokens of a header value (Connection). */
export function headerTokens(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '') out.push(t);
  }
  return out;
}

/** `keep-alive` or `close` (any case): a Connection value that names no header to remove. */
function isPlainConnectionValue(v: string): boolean {
  return (v.length === 10 || v.length === 5) && (v.toLowerCase() === 'keep-alive' || v.toLowerCase() === 'close');
}

/**
 * Response headers from undici (Buffers, latin1 on the wire) as strings,
 * without the hop-by-hop ones (RFC 9110 §7.6.1) and the ones `Connection`
 * names. `Upgrade`/`Connection` stay on a 101 because the client needs them.
 */
export function responseHeadersFromUpstream(raw: readonly (Buffer | string)[], switching: boolean): string[] {
  const out: string[] = [];
  let connection: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const value = raw[i + 1].toString('latin1');
    const len = name.length;
    // Only names as long as a hop-by-hop one are lower-cased and compared.
    if (len !== 2 && len !== 7 && len !== 10 && len !== 16 && len !== 17) {
      out.push(name, value);
      continue;
    }
    switch (name.toLowerCase()) {
      case 'connection':
        if (!switching) {
          // The common values name no other header: skip the split (measured in the bench profile).
          if (isPlainConnectionValue(value)) continue;
          connection = connection === null ? headerTokens(value) : connection.concat(headerTokens(value));
          continue;
        }
        break;
      case 'upgrade':
        if (!switching) continue;
        break;
      case 'keep-alive':
      case 'proxy-connection':
      case 'transfer-encoding':
      case 'te':
        continue;
    }
    out.push(name, value);
  }
  if (connection !== null) {
    for (const token of connection) {
      if (token !== 'close' && token !== 'keep-alive' && token !== 'upgrade') removeHeader(out, token);
    }
  }
  return out;
}

/** Trailers from undici as the `[name, value][]` shape `res.addTrailers` takes. */
export function trailerPairs(raw: readonly (Buffer | string)[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toString('latin1'), raw[i + 1].toString('latin1')]);
  return out;
}
