/**
 * Collects the status the translator computes for each resource. Status is
 * written where the decision is made (like Envoy Gateway's translator); this
 * store only keys it by object and hands it out at the end.
 */

export interface StatusEntry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The status object exactly as it would be written to the API server. */
  status: Record<string, unknown>;
}

export function statusKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export class StatusStore {
  readonly #entries = new Map<string, StatusEntry>();

  /** Returns the status object for the resource, creating an empty one. */
  of(apiVersion: string, kind: string, namespace: string | undefined, name: string): Record<string, unknown> {
    const key = statusKey(kind, namespace, name);
    let e = this.#entries.get(key);
    if (!e) {
      e = { apiVersion, kind, name, status: {} };
      if (namespace !== undefined) e.namespace = namespace;
      this.#entries.set(key, e);
    }
    return e.status;
  }

  get(kind: string, namespace: string | undefined, name: string): Record<string, unknown> | undefined {
    return this.#entries.get(statusKey(kind, namespace, name))?.status;
  }

  entries(): StatusEntry[] {
    return [...this.#entries.values()];
  }
}
