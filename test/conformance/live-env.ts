/**
 * The long-lived parts of a live run: the echo fleet and one `sluice serve`
 * (started on first use), and their teardown, also on SIGINT/SIGTERM and
 * at any exit, so that no child outlives the runner.
 */
import { isIPv4 } from 'node:net';
import type { RunnerOptions } from './args.ts';
import { EchoFleet } from './echo-fleet.ts';
import { GatewayProcess } from './gateway-process.ts';
import type { LiveEnv } from './live-case.ts';

/** How long an applied configuration may keep failing a check before the runner stops waiting. */
const STATUS_SETTLE_MS = 2_000;
const TRAFFIC_SETTLE_MS = 5_000;
const APPLY_TIMEOUT_MS = 20_000;

/** The /24 right after the Gateway pool: the echo processes' "pod IPs". */
export function podNetAfter(pool: string): string {
  const [base, bitsText] = pool.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(base) || !base.startsWith('127.') || !(bits >= 8 && bits <= 32))
    throw new Error(`--address-pool ${pool}: a live run needs a loopback IPv4 CIDR (127.0.0.0/8)`);
  const ip = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  const end = ip - (ip % size) + size;
  const next = Math.ceil(end / 256) * 256;
  const octets = [3, 2, 1].map((k) => Math.floor(next / 256 ** k) % 256);
  if (octets[0] !== 127) throw new Error(`--address-pool ${pool}: no loopback /24 left after it for the echo backends`);
  return octets.join('.');
}

export interface LiveRun extends LiveEnv {
  close(): Promise<void>;
}

/**
 * `cleanup` runs too when the run is cut short by a signal (the runner's
 * own temporary files), since process.exit() skips the caller's finally.
 */
export function createLiveRun(
  opts: RunnerOptions,
  controllerName: string,
  log?: (line: string) => void,
  cleanup?: () => void,
): LiveRun {
  const fleet = new EchoFleet({ podNet: podNetAfter(opts.addressPool), ...(log ? { log } : {}) });
  let started: Promise<GatewayProcess> | undefined;
  let gateway: GatewayProcess | undefined;
  const killAll = (): void => {
    gateway?.kill();
    fleet.killAll();
    cleanup?.();
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  return {
    fleet,
    portOffset: opts.portOffset,
    applyTimeoutMs: APPLY_TIMEOUT_MS,
    ...(opts.patient ? {} : { statusSettleMs: STATUS_SETTLE_MS, trafficSettleMs: TRAFFIC_SETTLE_MS }),
    gateway: async () => {
      // A gateway that died (a crash is reported by the case that caused it) is replaced for the next case.
      if (gateway?.exited) {
        log?.(`sluice serve had exited; starting a new one:\n${gateway.stderrTail()}`);
        await gateway.stop();
        gateway = undefined;
        started = undefined;
      }
      started ??= GatewayProcess.start({
        addressPool: opts.addressPool,
        portOffset: opts.portOffset,
        workers: opts.workers,
        controllerName,
        verbose: opts.verbose,
      }).then((g) => {
        gateway = g;
        log?.(
          `sluice serve: admin ${g.admin}, config ${g.configDir}, pool ${opts.addressPool}, port offset ${opts.portOffset}`,
        );
        return g;
      });
      return started;
    },
    close: async () => {
      await Promise.all([gateway?.stop(), fleet.close()]);
      process.off('exit', killAll);
    },
  };
}
