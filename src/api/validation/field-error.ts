/** A problem with one field of one object, before it is tied to a file and document. */
export interface FieldError {
  /** `spec.listeners[0].port`; empty for the object as a whole. */
  path: string;
  message: string;
}

/** Renders a value the way the API server quotes it in `Invalid value: …` messages. */
export function quoteValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 120 ? `${v.slice(0, 117)}...` : v);
  if (Array.isArray(v)) return '"array"';
  if (v !== null && typeof v === 'object') return '"object"';
  return String(v);
}

export function invalid(path: string, value: unknown, detail: string): FieldError {
  return { path, message: `Invalid value: ${quoteValue(value)}: ${detail}` };
}
