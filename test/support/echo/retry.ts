/**
 * State of the `/retry/` simulator (ECHO.md section 5): one counter per
 * `uuid`, never reset, and one lock held for the whole handling of a
 * `/retry` request, so such requests are served one at a time per process.
 */

export class RetryState {
  readonly #counters = new Map<string, number>();
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` under the lock (FIFO). */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Counts one attempt for `uuid`; true while it must still fail (counter was below `succeedAfter`). */
  shouldFail(uuid: string, succeedAfter: number): boolean {
    const n = this.#counters.get(uuid) ?? 0;
    if (n >= succeedAfter) return false;
    this.#counters.set(uuid, n + 1);
    return true;
  }
}
