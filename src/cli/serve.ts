/**
 * `sluice serve --config DIR`: the gateway. One control process (the file
 * provider, translation, status, the admin API) and N data-plane workers
 * under node:cluster; `--workers 1` keeps the data plane in this process.
 *
 * Stdout carries a few lines meant for people and scripts:
 *   admin listening on http://127.0.0.1:19000
 *   dashboard: http://127.0.0.1:19000/dashboard/
 *   listening on http://127.0.0.1:8080 (default/web/http)
 *   try: curl -H 'Host: app.example.com' http://127.0.0.1:8080/     (with --demo-backends)
 * Everything else is the JSON log on stderr.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import { parseHostPort, startAdminServer, type AdminServer } from '../admin/server.ts';
import { hostPort } from '../controlplane/bound-status.ts';
import { ACCESS_LOG_FORMATS, createAccessLogger, type AccessLogFormat } from '../observability/access-log.ts';
import { OtlpMetricsPusher } from '../observability/metrics/otlp-push.ts';
import { ClusterRunner } from '../controlplane/cluster-runner.ts';
import { ControlLoop } from '../controlplane/control-loop.ts';
import { InProcessRunner, type DataPlaneFactory, type DataPlaneRunner } from '../controlplane/runner.ts';
import { DemoBackends } from '../demo/backends.ts';
import type { HTTPRouteIR, IR } from '../ir/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BoundSocket } from '../proxy/dataplane.ts';
import { LastGoodFiles } from '../providers/file/last-good.ts';
import { ConfigWatcher } from '../providers/file/watcher.ts';
import { parseFlags, UsageError } from './args.ts';
import { loadConfigDir, requireConfigDir } from './load.ts';
import { translateFlags, translateOptionsFrom } from './translate-flags.ts';

export const serveUsage = `Usage: sluice serve --config DIR [--workers N] [--admin HOST:PORT] [--port-offset N] [--demo-backends]
                    [--access-log off|text|json] [--controller-name NAME] [--address-pool CIDR] [--bind ADDR]
  --workers N       data-plane processes (default: one per CPU); 1 runs the data plane in this process
  --admin HOST:PORT admin API and dashboard (/dashboard/, /ready, /api/status, /api/config, /api/explain, /metrics;
                    default 127.0.0.1:19000, port 0 = any)
  --port-offset N   added to every listener port (serve port-80 Gateways unprivileged)
  --demo-backends   answer for every Service whose EndpointSlice points at a loopback address
  --access-log FMT  one line per request on stdout: text (Envoy's default format, the default), json, or off;
                    a Gateway whose EnvoyProxy sets telemetry.accessLog logs as it says (SIGUSR1 reopens its files)
Metrics are served on the admin address at /metrics (docs/metrics.md); SLUICE_METRICS=off turns counting off.`;

/** How long workers may drain in-flight requests on shutdown. */
const SHUTDOWN_GRACE_MS = 10_000;

function integerFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

/** The worker entry beside this module, with this module's extension (.ts from source, .js when built). */
function workerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`../controlplane/worker-main${extname(self)}`, import.meta.url));
}

async function inProcessFactory(): Promise<DataPlaneFactory> {
  // Imported only here: the control process of a cluster never loads the data plane.
  const { createDataPlane } = await import('../proxy/index.ts');
  return createDataPlane;
}

/**
 * SIGUSR1 (logrotate's postrotate): access-log files are opened again by
 * path, in this process with `--workers 1`, else in every worker (which
 * also take the signal directly).
 */
