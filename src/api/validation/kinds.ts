/**
 * The kinds admission knows: every served version of every CRD in `crds/`,
 * plus the hand-written core kinds. CRD files are indexed by a cheap text
 * scan and parsed only when a kind from them is first admitted (the
 * EnvoyProxy CRD alone is 1.4 MB of YAML).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CORE_KINDS } from './core-schemas.ts';
import type { JsonObject, KubeSchema } from './kube-schema.ts';
import type { NameFormat } from './names.ts';

export interface KindVersion {
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  schema: KubeSchema;
  /** With a status subresource, the API server ignores `status` on create. */
  statusSubresource: boolean;
  deprecationWarning?: string;
  nameFormat: NameFormat;
  /** Conversions the API server applies before validation (e.g. Secret stringData). */
  normalize?: (obj: JsonObject) => void;
  /** Where the schema came from, for messages. */
  source: string;
}

export interface KindEntry {
  group: string;
  kind: string;
  namespaced: boolean;
  /** Served versions only. */
  versions: Map<string, KindVersion>;
}

interface CrdVersion {
  name: string;
  served?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: KubeSchema };
  subresources?: { status?: unknown };
}

interface Crd {
  kind: 'CustomResourceDefinition';
  spec: { group: string; scope: 'Namespaced' | 'Cluster'; names: { kind: string }; versions: CrdVersion[] };
}

function findCrdDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'crds');
    if (existsSync(join(candidate, 'gateway-api'))) return candidate;
    const up = dirname(dir);
    if (up === dir)
      throw new Error('admission: cannot find the crds/ directory above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

let crdDir: string | undefined;
let index: Map<string, string> | undefined;
const parsed = new Map<string, KindEntry[]>();

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(name)) out.push(full);
  }
  return out;
}

/** `group/kind` → CRD file, from a text scan of controller-gen's fixed layout. */
function crdIndex(): Map<string, string> {
  if (index) return index;
  crdDir ??= findCrdDir();
  index = new Map();
  for (const file of yamlFiles(crdDir)) {
    const text = readFileSync(file, 'utf8');
    const crds = text.match(/^kind: CustomResourceDefinition\s*$/gm)?.length ?? 0;
    if (crds === 0) continue;
    const group = /^ {2}group: (\S+)\s*$/m.exec(text)?.[1];
    const kind = /^ {2}names:\n(?: {4}.*\n)*? {4}kind: (\S+)\s*$/m.exec(text)?.[1];
    if (crds === 1 && group && kind) index.set(`${group}/${kind}`, file);
    else for (const entry of parseCrdFile(file)) index.set(`${entry.group}/${entry.kind}`, file);
  }
  return index;
}

function toKindEntry(crd: Crd, source: string): KindEntry {
  const { group, scope, names } = crd.spec;
  const entry: KindEntry = { group, kind: names.kind, namespaced: scope !== 'Cluster', versions: new Map() };
  for (const v of crd.spec.versions) {
    const schema = v.schema?.openAPIV3Schema;
    if (!v.served || !schema) continue;
    entry.versions.set(v.name, {
      group,
      version: v.name,
      kind: names.kind,
      namespaced: entry.namespaced,
      schema,
      statusSubresource: v.subresources?.status !== undefined,
      deprecationWarning: v.deprecated
        ? (v.deprecationWarning ?? `${group}/${v.name} ${names.kind} is deprecated`)
        : undefined,
      nameFormat: 'dns1123Subdomain',
      source,
    });
  }
  return entry;
}

function parseCrdFile(file: string): KindEntry[] {
  const cached = parsed.get(file);
  if (cached) return cached;
  const source = relative(dirname(crdDir ?? findCrdDir()), file);
  const entries: KindEntry[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0].message}`);
    const crd = doc.toJS({ maxAliasCount: -1 }) as Crd | null;
    if (crd?.kind === 'CustomResourceDefinition') entries.push(toKindEntry(crd, source));
  }
  parsed.set(file, entries);
  return entries;
}

const coreKinds = new Map<string, KindEntry>();
for (const v of CORE_KINDS) {
  const key = `${v.group}/${v.kind}`;
  let entry = coreKinds.get(key);
  if (!entry) {
    entry = { group: v.group, kind: v.kind, namespaced: v.namespaced, versions: new Map() };
    coreKinds.set(key, entry);
  }
  entry.versions.set(v.version, v);
}

/** The kind for a group, or undefined when neither a CRD nor a core schema defines it. */
export function kindEntry(group: string, kind: string): KindEntry | undefined {
  const core = coreKinds.get(`${group}/${kind}`);
  if (core) return core;
  const file = crdIndex().get(`${group}/${kind}`);
  if (!file) return undefined;
  return parseCrdFile(file).find((e) => e.group === group && e.kind === kind);
}

/** Every CRD-defined kind (parses all of crds/; for tests and tooling). */
export function allCrdKinds(): KindEntry[] {
  const files = new Set(crdIndex().values());
  return [...files].flatMap(parseCrdFile);
}

/** Every kind admission knows, CRDs and core. */
export function allKinds(): KindEntry[] {
  return [...allCrdKinds(), ...coreKinds.values()];
}
