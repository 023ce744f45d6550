/**
 * Session ticket keys. A key is derived from a seed and the current period
 * (HKDF), so every worker given the same seed encrypts and accepts the same
 * tickets and rotates at the same instant without talking to the others.
 * node's TLS holds one ticket key per context (no OpenSSL ticket key
 * callback), so a context cannot accept the previous period's tickets next
 * to the current ones. Instead the HTTPS listener reads the ticket's key
 * name from the ClientHello and, for the previous period's name, starts the
 * handshake with a context holding the previous key (`isPrevious`): tickets
 * issued just before a rotation still resume for one more period (new
 * tickets on such a connection use that key too, and die with it).
 */
import { hkdfSync, randomBytes } from 'node:crypto';

/** node's ticket key: 16 bytes name, 16 bytes HMAC secret, 16 bytes AES key. */
const TICKET_KEY_BYTES = 48;
/** OpenSSL starts a ticket with the key name (the key's first 16 bytes in node's layout). */
export const KEY_NAME_BYTES = 16;

export class TicketKeys {
  private cachedPeriod = -1;
  private cachedKey: Buffer = Buffer.alloc(0);
  private previousPeriod = -1;
  private previousKey: Buffer = Buffer.alloc(0);

  constructor(
    private readonly seed: Buffer = randomBytes(32),
    readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Index of the period in force; contexts built for another period must be rebuilt. */
  get period(): number {
    return Math.floor(this.now() / this.periodMs);
  }

  current(): Buffer {
    const p = this.period;
    if (p !== this.cachedPeriod) {
      this.cachedKey = this.derive(p);
      this.cachedPeriod = p;
    }
    return this.cachedKey;
  }

  /** The key of period `p` (the current one, or the one before). */
  keyFor(p: number): Buffer {
    if (p === this.period) return this.current();
    if (p !== this.previousPeriod) {
      this.previousKey = this.derive(p);
      this.previousPeriod = p;
    }
    return this.previousKey;
  }

  /** True when `name` (a ticket's first 16 bytes) is the previous period's key name. */
  isPrevious(name: Buffer): boolean {
    return name.length === KEY_NAME_BYTES && name.equals(this.keyFor(this.period - 1).subarray(0, KEY_NAME_BYTES));
  }

  private derive(p: number): Buffer {
    return Buffer.from(hkdfSync('sha256', this.seed, 'sluice-tls-ticket', `period ${p}`, TICKET_KEY_BYTES));
  }

  /** Time until the next rotation. */
  msUntilNext(): number {
    return (this.period + 1) * this.periodMs - this.now();
  }
}
