/**
 * Eventual consistency as upstream's AwaitConvergence (EXTRA-KINDS.md 1.2,
 * TRANSPORT-KINDS.md 1.3): tries until `consecutive` passes in a row, no
 * wait after a pass, `pollMs` after a failure, give up after `timeoutMs`.
 *
 * `settleMs` ends a hopeless wait early: the runner only starts checking
 * once the gateway has applied the configuration, so when not a single try
 * has passed for that long the answer is not going to change. Passing
 * checks are unaffected; `--patient` turns this off.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type TryResult = { ok: true } | { ok: false; reason: string; fatal?: boolean };

export interface PollOptions {
  consecutive: number;
  timeoutMs: number;
  pollMs: number;
  settleMs?: number;
}

export async function eventually(opts: PollOptions, attempt: () => Promise<TryResult>): Promise<TryResult> {
  const start = Date.now();
  let streak = 0;
  let tries = 0;
  let failures = 0;
  let lastPass = start;
  let last: TryResult = { ok: false, reason: 'not tried' };
  const summary = (why: string): TryResult => ({
    ok: false,
    reason: `${why} (${tries} tries in ${((Date.now() - start) / 1000).toFixed(1)} s)`,
  });
  for (;;) {
    if (Date.now() - start > opts.timeoutMs) return summary(last.ok ? 'timed out' : last.reason);
    last = await attempt();
    tries++;
    if (last.ok) {
      lastPass = Date.now();
      if (++streak >= opts.consecutive) return last;
      continue;
    }
    streak = 0;
    failures++;
    if (last.fatal) return summary(last.reason);
    const quiet = Date.now() - lastPass;
    if (opts.settleMs !== undefined && quiet >= opts.settleMs && failures >= 2)
      return summary(`${last.reason}; no passing try for ${(quiet / 1000).toFixed(1)} s`);
    if (Date.now() - start + opts.pollMs > opts.timeoutMs) return summary(last.reason);
    await sleep(opts.pollMs);
  }
}
