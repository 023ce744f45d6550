/**
 * The admin API (node:http, no framework; loopback by default, like
 * Envoy's admin endpoint, because it shows the whole configuration):
 *
 *   GET /ready        200 "ready" once the current configuration is translated,
 *                     applied by every worker and every listener is bound; else 503 with the reason
 *   GET /api/status   every resource with its status, plus reloads, problems, sockets, workers
 *   GET /api/config   the IR being served
 *   GET /api/version  {"version": "..."}
 *   GET /api/explain  how one request goes through the gateway (?request=GET%20http://host/path&header=...; docs/explain.md)
 *   GET /metrics      the whole gateway's metrics in Prometheus text format (docs/metrics.md)
 *   GET /dashboard/   the live traffic dashboard, fed by GET /api/dashboard/events (docs/dashboard.md)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { VERSION } from '../version.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../observability/metrics/aggregate.ts';
import type { MetricsAggregate } from '../observability/metrics/aggregate.ts';
import { explainRoute } from './explain-route.ts';
import { Dashboard } from './dashboard/http.ts';

/** What the admin API shows; the control loop provides it. */
export interface AdminSource {
  readiness(): { ready: boolean; reason?: string };
  status(): unknown;
  config(): unknown;
  /** Prometheus text exposition of every worker and the control process (absent: /metrics answers 404). */
  metrics?(): Promise<string>;
  /** Every worker's counters summed, fresh as of the call (the dashboard; absent: it shows no traffic). */
  metricsAggregate?(): Promise<MetricsAggregate>;
}

export interface AdminServer {
  /** `http://host:port` as bound (the real port when asked for port 0). */
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body + '\n' : JSON.stringify(body, null, 2) + '\n';
  res.writeHead(code, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function handle(source: AdminSource, dashboard: Dashboard, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  if (dashboard.handle(req, res, path)) return;
  const routes: Record<string, () => [number, unknown] | Promise<[number, unknown]>> = {
    '/ready': () => {
      const r = source.readiness();
      return r.ready ? [200, 'ready'] : [503, `not ready: ${r.reason ?? 'unknown'}`];
    },
    '/api/status': () => [200, source.status()],
    '/api/config': () => {
      const ir = source.config();
      return ir === undefined ? [503, { error: 'no configuration loaded yet' }] : [200, ir];
    },
    '/api/version': () => [200, { version: VERSION }],
    '/api/explain': () => explainRoute(source, url.searchParams),
  };
  if (path === '/metrics' && source.metrics) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: `method ${req.method} not allowed` });
    }
    source.metrics().then(
      (text) => {
        res.writeHead(200, {
          'content-type': PROMETHEUS_CONTENT_TYPE,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => send(res, 500, { error: (err as Error).message }),
    );
    return;
  }
  const route = routes[path];
  if (!route) return send(res, 404, { error: `not found: ${path}` });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, { error: `method ${req.method} not allowed` });
  }
  const answer = route();
  if (!(answer instanceof Promise)) return send(res, answer[0], answer[1]);
  answer.then(
    ([code, body]) => send(res, code, body),
    (err: unknown) => send(res, 500, { error: (err as Error).message }),
  );
}

/** Parses `HOST:PORT` (`[::1]:19000` for IPv6); throws with a message naming the value. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || !Number.isInteger(port) || port > 65535) throw new Error(`${value}: expected HOST:PORT`);
  return { host, port };
}

export function formatUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

export async function startAdminServer(host: string, port: number, source: AdminSource): Promise<AdminServer> {
  const dashboard = new Dashboard(source);
  const server = createServer((req, res) => {
    try {
      handle(source, dashboard, req, res);
    } catch (err) {
      send(res, 500, { error: (err as Error).message });
    }
  });
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    url: formatUrl(bound.address, bound.port),
    close: () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
