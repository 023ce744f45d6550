/**
 * Admission as the API server would do it: schema + CEL validation and CRD
 * defaults, from the same module the file provider uses. Results are
 * memoised by input: every case re-applies the same base manifests, and
 * admission is pure.
 */
import { admitObject } from '../../src/api/validation/index.ts';
import type { KubeObject } from '../../src/api/object.ts';
import type { LoadProblem } from '../../src/providers/snapshot.ts';

export interface Where {
  file?: string;
  doc?: number;
}

export interface AdmitResult {
  object?: KubeObject;
  problems: LoadProblem[];
  warnings: LoadProblem[];
  /** A kind Sluice does not read: stored, but never part of the snapshot. */
  ignored?: boolean;
}

export type Admit = (obj: unknown, where: Where) => AdmitResult;

const memo = new Map<string, AdmitResult>();

export const admit: Admit = (obj, where) => {
  const key = JSON.stringify([where.file, where.doc, obj]);
  const cached = memo.get(key);
  if (cached) return structuredClone(cached);
  const result: AdmitResult = admitObject(obj, where);
  memo.set(key, structuredClone(result));
  return result;
};
