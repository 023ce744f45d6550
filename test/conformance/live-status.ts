/**
 * Status checks against the live gateway: the same judges as the status
 * half, fed from /api/status and polled with upstream's timeouts
 * (TRANSPORT-KINDS.md 1.3, EXTRA-KINDS.md 7). A stale observedGeneration
 * is waited on, not failed.
 */
import type { KubeObject } from '../../src/api/object.ts';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import { apiGroup } from '../../src/providers/build-snapshot.ts';
import type { StatusCheck } from './case-types.ts';
import type { ObjectRef } from './object-store.ts';
import { judgeStatusCheck } from './status-checks.ts';
import { eventually, type PollOptions, type TryResult } from './traffic/eventually.ts';

export function resourceLookup(doc: StatusDocument): (ref: ObjectRef) => KubeObject | undefined {
  return (ref) => {
    const group = ref.group ?? (ref.apiVersion !== undefined ? apiGroup(ref.apiVersion) : undefined);
    return doc.resources.find(
      (o) =>
        o.kind === ref.kind &&
        o.metadata.name === ref.name &&
        (o.metadata.namespace ?? '') === (ref.namespace ?? '') &&
        (group === undefined || apiGroup(o.apiVersion) === group),
    );
  };
}

/** Upstream's wait per status kind. */
export function statusPolling(check: StatusCheck): Omit<PollOptions, 'settleMs'> {
  const s = (sec: number, pollSec = 0.1, consecutive = 1) => ({
    timeoutMs: (check.timeoutSeconds ?? sec) * 1000,
    pollMs: (check.pollSeconds ?? pollSec) * 1000,
    consecutive,
  });
  switch (check.kind) {
    case 'routeStatus':
      // An empty parent list must be seen on two polls, 1 s apart.
      return check.allowNoParents ? s(60, 1, 2) : s(60);
    case 'gatewayStatus':
      return check.conditions || check.requireAddress || check.addresses ? s(180) : s(60);
    case 'listenerSetStatus':
      return check.conditions ? s(180) : s(60);
    case 'gatewayClassStatus':
      return s(180);
    case 'policyStatus':
    case 'latestConditions':
      return s(60);
  }
}

export interface LiveStatusContext {
  status(): Promise<StatusDocument>;
  controllerName: string;
  settleMs?: number;
}

export async function pollStatusCheck(check: StatusCheck, ctx: LiveStatusContext): Promise<TryResult> {
  const judge = async (): Promise<TryResult> => {
    let doc: StatusDocument;
    try {
      doc = await ctx.status();
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    const v = judgeStatusCheck(check, { controllerName: ctx.controllerName, lookup: resourceLookup(doc) });
    return v.ok ? { ok: true } : { ok: false, reason: v.reason };
  };
  if (check.once) return judge();
  const opts: PollOptions = {
    ...statusPolling(check),
    ...(ctx.settleMs !== undefined ? { settleMs: ctx.settleMs } : {}),
  };
  return eventually(opts, judge);
}
