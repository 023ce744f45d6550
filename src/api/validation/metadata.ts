/**
 * ObjectMeta admission. The CRD schemas only say `metadata: {type: object}`;
 * the API server decodes metadata into its typed ObjectMeta instead, so
 * unknown metadata fields are dropped and names are checked by kind.
 */
import { childPath } from './field-path.ts';
import { invalid, type FieldError } from './field-error.ts';
import { isObject, type JsonObject } from './kube-schema.ts';
import type { KindVersion } from './kinds.ts';
import { NAME_VALIDATORS, dns1123Label, labelValue, qualifiedName } from './names.ts';

const KNOWN_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

const STRING_FIELDS = ['generateName', 'selfLink', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'];

/** The API server's limit on the total size of an object's annotations. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export interface MetadataResult {
  errors: FieldError[];
  warnings: FieldError[];
}

function checkStringMap(
  meta: JsonObject,
  field: 'labels' | 'annotations',
  checkValue: ((v: string) => string[]) | undefined,
  errors: FieldError[],
): void {
  const map = meta[field];
  if (map === undefined) return;
  const path = `metadata.${field}`;
  if (!isObject(map)) {
    errors.push(invalid(path, map, 'must be a map of string keys to string values'));
    return;
  }
  let bytes = 0;
  for (const [key, value] of Object.entries(map)) {
    const keyErrs = qualifiedName(key);
    if (keyErrs.length) errors.push(invalid(path, key, keyErrs.join('; ')));
    if (typeof value !== 'string') {
      errors.push(invalid(childPath(path, key, true), value, 'must be a string'));
      continue;
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    const valueErrs = checkValue?.(value) ?? [];
    if (valueErrs.length) errors.push(invalid(childPath(path, key, true), value, valueErrs.join('; ')));
  }
  if (field === 'annotations' && bytes > MAX_ANNOTATIONS_BYTES) {
    errors.push({ path, message: `Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes` });
  }
}

/**
 * Checks and defaults `obj.metadata` in place: drops unknown fields (warning),
 * defaults the namespace of namespaced kinds to `default`, clears it on
 * cluster-scoped kinds (warning), and defaults `generation` to 1.
 * The caller has already checked that metadata is an object with a name.
 */
export function admitMetadata(obj: JsonObject, kind: KindVersion): MetadataResult {
  const errors: FieldError[] = [];
  const warnings: FieldError[] = [];
  const meta = obj.metadata as JsonObject;

  for (const key of Object.keys(meta)) {
    if (meta[key] === null) delete meta[key];
    else if (!KNOWN_FIELDS.has(key)) {
      warnings.push({ path: childPath('metadata', key), message: 'unknown field (dropped)' });
      delete meta[key];
    }
  }

  const name = meta.name as string;
  const nameErrs = NAME_VALIDATORS[kind.nameFormat](name);
  if (nameErrs.length) errors.push(invalid('metadata.name', name, nameErrs.join('; ')));

  if (kind.namespaced) {
    if (meta.namespace === undefined || meta.namespace === '') meta.namespace = 'default';
    if (typeof meta.namespace !== 'string')
      errors.push(invalid('metadata.namespace', meta.namespace, 'must be a string'));
    else {
      const nsErrs = dns1123Label(meta.namespace);
      if (nsErrs.length) errors.push(invalid('metadata.namespace', meta.namespace, nsErrs.join('; ')));
    }
  } else if (meta.namespace !== undefined) {
    // The API server silently clears it; say so, since it is usually a copy-paste slip.
    warnings.push({ path: 'metadata.namespace', message: `${kind.kind} is cluster-scoped; namespace ignored` });
    delete meta.namespace;
  }

  for (const field of STRING_FIELDS) {
    if (meta[field] !== undefined && typeof meta[field] !== 'string') {
      errors.push(invalid(childPath('metadata', field), meta[field], 'must be a string'));
    }
  }
  if (meta.generation === undefined) meta.generation = 1;
  else if (!Number.isInteger(meta.generation) || (meta.generation as number) < 0) {
    errors.push(invalid('metadata.generation', meta.generation, 'must be a non-negative integer'));
  }
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers) || !meta.finalizers.every((f) => typeof f === 'string')) {
      errors.push(invalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'));
    }
  }
  for (const field of ['ownerReferences', 'managedFields']) {
    if (meta[field] !== undefined && !Array.isArray(meta[field])) {
      errors.push(invalid(childPath('metadata', field), meta[field], 'must be a list'));
    }
  }
  checkStringMap(meta, 'labels', labelValue, errors);
  checkStringMap(meta, 'annotations', undefined, errors);
  return { errors, warnings };
}
