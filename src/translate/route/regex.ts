/**
 * RegularExpression matches use RE2 syntax (as Envoy and Envoy Gateway do).
 * A pattern RE2 rejects makes its rule invalid (UnsupportedValue) here,
 * instead of failing in the data plane.
 */
import { RE2JS } from 're2js';

/** An error message, or undefined when `pattern` is valid RE2. */
export function regexError(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** `text` as an RE2 literal. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
