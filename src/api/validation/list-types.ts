/**
 * `x-kubernetes-list-type: map` (items unique by their list-map-keys) and
 * `set` (items unique), which ajv has no keyword for.
 */
import { indexPath } from './field-path.ts';
import type { FieldError } from './field-error.ts';
import { isObject, type KubeSchema } from './kube-schema.ts';
import { canonicalJson, walkSchema } from './schema-walk.ts';

function duplicates(items: unknown[], keyOf: (item: unknown) => string | undefined): number[] {
  const seen = new Set<string>();
  const dups: number[] = [];
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (key === undefined) return;
    if (seen.has(key)) dups.push(i);
    else seen.add(key);
  });
  return dups;
}

export function checkListTypes(schema: KubeSchema, value: unknown, errors: FieldError[]): void {
  walkSchema(schema, value, '', (node, v, path) => {
    if (!Array.isArray(v)) return;
    const type = node['x-kubernetes-list-type'];
    if (type === 'map') {
      const keys = node['x-kubernetes-list-map-keys'] ?? [];
      const keyOf = (item: unknown): string | undefined => {
        if (!isObject(item)) return undefined;
        const key: Record<string, unknown> = {};
        for (const k of keys) if (item[k] !== undefined) key[k] = item[k];
        return canonicalJson(key);
      };
      for (const i of duplicates(v, keyOf)) {
        errors.push({ path: indexPath(path, i), message: `Duplicate value: ${keyOf(v[i])}` });
      }
    } else if (type === 'set') {
      for (const i of duplicates(v, canonicalJson)) {
        errors.push({ path: indexPath(path, i), message: `Duplicate value: ${canonicalJson(v[i])}` });
      }
    }
  });
}
