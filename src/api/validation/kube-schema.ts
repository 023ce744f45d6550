/**
 * The subset of a Kubernetes structural OpenAPI v3 schema that admission
 * interprets itself (pruning, list types, CEL). Everything else in a schema
 * node is left to ajv.
 */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface KubeSchema {
  type?: SchemaType;
  properties?: Record<string, KubeSchema>;
  additionalProperties?: KubeSchema | boolean;
  items?: KubeSchema;
  required?: string[];
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [keyword: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schema for the value under `key` of an object node, if the schema describes one. */
export function propertySchema(schema: KubeSchema, key: string): { schema?: KubeSchema; mapKey: boolean } {
  const prop = schema.properties?.[key];
  if (prop) return { schema: prop, mapKey: false };
  const ap = schema.additionalProperties;
  if (typeof ap === 'object') return { schema: ap, mapKey: true };
  return { mapKey: !schema.properties };
}
