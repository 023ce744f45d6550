/**
 * The certificates upstream's suite creates at start-up (TRANSPORT-KINDS.md
 * 2.1), made with openssl. CA ConfigMaps hold only `ca.crt`; the CA key
 * stays in memory to sign leaves. Material is generated once per secret per
 * run (one SecretFactory per run) and shared by every case.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/object.ts';
import type { GeneratedSecretSpec } from './case-types.ts';
import { isPlainObject } from './merge-patch.ts';
import { secretKey } from './suite.ts';

interface Material {
  certPem: string;
  keyPem: string;
}

const CA_SUBJECT = 'CN=gatewayapi, O=Kubernetes Gateway API, C=US';
const LEAF_SUBJECT = 'CN=default, O=Acme Co';

/** The upstream CA recipe, for a `signedBy` CA that no case describes. */
function defaultCaSpec(ref: { namespace: string; name: string }): GeneratedSecretSpec {
  return {
    kind: 'ConfigMap',
    namespace: ref.namespace,
    name: ref.name,
    keys: ['ca.crt'],
    isCA: true,
    selfSigned: true,
    subject: CA_SUBJECT,
    keyUsage: ['digitalSignature', 'keyCertSign'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    serial: 2024,
  };
}

/** Go's pkix.Name.String() lists RDNs last-first; openssl's -subj wants them in sequence order. */
export function opensslSubject(subject: string): string {
  return (
    '/' +
    subject
      .split(/,\s*/)
      .filter(Boolean)
      .reverse()
      .map((rdn) => rdn.replace(/\//g, '\\/'))
      .join('/')
  );
}

const DNS_NAME = /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$/;

/** subjectAltName value: the spelled-out lists when present, else upstream's split of `hosts`. Go orders DNS, IP, URI. */
export function subjectAltNames(spec: GeneratedSecretSpec): string[] {
  let dns = spec.dnsNames;
  let ips = spec.ipSANs;
  let uris = spec.uriSANs;
  if (!dns && !ips && !uris) {
    dns = [];
    ips = [];
    uris = [];
    for (const h of spec.hosts ?? []) {
      if (isIP(h)) ips.push(h);
      else if (DNS_NAME.test(h)) dns.push(h);
      else uris.push(h);
    }
  }
  return [
    ...(dns ?? []).map((d) => `DNS:${d}`),
    ...(ips ?? []).map((i) => `IP:${i}`),
    ...(uris ?? []).map((u) => `URI:${u}`),
  ];
}

function validityDays(validity: string | undefined): number {
  const days = /(\d+)\s*days?/.exec(validity ?? '');
  if (days) return Number(days[1]);
  const years = /(\d+)\s*years?/.exec(validity ?? '');
  return years ? Number(years[1]) * 365 : 365;
}

/** Private-key generation arguments from the `key` description ("RSA 2048, PKCS#1 PEM (...)"). */
function keyArgs(key: string | undefined, out: string): string[] {
  const k = key ?? 'RSA 2048, PKCS#1';
  const curve = /P-?(256|384|521)/i.exec(k);
  if (/ECDSA|\bEC\b/i.test(k) || curve) {
    const name = `P-${curve?.[1] ?? '256'}`;
    return ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${name}`, '-out', out];
  }
  if (/ed25519/i.test(k)) return ['genpkey', '-algorithm', 'ED25519', '-out', out];
  const bits = /RSA\s*(\d+)/i.exec(k)?.[1] ?? '2048';
  // PKCS#1 ("BEGIN RSA PRIVATE KEY") unless PKCS#8 is asked for; OpenSSL 3 defaults to PKCS#8.
  return /PKCS#?8/i.test(k)
    ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', out]
    : ['genrsa', '-traditional', '-out', out, bits];
}

function extensions(spec: GeneratedSecretSpec): string {
  const isCA = spec.isCA === true;
  const lines = [isCA ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=CA:FALSE'];
  const ku = spec.keyUsage ?? (isCA ? ['digitalSignature', 'keyCertSign'] : ['digitalSignature', 'keyEncipherment']);
  if (ku.length) lines.push(`keyUsage=${isCA ? 'critical,' : ''}${ku.join(',')}`);
  const eku = spec.extKeyUsage ?? (isCA ? ['serverAuth', 'clientAuth'] : ['serverAuth']);
  if (eku.length) lines.push(`extendedKeyUsage=${eku.join(',')}`);
  const sans = subjectAltNames(spec);
  if (sans.length) lines.push(`subjectAltName=${sans.join(',')}`);
  return lines.join('\n') + '\n';
}

export class SecretFactory {
  readonly #catalog: ReadonlyMap<string, GeneratedSecretSpec>;
  readonly #material = new Map<string, Material>();
  #dir: string | undefined;

  constructor(catalog: ReadonlyMap<string, GeneratedSecretSpec>) {
    this.#catalog = catalog;
  }

  /**
   * The Secret/ConfigMap objects for these entries, each signing CA (from the
   * catalog, else upstream's CA recipe) before the leaves it signs.
   */
  objectsFor(specs: GeneratedSecretSpec[]): KubeObject[] {
    const ordered: GeneratedSecretSpec[] = [];
    const seen = new Set<string>();
    const add = (s: GeneratedSecretSpec): void => {
      if (seen.has(secretKey(s))) return;
      seen.add(secretKey(s));
      if (s.signedBy && !s.selfSigned) add(this.#caSpec(s.signedBy));
      ordered.push(s);
    };
    specs.forEach(add);
    return ordered.map((s) => this.#object(s));
  }

  /** Removes the temporary directory openssl worked in. */
  dispose(): void {
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  #caSpec(ref: { namespace: string; name: string }): GeneratedSecretSpec {
    return this.#catalog.get(secretKey(ref)) ?? defaultCaSpec(ref);
  }

  #object(spec: GeneratedSecretSpec): KubeObject {
    const m = this.#generate(spec);
    const metadata = { name: spec.name, namespace: spec.namespace };
    if (spec.kind === 'ConfigMap') {
      const keys = spec.keys?.length ? spec.keys : ['ca.crt'];
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata,
        data: Object.fromEntries(keys.map((k) => [k, m.certPem])),
      };
    }
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const keys = spec.keys?.length ? spec.keys : ['tls.crt', 'tls.key'];
    const data = Object.fromEntries(keys.map((k) => [k, b64(k.endsWith('.key') ? m.keyPem : m.certPem)]));
    return { apiVersion: 'v1', kind: 'Secret', metadata, type: spec.type ?? 'kubernetes.io/tls', data };
  }

  #generate(spec: GeneratedSecretSpec): Material {
    const id = `${spec.kind}/${secretKey(spec)}`;
    const cached = this.#material.get(id);
    if (cached) return cached;
    const dir = (this.#dir ??= mkdtempSync(join(tmpdir(), 'sluice-conformance-')));
    const base = join(dir, id.replace(/[^a-zA-Z0-9.-]/g, '_'));
    const ssl = (args: string[]): void => {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    };
    ssl(keyArgs(spec.key, `${base}.key`));
    const subject = spec.subject ?? (spec.isCA ? CA_SUBJECT : LEAF_SUBJECT);
    ssl(['req', '-new', '-key', `${base}.key`, '-subj', opensslSubject(subject), '-out', `${base}.csr`]);
    writeFileSync(`${base}.ext`, extensions(spec));
    const serial = spec.serial !== undefined ? String(spec.serial) : randomSerial();
    const common = ['-in', `${base}.csr`, '-days', String(validityDays(spec.validity)), '-set_serial', serial];
    const sign = ['-extfile', `${base}.ext`, '-out', `${base}.crt`];
    if (spec.isCA || spec.selfSigned || !spec.signedBy) {
      ssl(['x509', '-req', ...common, '-signkey', `${base}.key`, ...sign]);
    } else {
      const ca = this.#generate(this.#caSpec(spec.signedBy));
      writeFileSync(`${base}.ca.crt`, ca.certPem);
      writeFileSync(`${base}.ca.key`, ca.keyPem);
      ssl(['x509', '-req', ...common, '-CA', `${base}.ca.crt`, '-CAkey', `${base}.ca.key`, ...sign]);
    }
    const m = { certPem: readFileSync(`${base}.crt`, 'utf8'), keyPem: readFileSync(`${base}.key`, 'utf8') };
    this.#material.set(id, m);
    return m;
  }
}

function randomSerial(): string {
  const b = randomBytes(8);
  b[0] &= 0x7f; // positive
  return `0x${b.toString('hex')}`;
}

/**
 * `namespace/name` of the Secrets and ConfigMaps the base manifests use
 * (Gateway certificateRefs, pod volumes) but do not contain, so that they
 * are generated for every case as upstream's suite setup does.
 */
export function secretsReferencedBy(objects: Record<string, unknown>[]): string[] {
  const out = new Set<string>();
  const defined = new Set<string>();
  for (const o of objects) {
    const meta = isPlainObject(o.metadata) ? o.metadata : {};
    const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
    if ((o.kind === 'Secret' || o.kind === 'ConfigMap') && typeof meta.name === 'string')
      defined.add(`${ns}/${meta.name}`);
    const spec = isPlainObject(o.spec) ? o.spec : {};
    if (o.kind === 'Gateway' && Array.isArray(spec.listeners)) {
      for (const l of spec.listeners as Record<string, unknown>[]) {
        const tls = isPlainObject(l.tls) ? l.tls : {};
        for (const ref of (Array.isArray(tls.certificateRefs) ? tls.certificateRefs : []) as Record<
          string,
          unknown
        >[]) {
          if (ref.kind !== undefined && ref.kind !== 'Secret') continue;
          out.add(`${typeof ref.namespace === 'string' ? ref.namespace : ns}/${String(ref.name)}`);
        }
      }
    }
    if (o.kind === 'Deployment') {
      const template = isPlainObject(spec.template) ? spec.template : {};
      const podSpec = isPlainObject(template.spec) ? template.spec : {};
      for (const v of (Array.isArray(podSpec.volumes) ? podSpec.volumes : []) as Record<string, unknown>[]) {
        if (isPlainObject(v.secret) && typeof v.secret.secretName === 'string') out.add(`${ns}/${v.secret.secretName}`);
        if (isPlainObject(v.configMap) && typeof v.configMap.name === 'string') out.add(`${ns}/${v.configMap.name}`);
      }
    }
  }
  return [...out].filter((k) => !defined.has(k));
}

/**
 * The catalog entry for a generated secret. Upstream makes a few of them in
 * two namespaces with one recipe (tls-passthrough-checks-certificate in infra
 * and app-backend) while the cases describe only one copy: fall back to the
 * same name from another namespace.
 */
export function findSecretSpec(
  catalog: ReadonlyMap<string, GeneratedSecretSpec>,
  key: string,
): GeneratedSecretSpec | undefined {
  const exact = catalog.get(key);
  if (exact) return exact;
  const [namespace, name] = key.split('/');
  const twin = [...catalog.values()].find((s) => s.name === name);
  return twin ? { ...twin, namespace } : undefined;
}
