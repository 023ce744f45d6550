/** Explanations of small configurations written as YAML, translated as `sluice explain` does. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  explain,
  parseRequest,
  type Explanation,
  type GatewayPath,
  type RouteEntryVerdict,
} from '../../src/explain/index.ts';
import { resourcesWithStatus, translate, type TranslateOptions } from '../../src/translate/index.ts';
import { root } from '../support/serve.ts';
import { snapshotFromYaml } from '../support/snapshot.ts';

export interface RunOptions {
  headers?: string[];
  port?: number;
  gateway?: { namespace: string; name: string };
  translate?: Partial<TranslateOptions>;
}

export function run(yaml: string, request: string, opts: RunOptions = {}): Explanation {
  const snapshot = snapshotFromYaml(yaml);
  const result = translate(snapshot, { now: '2025-01-01T00:00:00Z', ...opts.translate });
  return explain({
    ir: result.ir,
    resources: resourcesWithStatus(snapshot, result),
    request: parseRequest({ request, headers: opts.headers ?? [], ...(opts.port ? { port: opts.port } : {}) }),
    ...(opts.gateway ? { gateway: opts.gateway } : {}),
  });
}

/** The only path (fails when there are several or none). */
export function onlyPath(x: Explanation): GatewayPath {
  if (x.paths.length !== 1) throw new Error(`expected one path, got ${x.paths.length}`);
  return x.paths[0];
}

/** `<route name> r<rule>m<match>` → verdict, for compact assertions. */
export function verdicts(p: GatewayPath): Record<string, string> {
  return Object.fromEntries(p.entries.map((e) => [label(e), e.verdict]));
}

export function entry(p: GatewayPath, route: string, rule: number, match = 0): RouteEntryVerdict {
  const e = p.entries.find((x) => x.route.name === route && x.ruleIndex === rule && x.matchIndex === match);
  if (e === undefined) throw new Error(`no entry ${route} rule ${rule} match ${match}`);
  return e;
}

function label(e: RouteEntryVerdict): string {
  return `${e.route.name} r${e.ruleIndex}m${e.matchIndex}${e.hostname === '*' ? '' : ` ${e.hostname}`}`;
}

export const CLASS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
`;

export function service(name: string, port: number): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: ${port}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: ${port}, protocol: TCP}]
endpoints: [{addresses: ['127.0.0.1']}]
`;
}

/** A kubernetes.io/tls Secret with the translator tests' certificate (example.com, *.example.com). */
export function tlsSecret(name: string): string {
  const b64 = (f: string): string => readFileSync(join(root, 'test/translate/fixtures', f)).toString('base64');
  return `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${b64('server.crt')}
  tls.key: ${b64('server.key')}
`;
}
