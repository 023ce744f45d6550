/**
 * The single Ajv instance that checks objects against CRD schemas: RE2
 * semantics for `pattern` (as the API server's Go regexp), the OpenAPI
 * formats the CRDs use, and the Kubernetes vocabulary admitted as
 * annotations (their semantics are implemented by the other modules here).
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { RE2JS } from 're2js';
import type { KubeSchema } from './kube-schema.ts';

/**
 * ajv caches compiled patterns by `toString()`; without it every pattern
 * would collapse into the first one compiled.
 */
type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

const re2Engine: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = RE2JS.compile(pattern);
    return { test: (s: string) => re.test(s), toString: () => `/${pattern}/${flags}` };
  },
  { code: 're2js' },
);

let ajv: Ajv | undefined;

function instance(): Ajv {
  if (ajv) return ajv;
  ajv = new Ajv({
    strict: true,
    strictTypes: false,
    allErrors: true,
    useDefaults: true,
    verbose: true,
    code: { regExp: re2Engine },
  });
  formatsPlugin.default(ajv);
  ajv.addVocabulary([
    'x-kubernetes-validations',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-embedded-resource',
  ]);
  return ajv;
}

export type SchemaValidator = ValidateFunction & { errors?: ErrorObject[] | null };

/** Compiles a schema; validating applies its defaults to the data in place. */
export function compileSchema(schema: KubeSchema): SchemaValidator {
  return instance().compile(schema);
}
