/**
 * Placeholder substitution (EXTRA-KINDS.md 10) and `$copyFrom` values
 * (TRANSPORT-KINDS.md 5).
 */
import { isIPv4 } from 'node:net';
import type { KubeObject } from '../../src/api/object.ts';
import { isPlainObject } from './merge-patch.ts';

export const GATEWAY_CLASS_NAME = 'gateway-conformance';
/** TEST-NET-1 (RFC 5737): never routed, and outside any pool the runner configures. */
export const DEFAULT_UNUSABLE_ADDRESS = '192.0.2.1';

export interface PlaceholderValues {
  GATEWAY_CLASS_NAME: string;
  GATEWAY_CONTROLLER_NAME: string;
  USABLE_ADDRESS: string;
  USABLE_ADDRESS_TYPE: string;
  UNUSABLE_ADDRESS: string;
  UNUSABLE_ADDRESS_TYPE: string;
}

/**
 * A static address the translator can use: a host inside the pool, far
 * enough from its start (.200 in a /24) not to collide with addresses the
 * pool hands to the other Gateways of a case.
 */
export function usableAddressFrom(pool: string): string {
  const [base, bitsText] = pool.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 30)
    throw new Error(`address pool ${pool}: need an IPv4 CIDR with at least 4 addresses`);
  const size = 2 ** (32 - bits);
  const ip = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const host = ip - (ip % size) + Math.min(200, size - 2);
  return [3, 2, 1, 0].map((k) => Math.floor(host / 256 ** k) % 256).join('.');
}

export function placeholderValues(controllerName: string, addressPool: string): PlaceholderValues {
  return {
    GATEWAY_CLASS_NAME,
    GATEWAY_CONTROLLER_NAME: controllerName,
    USABLE_ADDRESS: usableAddressFrom(addressPool),
    USABLE_ADDRESS_TYPE: 'IPAddress',
    UNUSABLE_ADDRESS: DEFAULT_UNUSABLE_ADDRESS,
    UNUSABLE_ADDRESS_TYPE: 'IPAddress',
  };
}

/** Replaces `{NAME}` tokens of known placeholders in every string of a JSON tree; other braces are left alone. */
export function substitute<T>(value: T, values: PlaceholderValues): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string')
      return v.replace(/\{([A-Z_]+)\}/g, (m, name: string) =>
        Object.hasOwn(values, name) ? values[name as keyof PlaceholderValues] : m,
      );
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * Prepares a manifest document as upstream's applier does: placeholders
 * substituted, every Gateway's `spec.gatewayClassName` and every
 * GatewayClass's `spec.controllerName` overwritten, and the
 * PLACEHOLDER_*_ADDRS entries of `spec.addresses` replaced by the configured address.
 */
export function prepareManifestObject(
  obj: Record<string, unknown>,
  values: PlaceholderValues,
): Record<string, unknown> {
  const out = substitute(obj, values);
  const spec = out.spec;
  if (!isPlainObject(spec) || typeof out.apiVersion !== 'string') return out;
  if (!out.apiVersion.startsWith('gateway.networking.k8s.io/')) return out;
  if (out.kind === 'Gateway') {
    spec.gatewayClassName = values.GATEWAY_CLASS_NAME;
    if (Array.isArray(spec.addresses)) {
      spec.addresses = spec.addresses.map((a: unknown) => {
        if (!isPlainObject(a)) return a;
        if (a.value === 'PLACEHOLDER_USABLE_ADDRS')
          return { type: values.USABLE_ADDRESS_TYPE, value: values.USABLE_ADDRESS };
        if (a.value === 'PLACEHOLDER_UNUSABLE_ADDRS')
          return { type: values.UNUSABLE_ADDRESS_TYPE, value: values.UNUSABLE_ADDRESS };
        return a;
      });
    }
  }
  if (out.kind === 'GatewayClass') spec.controllerName = values.GATEWAY_CONTROLLER_NAME;
  return out;
}

export interface CopyFromRef {
  kind: string;
  namespace?: string;
  name: string;
  key: string;
}

/** Replaces every `{"$copyFrom": {...}}` value with the current value of that ConfigMap or Secret key. */
export function resolveCopyFrom<T>(
  value: T,
  lookup: (ref: { kind: string; namespace?: string; name: string }) => KubeObject | undefined,
): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$copyFrom') return copyValue(v.$copyFrom as CopyFromRef, lookup);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(value) as T;
}

function copyValue(
  ref: CopyFromRef,
  lookup: (ref: { kind: string; namespace?: string; name: string }) => KubeObject | undefined,
): string {
  const where = `$copyFrom ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
  const obj = lookup(ref);
  if (!obj) throw new Error(`${where}: not found`);
  const data = isPlainObject(obj.data) ? obj.data : {};
  const raw = data[ref.key];
  if (typeof raw === 'string') return ref.kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  // Secrets written with stringData keep plain values there until the API server folds them into data.
  const plain = isPlainObject(obj.stringData) ? obj.stringData[ref.key] : undefined;
  if (typeof plain === 'string') return plain;
  throw new Error(`${where}: no key ${ref.key}`);
}
