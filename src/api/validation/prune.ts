/**
 * Structural pruning, as the API server does before defaulting: fields the
 * schema does not declare are dropped (the server does it silently; we
 * return a warning per field so typos are visible), and `null` values of
 * non-nullable fields are removed so that their defaults apply.
 */
import { childPath, indexPath } from './field-path.ts';
import type { FieldError } from './field-error.ts';
import { isObject, type KubeSchema } from './kube-schema.ts';

const EMBEDDED_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

export function pruneUnknown(value: unknown, schema: KubeSchema, path: string, warnings: FieldError[]): void {
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => pruneUnknown(item, schema.items!, indexPath(path, i), warnings));
    return;
  }
  if (!isObject(value) || (schema.type !== 'object' && !schema.properties)) return;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const ap = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    // The root's metadata is ObjectMeta, admitted separately.
    if (path === '' && key === 'metadata') continue;
    const child = schema.properties?.[key] ?? (typeof ap === 'object' ? ap : undefined);
    const keyPath = childPath(path, key, !schema.properties?.[key] && ap !== undefined);
    if (!child) {
      const embedded = schema['x-kubernetes-embedded-resource'] === true && EMBEDDED_FIELDS.has(key);
      if (!preserve && ap !== true && !embedded) {
        warnings.push({ path: keyPath, message: 'unknown field (dropped)' });
        delete value[key];
      }
      continue;
    }
    if (value[key] === null && child.nullable !== true) {
      delete value[key];
      continue;
    }
    pruneUnknown(value[key], child, keyPath, warnings);
  }
}
