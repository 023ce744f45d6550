/**
 * Which Deployments of a case are HTTP-mode echo-basic pods, and what each
 * needs (ECHO.md sections 1, 2, 9): replica count, container ports, the
 * identity variables, and the TLS material its env names through volume
 * mounts of Secrets and ConfigMaps.
 */
import type { KubeObject } from '../../src/api/object.ts';
import { isPlainObject } from './merge-patch.ts';

export interface EchoContainer {
  replicas: number;
  /** Container ports of the three listeners (HTTP_PORT, H2C_PORT, HTTPS_PORT or their defaults). */
  ports: { http: number; h2c: number; https: number };
  service?: string;
  ingress?: string;
  tls?: { cert: string; key: string; clientCa?: string };
}

type Lookup = (kind: string, namespace: string, name: string) => KubeObject | undefined;

const OTHER_MODES = ['GRPC_ECHO_SERVER', 'TCP_ECHO_SERVER', 'UDP_ECHO_SERVER'];

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

/**
 * The echo a Deployment runs, or undefined when it is not an HTTP-mode
 * echo-basic pod, or when a volume it needs does not exist (Kubernetes
 * would not start the pod either).
 */
export function resolveEchoSpec(deployment: KubeObject, lookup: Lookup): EchoContainer | undefined {
  const spec = rec(deployment.spec);
  const podSpec = rec(rec(spec.template).spec);
  const container = list(podSpec.containers).find((c) => typeof c.image === 'string' && c.image.includes('echo-basic'));
  if (!container) return undefined;
  const env = literalEnv(container);
  if (OTHER_MODES.some((m) => env.get(m))) return undefined;
  const namespace = deployment.metadata.namespace ?? 'default';
  const out: EchoContainer = {
    replicas: typeof spec.replicas === 'number' ? spec.replicas : 1,
    ports: {
      http: port(env, 'HTTP_PORT', 3000),
      h2c: port(env, 'H2C_PORT', 3001),
      https: port(env, 'HTTPS_PORT', 8443),
    },
  };
  if (env.get('SERVICE_NAME')) out.service = env.get('SERVICE_NAME');
  if (env.get('INGRESS_NAME')) out.ingress = env.get('INGRESS_NAME');
  const certPath = env.get('TLS_SERVER_CERT');
  const keyPath = env.get('TLS_SERVER_PRIVKEY');
  if (certPath && keyPath) {
    const file = (p: string): string | undefined => mountedFile(p, container, podSpec, namespace, lookup);
    const cert = file(certPath);
    const key = file(keyPath);
    const caPath = env.get('TLS_CLIENT_CACERTS');
    const clientCa = caPath ? file(caPath) : undefined;
    if (cert === undefined || key === undefined || (caPath && clientCa === undefined)) return undefined;
    out.tls = { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) };
  }
  return out.replicas > 0 ? out : undefined;
}
