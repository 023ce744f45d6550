/**
 * Hostname lookup used twice per request: to pick the listener of a shared
 * socket and then the virtual host of that listener. Exact names win, then
 * the longest wildcard suffix (`*.example.com` matches `a.example.com` and
 * `a.b.example.com`, never `example.com`), then the catch-all.
 */
export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the suffix with its leading dot: `*.example.com` → `.example.com`. */
  private readonly wildcards = new Map<string, T>();
  private any: T | undefined;

  /** Adds `pattern` (`*`, `name` or `*.suffix`); the first entry for a pattern wins. Returns false on a duplicate. */
  add(pattern: string | undefined, value: T): boolean {
    if (pattern === undefined || pattern === '' || pattern === '*') {
      if (this.any !== undefined) return false;
      this.any = value;
      return true;
    }
    const name = pattern.toLowerCase();
    const map = name.startsWith('*.') ? this.wildcards : this.exact;
    const key = name.startsWith('*.') ? name.slice(1) : name;
    if (map.has(key)) return false;
    map.set(key, value);
    return true;
  }

  /** `host` must already be lower case without port. */
  lookup(host: string): T | undefined {
    const hit = this.exact.get(host);
    if (hit !== undefined) return hit;
    if (this.wildcards.size !== 0) {
      // Walking the dots left to right tries the longest suffix first.
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const w = this.wildcards.get(host.slice(dot));
        if (w !== undefined) return w;
      }
    }
    return this.any;
  }

  values(): T[] {
    const out = [...this.exact.values(), ...this.wildcards.values()];
    if (this.any !== undefined) out.push(this.any);
    return out;
  }
}
