/**
 * Gateway API durations (GEP-2257): one to four `<number><unit>` parts with
 * units h, m, s, ms and at most five digits each, e.g. `1h2m`, `500ms`,
 * `0s`. Fractions and other units are not part of the format.
 */

const FORMAT = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Milliseconds, or undefined when `value` is not a Gateway API duration. */
export function parseDuration(value: string): number | undefined {
  if (!FORMAT.test(value)) return undefined;
  let total = 0;
  for (const [, n, unit] of value.matchAll(PART)) total += Number(n) * UNIT_MS[unit];
  return total;
}
