/**
 * Reads a conformance suite directory: base/manifests.yaml and
 * cases/<group>/<Case>/case.json with the case's YAML manifests. Manifests
 * are parsed once per run; callers get fresh copies.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CaseFile, GeneratedSecretSpec } from './case-types.ts';

/** One YAML document of a manifest, with where it came from (for admission problems). */
export interface ManifestDoc {
  /** Path relative to the suite directory. */
  file: string;
  doc: number;
  object: Record<string, unknown>;
}

export interface SuiteCase {
  /** `<group>/<Case>`. */
  id: string;
  dir: string;
  /** Path of the case folder relative to the suite. */
  relDir: string;
  file: CaseFile;
}

export interface Suite {
  dir: string;
  cases: SuiteCase[];
  /** Every generatedSecrets entry of every case, by `namespace/name`: upstream creates them all at suite start. */
  secretCatalog: Map<string, GeneratedSecretSpec>;
}

const manifestCache = new Map<string, ManifestDoc[]>();

/** Parses a multi-document YAML file (cached) and returns deep copies of its non-empty documents. */
export function readManifest(suiteDir: string, relPath: string): ManifestDoc[] {
  let docs = manifestCache.get(join(suiteDir, relPath));
  if (!docs) {
    docs = [];
    const text = readFileSync(join(suiteDir, relPath), 'utf8');
    parseAllDocuments(text).forEach((d, i) => {
      if (d.errors.length) throw new Error(`${relPath}#${i}: ${d.errors[0].message}`);
      const obj: unknown = d.toJS();
      if (obj && typeof obj === 'object') docs!.push({ file: relPath, doc: i, object: obj as Record<string, unknown> });
    });
    manifestCache.set(join(suiteDir, relPath), docs);
  }
  return docs.map((d) => ({ ...d, object: structuredClone(d.object) }));
}

function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory())
    .sort();
}

export function secretKey(s: { namespace: string; name: string }): string {
  return `${s.namespace}/${s.name}`;
}

export function loadSuite(dir: string): Suite {
  if (!existsSync(join(dir, 'base', 'manifests.yaml'))) throw new Error(`${dir}: no base/manifests.yaml`);
  const cases: SuiteCase[] = [];
  const secretCatalog = new Map<string, GeneratedSecretSpec>();
  const casesDir = join(dir, 'cases');
  for (const group of subdirs(casesDir)) {
    for (const name of subdirs(join(casesDir, group))) {
      const caseJson = join(casesDir, group, name, 'case.json');
      if (!existsSync(caseJson)) continue;
      let file: CaseFile;
      try {
        file = JSON.parse(readFileSync(caseJson, 'utf8')) as CaseFile;
      } catch (e) {
        throw new Error(`${caseJson}: ${(e as Error).message}`);
      }
      file.features ??= [];
      file.manifests ??= [];
      file.checks ??= [];
      for (const s of file.generatedSecrets ?? [])
        if (!secretCatalog.has(secretKey(s))) secretCatalog.set(secretKey(s), s);
      cases.push({ id: `${group}/${name}`, dir: join(casesDir, group, name), relDir: `cases/${group}/${name}`, file });
    }
  }
  return { dir, cases, secretCatalog };
}
