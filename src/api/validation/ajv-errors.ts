/**
 * Turns ajv errors into field errors worded like the API server's
 * (`Required value`, `Unsupported value: "Foo": supported values: ...`).
 */
import type { ErrorObject } from 'ajv';
import { childPath, pointerToPath } from './field-path.ts';
import { quoteValue, type FieldError } from './field-error.ts';
import type { KubeSchema } from './kube-schema.ts';

/**
 * Errors after which the API server does not run CEL rules: the object is
 * not the shape the rules were cost-checked against.
 */
const BLOCKING = new Set(['type', 'maxItems', 'maxLength', 'maxProperties']);

/** Errors from inside an anyOf/oneOf branch or a `not`: only the combinator's own error is worth showing. */
const IN_ALTERNATIVE = /\/(?:anyOf|oneOf)\/\d+\/|\/not\//;

type Params = Record<string, unknown>;

function message(e: ErrorObject): string {
  const p = e.params as Params;
  const data = e.data;
  switch (e.keyword) {
    case 'required':
      return 'Required value';
    case 'enum':
      return `Unsupported value: ${JSON.stringify(data)}: supported values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `Unsupported value: ${JSON.stringify(data)}: supported values: ${JSON.stringify(p.allowedValue)}`;
    case 'type':
      return `Invalid value: ${quoteValue(data)}: must be of type ${String(p.type)}`;
    case 'maximum':
    case 'minimum':
    case 'exclusiveMaximum':
    case 'exclusiveMinimum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'multipleOf':
      return `Invalid value: ${quoteValue(data)}: must be a multiple of ${String(p.multipleOf)}`;
    case 'maxLength':
      return `Too long: may not be longer than ${String(p.limit)}`;
    case 'minLength':
      return `Invalid value: ${quoteValue(data)}: should be at least ${String(p.limit)} chars long`;
    case 'maxItems':
      return `Too many: ${(data as unknown[]).length}: must have at most ${String(p.limit)} items`;
    case 'minItems':
      return `Invalid value: ${(data as unknown[]).length}: should have at least ${String(p.limit)} items`;
    case 'maxProperties':
      return `Too many: ${Object.keys(data as object).length}: must have at most ${String(p.limit)} items`;
    case 'minProperties':
      return `Invalid value: ${Object.keys(data as object).length}: should have at least ${String(p.limit)} properties`;
    case 'uniqueItems':
      return `Duplicate value: ${JSON.stringify((data as unknown[])[p.j as number])}`;
    case 'pattern':
      return `Invalid value: ${quoteValue(data)}: should match '${String(p.pattern)}'`;
    case 'format':
      return `Invalid value: ${quoteValue(data)}: must be of format ${String(p.format)}`;
    case 'anyOf':
      if (e.parentSchema?.['x-kubernetes-int-or-string'] === true) {
        return `Invalid value: ${quoteValue(data)}: must be of type integer or string`;
      }
      return `Invalid value: ${quoteValue(data)}: must match at least one schema in anyOf`;
    case 'oneOf':
      return `Invalid value: ${quoteValue(data)}: must match exactly one schema in oneOf`;
    case 'not':
      return `Invalid value: ${quoteValue(data)}: must not match the schema in not`;
    default:
      return `Invalid value: ${quoteValue(data)}: ${e.message ?? e.keyword}`;
  }
}

export interface SchemaErrors {
  errors: FieldError[];
  /** True when CEL rules must not run (see BLOCKING). */
  blocking: boolean;
}

export function fromAjvErrors(ajvErrors: readonly ErrorObject[], root: KubeSchema): SchemaErrors {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  let blocking = false;
  for (const e of ajvErrors) {
    if (IN_ALTERNATIVE.test(e.schemaPath)) continue;
    let path = pointerToPath(e.instancePath, root);
    if (e.keyword === 'required') path = childPath(path, String((e.params as Params).missingProperty));
    const intOrString = e.keyword === 'anyOf' && e.parentSchema?.['x-kubernetes-int-or-string'] === true;
    if (BLOCKING.has(e.keyword) || intOrString) blocking = true;
    const err = { path, message: message(e) };
    const key = `${err.path}\0${err.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(err);
  }
  return { errors, blocking };
}
