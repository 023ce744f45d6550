/**
 * Runs one case against a fresh object store: GatewayClass, base manifests,
 * generated secrets and the case's manifests are applied, the controller
 * reconciles, and the checks run in order (status judged once per state,
 * steps change the state and trigger another reconcile).
 */
import {
  isStatusCheck,
  isStep,
  STATUS_KINDS,
  STEP_KINDS,
  TRAFFIC_KINDS,
  type Check,
  type GeneratedSecretSpec,
} from './case-types.ts';
import type { Admit } from './admission.ts';
import { FakeClock } from './clock.ts';
import { reconcile, type ControllerOptions } from './controller.ts';
import { loopbackEndpoints, type EndpointSource } from './endpoints.ts';
import { earlyReturnReason, skipReason, unclaimedFeatures } from './features.ts';
import type { SecretFactory } from './generated-secrets.ts';
import { ApiError, ObjectStore } from './object-store.ts';
import { prepareManifestObject, substitute, type PlaceholderValues } from './placeholders.ts';
import type { CaseOutcome } from './report.ts';
import { judgeStatusCheck } from './status-checks.ts';
import { performStep, type GenerationExpectation } from './steps.ts';
import { readManifest, secretKey, type ManifestDoc, type SuiteCase } from './suite.ts';

export interface CaseEnv extends ControllerOptions {
  suiteDir: string;
  statusOnly: boolean;
  admit: Admit;
  placeholders: PlaceholderValues;
  secrets: SecretFactory;
  /** base/manifests.yaml, placeholders already applied. */
  baseDocs: ManifestDoc[];
  /** Generated secrets the base manifests use; created for every case. */
  baseSecrets: GeneratedSecretSpec[];
  endpoints?: EndpointSource;
  log?: (line: string) => void;
}

function gatewayClass(env: CaseEnv): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: env.placeholders.GATEWAY_CLASS_NAME },
    spec: { controllerName: env.controllerName },
  };
}

/** Case-listed entries win over the base ones of the same name. */
function secretsFor(c: SuiteCase, env: CaseEnv): GeneratedSecretSpec[] {
  const byKey = new Map(env.baseSecrets.map((s) => [secretKey(s), s]));
  for (const s of c.file.generatedSecrets ?? []) byKey.set(secretKey(s), s);
  return [...byKey.values()];
}

function label(check: Check, index: number): string {
  return `checks[${index}] ${check.kind}`;
}

export function runCase(c: SuiteCase, env: CaseEnv): CaseOutcome {
  const id = c.id;
  const skip = skipReason(c.file);
  // --status-only judges the status checks of every case whose checks describe Sluice too: a case skipped
  // only for a feature Sluice does not claim still has status expectations (Accepted, Programmed, ...)
  // that hold. skipIfFeatures / skipUnlessFeatures cases describe implementations unlike Sluice: skipped.
  const unclaimed = unclaimedFeatures(c.file);
  const statusDespiteFeature = env.statusOnly && unclaimed.length > 0 && !earlyReturnReason(c.file);
  if (skip && !statusDespiteFeature) return { id, status: 'SKIP', detail: skip };

  const checks = substitute(c.file.checks, env.placeholders);
  const notRun = checks.filter((k) => !STATUS_KINDS.has(k.kind) && !STEP_KINDS.has(k.kind));
  const traffic = [...new Set(notRun.filter((k) => TRAFFIC_KINDS.has(k.kind)).map((k) => k.kind))];
  const unknown = [
    ...new Set(notRun.filter((k) => !TRAFFIC_KINDS.has(k.kind) && k.kind !== 'note').map((k) => k.kind)),
  ];
  const notes = notRun.filter((k) => k.kind === 'note').length;
  if (!env.statusOnly && traffic.length)
    return { id, status: 'SKIP', detail: 'needs: traffic (data plane not yet implemented)' };
  if (!env.statusOnly && unknown.length)
    return { id, status: 'SKIP', detail: `unknown check kind ${unknown.join(', ')}` };

  try {
    return runChecks(c, env, checks, notRun.length, notes);
  } catch (e) {
    env.log?.((e as Error).stack ?? String(e));
    return { id, status: 'FAIL', detail: `error: ${(e as Error).message}` };
  }
}

