/**
 * What the API server does to core objects before validating them, beyond
 * schema defaults: conversions and defaults that depend on other fields.
 */
import { isObject, type JsonObject } from './kube-schema.ts';

/** `stringData` is write-only: its entries are base64-encoded into `data`, overriding keys already there. */
export function normalizeSecret(secret: JsonObject): void {
  const stringData = secret.stringData;
  if (stringData === undefined || stringData === null) {
    delete secret.stringData;
    return;
  }
  // Leave malformed stringData in place so schema validation reports it.
  if (!isObject(stringData) || !Object.values(stringData).every((v) => typeof v === 'string')) return;
  const data = isObject(secret.data) ? secret.data : {};
  for (const [key, value] of Object.entries(stringData)) {
    data[key] = Buffer.from(value as string, 'utf8').toString('base64');
  }
  secret.data = data;
  delete secret.stringData;
}

/** A Service port's `targetPort` defaults to its `port`. */
export function normalizeService(service: JsonObject): void {
  const spec = service.spec;
  if (!isObject(spec) || !Array.isArray(spec.ports)) return;
  for (const port of spec.ports) {
    if (isObject(port) && port.targetPort === undefined && typeof port.port === 'number') port.targetPort = port.port;
  }
}
