/**
 * Admission of one object of a known kind and version, in the API server's
 * order: drop status (status subresource), metadata, conversions, pruning,
 * defaults and schema validation (ajv), list types, then CEL rules.
 */
import { compileSchema, type SchemaValidator } from './ajv-instance.ts';
import { fromAjvErrors } from './ajv-errors.ts';
import { evaluateRules } from './cel/rules.ts';
import type { FieldError } from './field-error.ts';
import type { JsonObject } from './kube-schema.ts';
import type { KindVersion } from './kinds.ts';
import { checkListTypes } from './list-types.ts';
import { admitMetadata } from './metadata.ts';
import { pruneUnknown } from './prune.ts';
import { applyDefaults } from './defaults.ts';

const validators = new WeakMap<KindVersion, SchemaValidator | Error>();

/** Compiled on first use: the big CRDs take ajv a second or more. */
function validatorFor(kind: KindVersion): SchemaValidator | Error {
  let v = validators.get(kind);
  if (!v) {
    try {
      v = compileSchema(kind.schema);
    } catch (e) {
      v = new Error(
        `schema for ${kind.kind} ${kind.version} (${kind.source}) does not compile: ${(e as Error).message}`,
      );
    }
    validators.set(kind, v);
  }
  return v;
}

export interface Validation {
  errors: FieldError[];
  warnings: FieldError[];
}

/** Validates and defaults `obj` in place. `obj.metadata` must be an object with a string name. */
export function validateObject(obj: JsonObject, kind: KindVersion): Validation {
  const warnings: FieldError[] = [];
  if (kind.statusSubresource) delete obj.status;
  const meta = admitMetadata(obj, kind);
  const errors = [...meta.errors];
  warnings.push(...meta.warnings);
  kind.normalize?.(obj);
  pruneUnknown(obj, kind.schema, '', warnings);
  applyDefaults(obj, kind.schema);

  const validate = validatorFor(kind);
  if (validate instanceof Error) return { errors: [...errors, { path: '', message: validate.message }], warnings };
  validate(obj);
  const schema = fromAjvErrors(validate.errors ?? [], kind.schema);
  errors.push(...schema.errors);
  checkListTypes(kind.schema, obj, errors);
  if (schema.blocking) {
    errors.push({
      path: '',
      message:
        'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    });
  } else {
    evaluateRules(kind.schema, obj, errors);
  }
  return { errors, warnings };
}

/** Compiles a kind's schema now (tests; warming a cache before a latency-sensitive reload). */
export function precompile(kind: KindVersion): Error | undefined {
  const v = validatorFor(kind);
  return v instanceof Error ? v : undefined;
}
