/**
 * Runs one case against the live gateway (the traffic half): the case's
 * objects are set up in the runner's object store as in the status half,
 * its echo Deployments are started and published through EndpointSlices,
 * and the whole store is written into `sluice serve`'s config directory.
 * Then the checks run in order: status polled from /api/status, steps
 * applied to the store and written again, traffic sent to the Gateways.
 */
import type { KubeObject } from '../../src/api/object.ts';
import type { StatusDocument } from '../../src/controlplane/control-loop.ts';
import { isStatusCheck, isStep, STATUS_KINDS, STEP_KINDS, TRAFFIC_KINDS, type Check } from './case-types.ts';
import type { EchoFleet } from './echo-fleet.ts';
import { skipReason } from './features.ts';
import type { GatewayProcess } from './gateway-process.ts';
import { pollStatusCheck } from './live-status.ts';
import { ApiError, type ObjectStore } from './object-store.ts';
import { substitute } from './placeholders.ts';
import type { CaseOutcome } from './report.ts';
import { setUpCase, type CaseEnv } from './run-case.ts';
import { performStep, type GenerationExpectation } from './steps.ts';
import type { SuiteCase } from './suite.ts';
import { missingFeature } from './traffic/needs.ts';
import { runTrafficCheck, type TrafficContext } from './traffic/run-traffic.ts';

export interface LiveEnv {
  /** Started on first use (a run whose cases are all skipped starts nothing). */
  gateway(): Promise<GatewayProcess>;
  fleet: EchoFleet;
  portOffset: number;
  /** Give up early once nothing has passed for this long (undefined: upstream budgets only). */
  statusSettleMs?: number;
  trafficSettleMs?: number;
  /** Bound on waiting for the gateway to serve a configuration. */
  applyTimeoutMs: number;
}

class CaseFailure extends Error {}

function label(check: Check, index: number): string {
  return `checks[${index}] ${check.kind}${check.name ? ` "${check.name}"` : ''}`;
}

/** Writes the store as the gateway's configuration and waits until it is served. */
async function publish(store: ObjectStore, gateway: GatewayProcess, live: LiveEnv): Promise<StatusDocument> {
  store.syncEndpointSlices();
  await live.fleet.sync(store.list());
  // The fleet may have (re)started Deployments: their slices name the new addresses.
  store.syncEndpointSlices();
  let doc: StatusDocument;
  try {
    doc = await gateway.apply(store.admittedObjects(), live.applyTimeoutMs);
  } catch (err) {
    throw new CaseFailure((err as Error).message);
  }
  if (doc.problems.length) throw new CaseFailure(`the gateway reports load problems: ${doc.problems.join('; ')}`);
  return doc;
}

/** When the gateway died under a check, the reason is its last words, not the check's symptom. */
function crashNote(gateway: GatewayProcess): string {
  if (!gateway.exited) return '';
  const lines = gateway.stderrTail(30).split('\n');
  const error = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.filter(Boolean).at(-1) ?? '';
  const at = lines.find((l) => /^\s+at /.test(l))?.trim() ?? '';
  return ` [sluice serve crashed: ${error}${at ? ` ${at}` : ''}]`;
}

export async function runLiveCase(c: SuiteCase, env: CaseEnv, live: LiveEnv): Promise<CaseOutcome> {
  const id = c.id;
  const skip = skipReason(c.file);
  if (skip) return { id, status: 'SKIP', detail: skip };
  const checks = substitute(c.file.checks, env.placeholders);
  const known = (k: Check): boolean => STATUS_KINDS.has(k.kind) || STEP_KINDS.has(k.kind) || TRAFFIC_KINDS.has(k.kind);
  const unknown = [...new Set(checks.filter((k) => !known(k) && k.kind !== 'note').map((k) => k.kind))];
  if (unknown.length) return { id, status: 'SKIP', detail: `unknown check kind ${unknown.join(', ')}` };
  const need = missingFeature(checks);
  if (need) return { id, status: 'SKIP', detail: `needs: ${need}` };

  let setUp: ReturnType<typeof setUpCase>;
  try {
    setUp = setUpCase(c, env);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { id, status: 'FAIL', detail: `apply: ${e.message}` };
  }

  try {
    return await runLiveChecks(c, env, live, setUp, checks);
  } catch (e) {
    if (e instanceof CaseFailure) return { id, status: 'FAIL', detail: e.message };
    env.log?.((e as Error).stack ?? String(e));
    return { id, status: 'FAIL', detail: `error: ${(e as Error).message}` };
  }
}

async function runLiveChecks(
  c: SuiteCase,
  env: CaseEnv,
  live: LiveEnv,
  { store, clock }: ReturnType<typeof setUpCase>,
  checks: Check[],
): Promise<CaseOutcome> {
  const id = c.id;
  const gateway = await live.gateway();
  await publish(store, gateway, live);
  const status = (): Promise<StatusDocument> => gateway.status();
  const traffic: TrafficContext = {
    status,
    fleet: live.fleet,
    lookup: (kind, namespace, name): KubeObject | undefined => store.get({ kind, namespace, name }),
    portOffset: live.portOffset,
    ...(live.trafficSettleMs !== undefined ? { settleMs: live.trafficSettleMs } : {}),
  };
  const generationChecks: GenerationExpectation[] = [];
  let notes = 0;
  for (const [i, check] of checks.entries()) {
    const started = Date.now();
    if (check.kind === 'note') {
      notes++;
      continue;
    }
    if (isStep(check)) {
      try {
        const g = performStep(check, i, {
          store,
          clock,
          endpoints: live.fleet,
          where: { file: `${c.relDir}/case.json`, doc: i },
        });
        if (g) generationChecks.push(g);
      } catch (e) {
        return { id, status: 'FAIL', detail: `${label(check, i)}: ${(e as Error).message}` };
      }
      await publish(store, gateway, live);
      env.log?.(`  ${id} ${label(check, i)}: done (${Date.now() - started} ms)`);
      continue;
    }
    const v = isStatusCheck(check)
      ? await pollStatusCheck(check, {
          status,
          controllerName: env.controllerName,
          ...(live.statusSettleMs !== undefined ? { settleMs: live.statusSettleMs } : {}),
        })
      : await runTrafficCheck(check, traffic);
    env.log?.(`  ${id} ${label(check, i)}: ${v.ok ? 'ok' : v.reason} (${Date.now() - started} ms)`);
    if (!v.ok) return { id, status: 'FAIL', detail: `${label(check, i)}: ${v.reason}${crashNote(gateway)}` };
  }
  for (const g of generationChecks) {
    if (g.after === g.before)
      return {
        id,
        status: 'FAIL',
        detail: `checks[${g.index}] patch: ${g.target} metadata.generation did not change (stayed ${g.before})`,
      };
  }
  if (notes) return { id, status: 'PASS', detail: `(${notes} note check${notes > 1 ? 's' : ''} not run)` };
  return { id, status: 'PASS' };
}
