/**
 * Go's time.ParseDuration, error texts included: the echo's `delay` and
 * `delayRetry` parameters are Go durations, and an unparsable one is
 * answered with the Go error message (ECHO.md section 4).
 */

/** Nanoseconds per unit, as Go's unitMap. */
const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's quote() for the error messages: printable ASCII as is, the rest escaped. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** The duration in milliseconds; throws an Error whose message is Go's. */
export function parseGoDuration(text: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${quote(text)}`);
  let s = text;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let totalNs = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const [whole, intPart, fracPart] = m;
    if (intPart === '' && (fracPart === undefined || fracPart === '')) throw invalid();
    s = s.slice(whole.length);
    let i = 0;
    while (i < s.length && s[i] !== '.' && !(s[i] >= '0' && s[i] <= '9')) i++;
    if (i === 0) throw new Error(`time: missing unit in duration ${quote(text)}`);
    const unit = s.slice(0, i);
    s = s.slice(i);
    const ns = UNITS[unit];
    if (ns === undefined) throw new Error(`time: unknown unit ${quote(unit)} in duration ${quote(text)}`);
    totalNs += Number(`${intPart || '0'}.${fracPart ?? '0'}`) * ns;
    // Go overflows at 2^63 ns (about 292 years).
    if (totalNs > 9.223372036854775e18) throw invalid();
  }
  const ms = totalNs / 1e6;
  return negative ? -ms : ms;
}
