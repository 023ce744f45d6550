/**
 * Structural defaulting, as the API server does it: after pruning and
 * before any validation, every absent property whose schema has a
 * `default` gets a copy of it, depth first. Defaulting must precede
 * validation: a schema such as Gateway `spec.addresses[]` uses `oneOf` over
 * the defaulted `type`, which ajv would evaluate before its own
 * `useDefaults` filled the field in.
 */
import { isObject, type KubeSchema } from './kube-schema.ts';

export function applyDefaults(value: unknown, schema: KubeSchema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  if (schema.properties) {
    for (const [key, prop] of Object.entries(schema.properties)) {
      if (value[key] === undefined && prop.default !== undefined) value[key] = structuredClone(prop.default);
      if (value[key] !== undefined) applyDefaults(value[key], prop);
    }
  }
  const ap = schema.additionalProperties;
  if (typeof ap === 'object') {
    for (const [key, child] of Object.entries(value)) if (!schema.properties?.[key]) applyDefaults(child, ap);
  }
}
