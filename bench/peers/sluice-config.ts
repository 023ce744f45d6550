/**
 * Sluice's configuration for the bench: a realistic route table, not a
 * single catch-all. 50 HTTPRoutes on one Gateway listener:
 *
 * - `app.example.com` (the host the load hits) has 20 routes: 15 service
 *   prefixes (`/api/users`, `/api/payments`, ...; the longer ones are
 *   tried before `/api/orders`), an Exact `/api/orders/export`, two header
 *   matches on `/api/orders` (`x-canary: always`, and `x-tenant` against an
 *   RE2 regex) that the benchmark request fails, then `/api/orders` split
 *   90/10 between orders-v1 and orders-v2 (the entry that answers), and `/`.
 * - 30 other hostnames (`team-N.example.com`), each with a header-matched
 *   rule and a default rule, as other teams' routes would be.
 *
 * Every Service's EndpointSlice points at the origin, so whatever entry
 * answers, the request reaches the same nginx as the peers' do.
 *
 * The TLS rows get the same table behind an HTTPS listener that terminates
 * with the bench's certificate (a `kubernetes.io/tls` Secret).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SLUICE_HOST = 'app.example.com';
/** The path the load requests: matched by the weighted `/api/orders` entry. */
export const SLUICE_PATH = '/api/orders/42';

const SERVICES = [
  'users',
  'payments',
  'catalog',
  'inventory',
  'search',
  'cart',
  'shipping',
  'reviews',
  'notifications',
  'accounts',
  'auth',
  'billing',
  'invoices',
  'reports',
  'settings',
];
const TEAMS = 30;

function service(name: string, originPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: bench }
spec:
  ports: [{ name: http, port: 80, targetPort: ${originPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: bench
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${originPort}, protocol: TCP }]
endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }]
`;
}

function route(name: string, hostname: string, rules: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: bench }
spec:
  parentRefs: [{ name: bench }]
  hostnames: [${hostname}]
  rules:
${rules}`;
}

const backend = (svc: string, weight?: number): string =>
  `{ name: ${svc}, port: 80${weight === undefined ? '' : `, weight: ${weight}`} }`;

/** The listener's certificate, when the listener is HTTPS. */
export interface ListenerTls {
  certPem: string;
  keyPem: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function listener(port: number, tls: ListenerTls | null): string {
  if (tls === null)
    return `    - { name: http, protocol: HTTP, port: ${port}, allowedRoutes: { namespaces: { from: Same } } }\n`;
  return `    - name: https
      protocol: HTTPS
      port: ${port}
      allowedRoutes: { namespaces: { from: Same } }
      tls: { mode: Terminate, certificateRefs: [{ kind: Secret, name: bench-cert }] }
`;
}

/** The GatewayClass, the `bench` namespace and its Gateway `bench` with one listener (HTTP, or HTTPS with `tls`). */
export function gatewayYaml(port: number, tls: ListenerTls | null = null): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: sluice }
spec: { controllerName: sluice.dev/gateway-controller }
---
apiVersion: v1
kind: Namespace
metadata: { name: bench }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: bench, namespace: bench }
spec:
  gatewayClassName: sluice
  listeners:
${listener(port, tls)}`;
}

function secret(tls: ListenerTls): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: bench-cert, namespace: bench }
type: kubernetes.io/tls
data:
  tls.crt: ${b64(tls.certPem)}
  tls.key: ${b64(tls.keyPem)}
`;
}

/** Writes the configuration into `dir` (an HTTPS listener when `tls` is given); returns the number of HTTPRoutes. */
export function writeSluiceConfig(
  dir: string,
  listenPort: number,
  originPort: number,
  tls: ListenerTls | null = null,
): number {
  mkdirSync(dir, { recursive: true });
  const gateway = gatewayYaml(listenPort, tls);
  const names = [...SERVICES, 'orders-v1', 'orders-v2', 'frontend', 'teams-default', 'teams-v2'];
  const backends = names.map((n) => service(n, originPort)).join('---\n');

  const routes: string[] = [];
  for (const s of SERVICES) {
    routes.push(
      route(
        `app-${s}`,
        SLUICE_HOST,
        `    - matches: [{ path: { type: PathPrefix, value: /api/${s} } }]
      backendRefs: [${backend(s)}]
`,
      ),
    );
  }
  routes.push(
    route(
      'app-orders-export',
      SLUICE_HOST,
      `    - matches: [{ path: { type: Exact, value: /api/orders/export }, method: POST }]
      backendRefs: [${backend('reports')}]
`,
    ),
    route(
      'app-orders-canary',
      SLUICE_HOST,
      `    - matches:
        - path: { type: PathPrefix, value: /api/orders }
          headers: [{ name: x-canary, value: always }]
      backendRefs: [${backend('orders-v2')}]
`,
    ),
    route(
      'app-orders-beta',
      SLUICE_HOST,
      `    - matches:
        - path: { type: PathPrefix, value: /api/orders }
          headers: [{ type: RegularExpression, name: x-tenant, value: 'beta-[a-z0-9-]+' }]
      backendRefs: [${backend('orders-v2')}]
`,
    ),
    route(
      'app-orders',
      SLUICE_HOST,
      `    - matches: [{ path: { type: PathPrefix, value: /api/orders } }]
      backendRefs: [${backend('orders-v1', 90)}, ${backend('orders-v2', 10)}]
`,
    ),
    route(
      'app-frontend',
      SLUICE_HOST,
      `    - backendRefs: [${backend('frontend')}]
`,
    ),
  );
  for (let i = 0; i < TEAMS; i++) {
    routes.push(
      route(
        `team-${i}`,
        `team-${i}.example.com`,
        `    - matches:
        - path: { type: PathPrefix, value: /api }
          headers: [{ name: x-api-version, value: v2 }]
      backendRefs: [${backend('teams-v2')}]
    - backendRefs: [${backend('teams-default')}]
`,
      ),
    );
  }
  writeFileSync(join(dir, 'gateway.yaml'), gateway);
  writeFileSync(join(dir, 'backends.yaml'), backends);
  writeFileSync(join(dir, 'routes.yaml'), routes.join('---\n'));
  if (tls !== null) writeFileSync(join(dir, 'secret.yaml'), secret(tls));
  return routes.length;
}
