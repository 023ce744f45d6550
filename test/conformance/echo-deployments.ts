/**
 * Which Deployments of a case are echo pods, in which mode, and what each
 * needs (ECHO.md sections 1, 2, 7, 9; GRPC-ECHO.md "Ports and TLS";
 * TRANSPORT-KINDS.md 7): replica count, container ports, the identity
 * variables, and the TLS material its env names through volume mounts of
 * Secrets and ConfigMaps. echo-basic picks its mode from the env
 * (GRPC_ECHO_SERVER, TCP_ECHO_SERVER, UDP_ECHO_SERVER, else HTTP); a
 * CoreDNS container stands for the `coredns` backend (7.3).
 */
import type { KubeObject } from '../../src/api/object.ts';
import { isPlainObject } from './merge-patch.ts';

export type EchoMode = 'http' | 'grpc' | 'tcp' | 'udp' | 'dns';

/** Tells ./l4-echo-child.ts which of `tcp`, `udp`, `dns` to run. */
export const L4_MODE_ENV = 'SLUICE_L4_ECHO_MODE';

export interface EchoContainer {
  mode: EchoMode;
  replicas: number;
  /**
   * Container ports the process serves. `http`: the main port (HTTP_PORT,
   * gRPC's h2c HTTP_PORT, TCP_PORT, UDP_PORT, DNS 53); `h2c`: the HTTP
   * echo's H2C_PORT; `https`: the TLS port (HTTPS_PORT, TCP's TLS_PORT),
   * present only when TLS material is configured (HTTP mode: always
   * listed, as before).
   */
  ports: { http: number; h2c?: number; https?: number };
  service?: string;
  ingress?: string;
  tls?: { cert: string; key: string; clientCa?: string };
}

type Lookup = (kind: string, namespace: string, name: string) => KubeObject | undefined;

function rec(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

function list(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

/** Literal env values (fieldRef values are the runner's own: pod name and namespace). */
function literalEnv(container: Record<string, unknown>): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of list(container.env))
    if (typeof e.name === 'string' && typeof e.value === 'string') env.set(e.name, e.value);
  return env;
}

/** The text of a file a container sees through a Secret or ConfigMap volume, or undefined. */
function mountedFile(
  path: string,
  container: Record<string, unknown>,
  podSpec: Record<string, unknown>,
  namespace: string,
  lookup: Lookup,
): string | undefined {
  for (const m of list(container.volumeMounts)) {
    const mountPath = (typeof m.mountPath === 'string' ? m.mountPath : '').replace(/\/+$/, '');
    if (!mountPath || !path.startsWith(`${mountPath}/`)) continue;
    const rel = path.slice(mountPath.length + 1);
    const volume = list(podSpec.volumes).find((v) => v.name === m.name);
    if (!volume) return undefined;
    const secret = rec(volume.secret);
    const configMap = rec(volume.configMap);
    const source = volume.secret
      ? { kind: 'Secret', name: secret.secretName, items: secret.items }
      : volume.configMap
        ? { kind: 'ConfigMap', name: configMap.name, items: configMap.items }
        : undefined;
    if (!source || typeof source.name !== 'string') return undefined;
    const key = Array.isArray(source.items) ? list(source.items).find((i) => i.path === rel)?.key : rel;
    if (typeof key !== 'string') return undefined;
    const obj = lookup(source.kind, namespace, source.name);
    if (!obj) return undefined;
    const data = rec(obj.data)[key];
    if (typeof data === 'string') return source.kind === 'Secret' ? Buffer.from(data, 'base64').toString('utf8') : data;
    const plain = rec(obj.stringData)[key];
    return typeof plain === 'string' ? plain : undefined;
  }
  return undefined;
}

function port(env: Map<string, string>, name: string, fallback: number): number {
  const n = Number(env.get(name));
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function modeOf(env: Map<string, string>): EchoMode {
  if (env.get('GRPC_ECHO_SERVER')) return 'grpc';
  if (env.get('TCP_ECHO_SERVER')) return 'tcp';
  if (env.get('UDP_ECHO_SERVER')) return 'udp';
  return 'http';
}

/** The name of the private-key variable: echo-basic's HTTP mode spells it TLS_SERVER_PRIVKEY, the others TLS_SERVER_PRIV_KEY. */
const KEY_VAR: Record<EchoMode, string> = {
  http: 'TLS_SERVER_PRIVKEY',
  grpc: 'TLS_SERVER_PRIV_KEY',
  tcp: 'TLS_SERVER_PRIV_KEY',
  udp: '',
  dns: '',
};

/** The first container port of a CoreDNS container speaking DNS (53 by default). */
function dnsPort(container: Record<string, unknown>): number {
  const p = list(container.ports).find((x) => typeof x.containerPort === 'number');
  return typeof p?.containerPort === 'number' ? p.containerPort : 53;
}

/**
 * The echo a Deployment runs, or undefined when it is no echo-basic or
 * CoreDNS pod, or when a volume it needs does not exist (Kubernetes would
 * not start the pod either).
 */
export function resolveEchoSpec(deployment: KubeObject, lookup: Lookup): EchoContainer | undefined {
  const spec = rec(deployment.spec);
  const podSpec = rec(rec(spec.template).spec);
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  if (replicas <= 0) return undefined;
  const containers = list(podSpec.containers);
  const container = containers.find((c) => typeof c.image === 'string' && c.image.includes('echo-basic'));
  if (!container) {
    const dns = containers.find((c) => typeof c.image === 'string' && /(^|\/)coredns(:|@|$)/.test(c.image));
    return dns ? { mode: 'dns', replicas, ports: { http: dnsPort(dns) } } : undefined;
  }
  const env = literalEnv(container);
  const mode = modeOf(env);
  const namespace = deployment.metadata.namespace ?? 'default';
  const ports: EchoContainer['ports'] =
    mode === 'http'
      ? { http: port(env, 'HTTP_PORT', 3000), h2c: port(env, 'H2C_PORT', 3001), https: port(env, 'HTTPS_PORT', 8443) }
      : mode === 'grpc'
        ? { http: port(env, 'HTTP_PORT', 3000) }
        : mode === 'tcp'
          ? { http: port(env, 'TCP_PORT', 3000) }
          : { http: port(env, 'UDP_PORT', 8080) };
  const out: EchoContainer = { mode, replicas, ports };
  if (env.get('SERVICE_NAME')) out.service = env.get('SERVICE_NAME');
  if (env.get('INGRESS_NAME')) out.ingress = env.get('INGRESS_NAME');
  const certPath = env.get('TLS_SERVER_CERT');
  const keyPath = KEY_VAR[mode] ? env.get(KEY_VAR[mode]) : undefined;
  if (certPath && keyPath) {
    const file = (p: string): string | undefined => mountedFile(p, container, podSpec, namespace, lookup);
    const cert = file(certPath);
    const key = file(keyPath);
    const caPath = mode === 'http' ? env.get('TLS_CLIENT_CACERTS') : undefined;
    const clientCa = caPath ? file(caPath) : undefined;
    if (cert === undefined || key === undefined || (caPath && clientCa === undefined)) return undefined;
    out.tls = { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) };
    if (mode === 'grpc') ports.https = port(env, 'HTTPS_PORT', 8443);
    if (mode === 'tcp') ports.https = port(env, 'TLS_PORT', 8443);
  }
  return out;
}
