/**
 * Session ticket keys. A key is derived from a seed and the current period
 * (HKDF), so every worker given the same seed encrypts and accepts the same
 * tickets and rotates at the same instant without talking to the others.
 * Each period's key replaces the previous one: node's TLS holds one ticket
 * key per context, so tickets issued just before a rotation fall back to a
 * full handshake (they stay short-lived: `sessionTimeout`, 300 s default).
 */
import { hkdfSync, randomBytes } from 'node:crypto';

/** node's ticket key: 16 bytes name, 16 bytes HMAC secret, 16 bytes AES key. */
const TICKET_KEY_BYTES = 48;

export class TicketKeys {
  private cachedPeriod = -1;
  private cachedKey: Buffer = Buffer.alloc(0);

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
      this.cachedKey = Buffer.from(hkdfSync('sha256', this.seed, 'sluice-tls-ticket', `period ${p}`, TICKET_KEY_BYTES));
      this.cachedPeriod = p;
    }
    return this.cachedKey;
  }

  /** Time until the next rotation. */
  msUntilNext(): number {
    return (this.period + 1) * this.periodMs - this.now();
  }
}
