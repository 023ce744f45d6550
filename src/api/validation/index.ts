/**
 * Admission: validates and defaults one object as the Kubernetes API server
 * would (CRD OpenAPI schemas and CEL rules from crds/, hand-written schemas
 * for core kinds), so the file provider rejects what `kubectl apply` would.
 */
import type { KubeObject } from '../object.ts';
import { objectKey } from '../object.ts';
import { apiGroup, snapshotListFor } from '../../providers/build-snapshot.ts';
import type { LoadProblem } from '../../providers/snapshot.ts';
import type { FieldError } from './field-error.ts';
import { isObject, type JsonObject, type KubeSchema } from './kube-schema.ts';
import { kindEntry, type KindVersion } from './kinds.ts';
import { validateObject } from './validator.ts';

export interface AdmitResult {
  /** The defaulted, pruned object; present only when there are no problems. */
  object?: KubeObject;
  problems: LoadProblem[];
  warnings: LoadProblem[];
  /** A well-formed object of a kind Sluice does not read (e.g. a Deployment). */
  ignored?: boolean;
}

export interface Where {
  file?: string;
  doc?: number;
}

type Resolved = { kind: KindVersion } | { error: string };

function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
}

function resolveKind(apiVersion: string, kind: string): Resolved {
  const entry = kindEntry(apiGroup(apiVersion), kind);
  if (!entry) return { error: `no matches for kind "${kind}" in version "${apiVersion}"` };
  const kv = entry.versions.get(versionOf(apiVersion));
  if (kv) return { kind: kv };
  const served = [...entry.versions.keys()].map((v) => (entry.group ? `${entry.group}/${v}` : v));
  return {
    error: `no matches for kind "${kind}" in version "${apiVersion}" (served versions: ${served.join(', ')})`,
  };
}

/** The OpenAPI schema the API server would validate `kind` at `apiVersion` against, if it is served. */
export function crdSchemaFor(apiVersion: string, kind: string): KubeSchema | undefined {
  const r = resolveKind(apiVersion, kind);
  return 'kind' in r ? r.kind.schema : undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function admitObject(obj: unknown, where: Where): AdmitResult {
  const at = { file: where.file, doc: where.doc };
  if (!isObject(obj)) {
    return {
      problems: [{ ...at, message: `not a Kubernetes object: the document is ${describe(obj)}` }],
      warnings: [],
    };
  }
  const apiVersion = nonEmptyString(obj.apiVersion);
  const kind = nonEmptyString(obj.kind);
  const metadata = obj.metadata;
  const name = isObject(metadata) ? nonEmptyString(metadata.name) : undefined;
  const ns = isObject(metadata) ? nonEmptyString(metadata.namespace) : undefined;
  const about = { ...at, kind, name: name && ns ? `${ns}/${name}` : name };

  const basics: LoadProblem[] = [];
  if (!apiVersion) basics.push({ ...about, path: 'apiVersion', message: 'Required value' });
  else if (apiVersion.split('/').length > 2)
    basics.push({ ...about, path: 'apiVersion', message: `Invalid value: ${JSON.stringify(apiVersion)}` });
  if (!kind) basics.push({ ...about, path: 'kind', message: 'Required value' });
  if (metadata !== undefined && !isObject(metadata))
    basics.push({ ...about, path: 'metadata', message: `Invalid value: must be an object, not ${describe(metadata)}` });
  else if (!name) basics.push({ ...about, path: 'metadata.name', message: 'Required value' });
  if (basics.length || !apiVersion || !kind) return { problems: basics, warnings: [] };

  if (!snapshotListFor(apiVersion, kind)) return { problems: [], warnings: [], ignored: true };

  const resolved = resolveKind(apiVersion, kind);
  if ('error' in resolved) return { problems: [{ ...about, message: resolved.error }], warnings: [] };

  const copy: JsonObject = structuredClone(obj);
  const result = validateObject(copy, resolved.kind);
  const admitted = copy as KubeObject;
  const named = { ...at, kind, name: objectKey(admitted) };
  const toProblem = (e: FieldError): LoadProblem => ({
    ...named,
    ...(e.path ? { path: e.path } : {}),
    message: e.message,
  });

  const warnings = result.warnings.map(toProblem);
  if (resolved.kind.deprecationWarning) warnings.unshift({ ...named, message: resolved.kind.deprecationWarning });
  if (result.errors.length) return { problems: result.errors.map(toProblem), warnings };
  return { object: admitted, problems: [], warnings };
}
