/**
 * Field paths in the API server's notation: `spec.listeners[0].port`,
 * `metadata.labels[app.kubernetes.io/name]`.
 */
import { propertySchema, type KubeSchema } from './kube-schema.ts';

export function childPath(parent: string, key: string, mapKey = false): string {
  if (mapKey) return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/**
 * Converts an ajv JSON pointer (`/spec/listeners/0/port`) to a field path,
 * using the schema to tell list indexes and map keys from property names.
 */
export function pointerToPath(pointer: string, root: KubeSchema): string {
  if (!pointer) return '';
  let schema: KubeSchema | undefined = root;
  let path = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (schema?.type === 'array' || (!schema && /^\d+$/.test(seg))) {
      path = indexPath(path, Number(seg));
      schema = schema?.items;
      continue;
    }
    const child: { schema?: KubeSchema; mapKey: boolean } = schema ? propertySchema(schema, seg) : { mapKey: false };
    path = childPath(path, seg, child.mapKey);
    schema = child.schema;
  }
  return path;
}

/** Appends a CEL rule's `fieldPath` (`.spec.x`, `['key']`, `.items[0]`) to the rule's node path. */
export function appendRelativePath(base: string, relative: string): string {
  const rel = relative.replace(/\[['"]([^'"\]]*)['"]\]/g, '[$1]');
  if (!rel) return base;
  if (rel.startsWith('[')) return base + rel;
  const trimmed = rel.startsWith('.') ? rel.slice(1) : rel;
  return base ? `${base}.${trimmed}` : trimmed;
}
