/**
 * What every case of a run shares: placeholder values, the prepared base
 * manifests, the generated secrets the base needs, and the openssl factory
 * that makes each secret once per run.
 */
import { DEFAULT_CONTROLLER_NAME } from '../../src/translate/index.ts';
import { admit } from './admission.ts';
import type { RunnerOptions } from './args.ts';
import type { GeneratedSecretSpec } from './case-types.ts';
import { findSecretSpec, SecretFactory, secretsReferencedBy } from './generated-secrets.ts';
import { placeholderValues, prepareManifestObject } from './placeholders.ts';
import type { CaseEnv } from './run-case.ts';
import { readManifest, type Suite } from './suite.ts';

export function createCaseEnv(
  opts: Pick<RunnerOptions, 'suite' | 'statusOnly' | 'addressPool'>,
  suite: Suite,
  log?: (line: string) => void,
): CaseEnv {
  const placeholders = placeholderValues(DEFAULT_CONTROLLER_NAME, opts.addressPool);
  const rawBase = readManifest(opts.suite, 'base/manifests.yaml');
  const baseDocs = rawBase.map((d) => ({ ...d, object: prepareManifestObject(d.object, placeholders) }));
  const baseSecrets = secretsReferencedBy(rawBase.map((d) => d.object)).flatMap((key): GeneratedSecretSpec[] => {
    const spec = findSecretSpec(suite.secretCatalog, key);
    if (!spec) process.stderr.write(`note: base manifests use ${key}, which no case's generatedSecrets describes\n`);
    return spec ? [spec] : [];
  });
  return {
    suiteDir: opts.suite,
    statusOnly: opts.statusOnly,
    controllerName: DEFAULT_CONTROLLER_NAME,
    addressPool: opts.addressPool,
    admit,
    placeholders,
    secrets: new SecretFactory(suite.secretCatalog),
    baseDocs,
    baseSecrets,
    ...(log ? { log } : {}),
  };
}