async function reopenAccessLogs(runner: DataPlaneRunner, log: Logger): Promise<() => void> {
  if (!(runner instanceof ClusterRunner)) {
    const { reopenAccessLogFiles } = await import('../observability/access-log/sinks.ts');
    return () => {
      log.info('SIGUSR1: reopening access log files');
      reopenAccessLogFiles();
    };
  }
  return () => {
    for (const w of runner.workers()) {
      if (w.pid > 0 && w.state === 'running') {
        try {
          process.kill(w.pid, 'SIGUSR1');
        } catch {
          // exited meanwhile
        }
      }
    }
  };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Lines telling a person where to send traffic (wildcard binds are reached on loopback). */
function servingLines(ir: IR, sockets: BoundSocket[], demo: boolean): string[] {
  const lines: string[] = [];
  for (const s of sockets) {
    const host = s.address === '0.0.0.0' ? '127.0.0.1' : s.address === '::' ? '::1' : s.address;
    const listeners = ir.gateways.flatMap((g) => g.listeners).filter((l) => s.listeners.includes(l.name));
    const protocol = listeners[0]?.protocol ?? 'TCP';
    const scheme = protocol === 'HTTP' ? 'http' : protocol === 'HTTPS' ? 'https' : s.protocol;
    lines.push(`listening on ${scheme}://${hostPort(host, s.boundPort)} (${s.listeners.join(', ')})`);
    if (!demo || scheme !== 'http') continue;
    const vhosts = listeners.flatMap((l) => l.virtualHosts ?? []).filter((v) => !v.hostname.includes('*'));
    for (const v of vhosts.slice(0, 3)) {
      lines.push(`try: curl -H 'Host: ${v.hostname}' http://${hostPort(host, s.boundPort)}${samplePath(v.routes[0])}`);
    }
  }
  return lines;
}

/** The dashboard's URL for a browser on this machine (a wildcard admin bind is reached on loopback). */
function dashboardUrl(adminUrl: string): string {
  return (
    adminUrl.replace(/^http:\/\/(0\.0\.0\.0|\[::\])(?=:)/, (_m, host: string) =>
      host === '0.0.0.0' ? 'http://127.0.0.1' : 'http://[::1]',
    ) + '/dashboard/'
  );
}

/** A path the route's first match accepts, so the suggested curl reaches a backend rather than a 404. */
function samplePath(route: HTTPRouteIR | undefined): string {
  if (route?.path.type === 'RegularExpression' || !route) return '/';
  return route.path.value;
}

export async function runServe(argv: string[], log: Logger, logLevel = 'info'): Promise<number> {
  const { values } = parseFlags(argv, {
    ...translateFlags,
    workers: { type: 'string', short: 'w' },
    admin: { type: 'string' },
    'port-offset': { type: 'string' },
    'demo-backends': { type: 'boolean' },
    'access-log': { type: 'string' },
  });
  const accessLog = (values['access-log'] ?? 'text') as AccessLogFormat;
  if (!ACCESS_LOG_FORMATS.includes(accessLog)) {
    throw new UsageError(`--access-log must be one of ${ACCESS_LOG_FORMATS.join(', ')} (got "${accessLog}")`);
  }
  const workers = integerFlag('workers', values.workers, availableParallelism(), 1, 1024);
  const portOffset = integerFlag('port-offset', values['port-offset'], 0, -65535, 65535);
  let admin: { host: string; port: number };
  try {
    admin = parseHostPort(values.admin ?? '127.0.0.1:19000');
  } catch (err) {
    throw new UsageError(`--admin ${(err as Error).message}`);
  }
  const translate = translateOptionsFrom(values);
  const dir = await requireConfigDir(values.config);
  const signal = waitForSignal();

  const metrics = process.env.SLUICE_METRICS === 'off' ? 'off' : 'on';
  let runner: DataPlaneRunner;
  if (workers === 1) {
    const logger = createAccessLogger(accessLog);
    runner = new InProcessRunner(await inProcessFactory(), {
      portOffset,
      log,
      ...(logger ? { accessLog: logger } : {}),
      ...(metrics === 'off' ? { tuning: { metrics: false } } : {}),
    });
  } else {
    const cluster = new ClusterRunner({ workers, exec: workerEntry(), portOffset, logLevel, log, metrics, accessLog });
    cluster.start();
    runner = cluster;
  }
  const reopenLogs = await reopenAccessLogs(runner, log);
  process.on('SIGUSR1', reopenLogs);
  const demo = values['demo-backends'] ? new DemoBackends(log) : undefined;
  const loop = new ControlLoop({ runner, translate, log, ...(demo ? { onSnapshot: (s) => demo.sync(s) } : {}) });
  // EnvoyProxy metrics sinks (OpenTelemetry): the aggregate pushed periodically; idle without any.
  const pusher = new OtlpMetricsPusher({
    collect: () => loop.metricsAggregate(),
    config: () => loop.config(),
    log,
    intervalMs: Math.max(100, Number(process.env.SLUICE_METRICS_PUSH_INTERVAL_MS) || 10_000),
  });
  const lastGood = new LastGoodFiles();
  const watcher = new ConfigWatcher({
    dir,
    load: (d) => loadConfigDir(d, log),
    onChange: (result, texts) => loop.reload({ ...lastGood.apply(result, texts), problems: result.problems }),
    onError: (err) => loop.reloadFailed(err),
  });

  let server: AdminServer | undefined;
  try {
    // The admin API comes first, so /ready can be polled while the first configuration loads.
    server = await startAdminServer(admin.host, admin.port, loop);
    process.stdout.write(`admin listening on ${server.url}\n`);
    process.stdout.write(`dashboard: ${dashboardUrl(server.url)}\n`);
    log.info(`admin listening on ${server.url}`);
    await watcher.start();
    const ir = loop.config();
    if (ir) for (const line of servingLines(ir, loop.status().sockets, !!demo)) process.stdout.write(line + '\n');
    log.info(`${await signal}: shutting down`);
  } finally {
    process.off('SIGUSR1', reopenLogs);
    pusher.close();
    loop.stopping();
    watcher.close();
    await runner.close(SHUTDOWN_GRACE_MS);
    await demo?.close();
    await server?.close();
  }
  return 0;
}
