/**
 * The runner's fake time. Nothing really sleeps: `sleep` steps and
 * `sleepBeforeSeconds` advance it, and every created object takes the
 * current second and moves it on, so creation timestamps are strictly
 * increasing. It starts at the real time so that freshly generated
 * certificates are already valid when the translator compares them with `now`.
 */
export class FakeClock {
  #ms: number;

  constructor(startMs: number = Date.now()) {
    this.#ms = Math.floor(startMs / 1000) * 1000;
  }

  /** RFC 3339 without fractional seconds, as Kubernetes writes timestamps. */
  iso(): string {
    return new Date(this.#ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  advance(seconds: number): void {
    this.#ms += Math.ceil(seconds * 1000);
  }

  /** The current time for a new object, then one second on. */
  tick(): string {
    const t = this.iso();
    this.advance(1);
    return t;
  }
}