/** A fresh store holding everything a case starts from (throws ApiError when the server would refuse an object). */
export function setUpCase(
  c: SuiteCase,
  env: CaseEnv,
): { store: ObjectStore; clock: FakeClock; endpoints: EndpointSource } {
  const clock = new FakeClock();
  const endpoints = env.endpoints ?? loopbackEndpoints;
  const store = new ObjectStore({ admit: env.admit, clock, endpoints });
  store.apply(gatewayClass(env), { file: 'runner GatewayClass' });
  for (const d of env.baseDocs) store.apply(d.object, { file: d.file, doc: d.doc });
  for (const o of env.secrets.objectsFor(secretsFor(c, env))) store.apply(o, { file: 'generatedSecrets' });
  for (const m of c.file.manifests) {
    for (const d of readManifest(env.suiteDir, `${c.relDir}/${m}`)) {
      store.apply(prepareManifestObject(d.object, env.placeholders), { file: d.file, doc: d.doc });
    }
  }
  return { store, clock, endpoints };
}

function runChecks(c: SuiteCase, env: CaseEnv, checks: Check[], notRunCount: number, notes: number): CaseOutcome {
  const id = c.id;
  let setUp: ReturnType<typeof setUpCase>;
  try {
    setUp = setUpCase(c, env);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { id, status: 'FAIL', detail: `apply: ${e.message}` };
  }
  const { store, clock, endpoints } = setUp;
  reconcile(store, clock, env);

  const judge = { controllerName: env.controllerName, lookup: store.get.bind(store) };
  const generationChecks: GenerationExpectation[] = [];
  for (const [i, check] of checks.entries()) {
    if (isStatusCheck(check)) {
      const v = judgeStatusCheck(check, judge);
      env.log?.(`  ${id} ${label(check, i)}: ${v.ok ? 'ok' : v.reason}`);
      if (!v.ok) {
        const why = v.stale ? `${v.reason} (status is written synchronously, so it will not catch up)` : v.reason;
        return { id, status: 'FAIL', detail: `${label(check, i)}: ${why}` };
      }
    } else if (isStep(check)) {
      try {
        const g = performStep(check, i, { store, clock, endpoints, where: { file: `${c.relDir}/case.json`, doc: i } });
        if (g) generationChecks.push(g);
      } catch (e) {
        return { id, status: 'FAIL', detail: `${label(check, i)}: ${(e as Error).message}` };
      }
      env.log?.(`  ${id} ${label(check, i)}: done`);
      reconcile(store, clock, env);
    }
  }
  // Upstream asserts generation changes at the end of the test, after the checks that follow the patch.
  for (const g of generationChecks) {
    if (g.after === g.before)
      return {
        id,
        status: 'FAIL',
        detail: `checks[${g.index}] patch: ${g.target} metadata.generation did not change (stayed ${g.before})`,
      };
  }
  const unclaimed = unclaimedFeatures(c.file);
  if (env.statusOnly && unclaimed.length) {
    const notRun = [notRunCount - notes ? 'traffic' : '', notes ? `${notes} note check${notes > 1 ? 's' : ''}` : '']
      .filter(Boolean)
      .join(', ');
    return {
      id,
      status: 'PASS',
      detail: `(status only; feature ${unclaimed.join(', ')} not claimed${notRun ? `: ${notRun} not run` : ''})`,
    };
  }
  if (env.statusOnly && notRunCount) return { id, status: 'PASS', detail: '(status only)' };
  if (notes) return { id, status: 'PASS', detail: `(${notes} note check${notes > 1 ? 's' : ''} not run)` };
  return { id, status: 'PASS' };
}
