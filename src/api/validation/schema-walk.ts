/** Visits every value present in an object together with the schema node that describes it. */
import { childPath, indexPath } from './field-path.ts';
import { isObject, type KubeSchema } from './kube-schema.ts';

export type Visitor = (schema: KubeSchema, value: unknown, path: string) => void;

export function walkSchema(schema: KubeSchema, value: unknown, path: string, visit: Visitor): void {
  if (value === undefined) return;
  visit(schema, value, path);
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walkSchema(schema.items!, item, indexPath(path, i), visit));
    return;
  }
  if (!isObject(value)) return;
  const ap = schema.additionalProperties;
  for (const [key, child] of Object.entries(value)) {
    const prop = schema.properties?.[key];
    if (prop) walkSchema(prop, child, childPath(path, key), visit);
    else if (typeof ap === 'object') walkSchema(ap, child, childPath(path, key, true), visit);
  }
}

/** JSON with object keys sorted, so that equal values render equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
