/**
 * Custom span tags (EnvoyProxy `tracing.customTags`/`tags`,
 * BackendTrafficPolicy `telemetry.tracing.customTags`/`tags`): literals and
 * environment variables are resolved once when compiled, request headers
 * are read when the server span starts.
 */
import type { Attributes } from '@opentelemetry/api';
import type { TracingTagIR } from '../../ir/types.ts';

export interface CompiledTag {
  readonly key: string;
  /** The value, or (request headers) the value when the header is absent; null = no attribute. */
  readonly value: string | null;
  /** Lower-case header name; null = `value` is the value. */
  readonly header: string | null;
}

export function compileTags(tags: Record<string, TracingTagIR> | undefined): CompiledTag[] {
  const out: CompiledTag[] = [];
  for (const [key, t] of Object.entries(tags ?? {})) {
    switch (t.type) {
      case 'Literal':
        out.push({ key, value: t.value, header: null });
        break;
      case 'Environment':
        out.push({ key, value: process.env[t.name] ?? t.defaultValue ?? null, header: null });
        break;
      case 'RequestHeader':
        out.push({ key, value: t.defaultValue ?? null, header: t.name.toLowerCase() });
        break;
    }
  }
  return out;
}

/** Sets `tags` on `attributes`, reading header values from the request's headers as received. */
export function applyTags(tags: readonly CompiledTag[], rawHeaders: readonly string[], attributes: Attributes): void {
  for (const t of tags) {
    let v = t.value;
    if (t.header !== null) {
      const h = t.header;
      for (let i = 0; i < rawHeaders.length; i += 2) {
        if (rawHeaders[i].length === h.length && rawHeaders[i].toLowerCase() === h) {
          v = rawHeaders[i + 1];
          break;
        }
      }
    }
    if (v !== null) attributes[t.key] = v;
  }
}
