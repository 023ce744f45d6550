/**
 * Processes the bench starts: each in its own session and process group
 * (`setsid`), so that stopping one stops everything it forked (nginx
 * workers, cluster workers). Every group is killed when the bench ends,
 * however it ends: normal exit, failure, Ctrl-C or SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Started {
  /** Process id of the group leader (= the process group id). */
  readonly pid: number;
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the leader exits. */
  readonly exited: Promise<number | string>;
  /** Where stderr goes, and stdout unless `stdoutFile` was given. */
  readonly logFile: string;
}

const live = new Map<number, Started>();

export interface StartOptions {
  name: string;
  cmd: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Stdout apart from the log (Sluice's access log), or the log file when absent. */
  stdoutFile?: string;
  /** CPU list for `taskset -c`, or null. */
  cpus?: string | null;
}

export function startGroup(o: StartOptions): Started {
  const fd = openSync(o.logFile, 'a');
  const out = o.stdoutFile === undefined ? fd : openSync(o.stdoutFile, 'a');
  const [cmd, args] = o.cpus ? ['taskset', ['-c', o.cpus, o.cmd, ...o.args]] : [o.cmd, [...o.args]];
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      detached: true, // setsid(): own session and process group
      stdio: ['ignore', out, fd],
    });
  } finally {
    closeSync(fd);
    if (out !== fd) closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.name}: could not start ${o.cmd}`);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(pid);
      resolve(code ?? signal ?? -1);
    });
  });
  const s: Started = { pid, name: o.name, child, exited, logFile: o.logFile };
  live.set(pid, s);
  return s;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** TERM to the whole group, KILL after `graceMs`; resolves when the leader has exited. */
export async function stopGroup(s: Started, graceMs = 5000): Promise<void> {
  signalGroup(s.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup(s.pid, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([s.exited, killed]);
  clearTimeout(timer);
  // Children that outlived the leader (a cluster worker mid-drain) go too.
  signalGroup(s.pid, 'SIGKILL');
  live.delete(s.pid);
}

/** Synchronous last resort: KILL every group still running. */
export function killAllNow(): void {
  for (const pid of live.keys()) signalGroup(pid, 'SIGKILL');
  live.clear();
}

let installed = false;

/** Ctrl-C, SIGTERM, an uncaught error or plain exit: no group of ours survives the bench. */
export function installCleanup(onInterrupt: () => void = () => undefined): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
      killAllNow();
      onInterrupt();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
}
