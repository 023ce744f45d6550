/**
 * The per-rule traffic settings of an HTTPRoute: timeouts and retry (values
 * in Gateway API duration format) and session persistence, copied as given.
 * A malformed duration makes the rule invalid (UnsupportedValue).
 */
import type { HTTPRouteSpec } from '../../api/generated/index.ts';
import type { HTTPRouteIR } from '../../ir/types.ts';
import { parseDuration } from './duration.ts';

type HTTPRule = NonNullable<HTTPRouteSpec['rules']>[number];

export type RuleTraffic = Pick<HTTPRouteIR, 'timeouts' | 'retry' | 'sessionPersistence'>;

/** Envoy's default when a retry stanza gives no attempts (the spec leaves it to the implementation). */
const DEFAULT_RETRY_ATTEMPTS = 1;

export function ruleTraffic(
  rule: Pick<HTTPRule, 'timeouts' | 'retry' | 'sessionPersistence'>,
  field: string,
): RuleTraffic | string {
  const out: RuleTraffic = {};
  if (rule.timeouts) {
    const timeouts: NonNullable<RuleTraffic['timeouts']> = {};
    // "0s" stays 0: the data plane reads a zero timeout as "disabled", as the spec asks.
    for (const [key, irKey] of [
      ['request', 'requestMs'],
      ['backendRequest', 'backendRequestMs'],
    ] as const) {
      const value = rule.timeouts[key];
      if (value === undefined) continue;
      const ms = parseDuration(value);
      if (ms === undefined) return `${field}.timeouts.${key}: invalid duration ${value}`;
      timeouts[irKey] = ms;
    }
    if (Object.keys(timeouts).length > 0) out.timeouts = timeouts;
  }
  if (rule.retry) {
    const retry: NonNullable<RuleTraffic['retry']> = {
      codes: [...(rule.retry.codes ?? [])],
      attempts: rule.retry.attempts ?? DEFAULT_RETRY_ATTEMPTS,
    };
    if (rule.retry.backoff !== undefined) {
      const ms = parseDuration(rule.retry.backoff);
      if (ms === undefined) return `${field}.retry.backoff: invalid duration ${rule.retry.backoff}`;
      retry.backoffMs = ms;
    }
    out.retry = retry;
  }
  if (rule.sessionPersistence) {
    const sp = rule.sessionPersistence;
    if (sp.absoluteTimeout !== undefined && parseDuration(sp.absoluteTimeout) === undefined) {
      return `${field}.sessionPersistence.absoluteTimeout: invalid duration ${sp.absoluteTimeout}`;
    }
    if (sp.type !== undefined && sp.type !== 'Cookie' && sp.type !== 'Header') {
      return `${field}.sessionPersistence.type: unsupported value ${String(sp.type)}`;
    }
    out.sessionPersistence = structuredClone(sp);
  }
  return out;
}
