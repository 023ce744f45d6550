/**
 * The external programs the bench drives: wrk (HTTP/1.1 load, plain and
 * TLS), h2load (h2c and gRPC load, from nghttp2-client), nginx (origins and
 * a peer), HAProxy (a peer), openssl (the TLS rows' certificate), all from
 * Debian. Missing ones are installed with
 * apt-get when the bench runs as root; otherwise it stops with one line
 * saying what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tools {
  wrk: string;
  h2load: string;
  nginx: string;
  haproxy: string;
  openssl: string;
}

const PACKAGES: Record<keyof Tools, string> = {
  wrk: 'wrk',
  h2load: 'nghttp2-client',
  nginx: 'nginx',
  haproxy: 'haproxy',
  openssl: 'openssl',
};

/** Full path of an executable on PATH (plus the sbin folders, where Debian puts nginx), or null. */
export function which(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export class MissingToolsError extends Error {}

export function ensureTools(log: (line: string) => void): Tools {
  const missing = (Object.keys(PACKAGES) as Array<keyof Tools>).filter((t) => which(t) === null);
  if (missing.length > 0) {
    const pkgs = missing.map((t) => PACKAGES[t]);
    if (process.getuid?.() !== 0) {
      throw new MissingToolsError(
        `bench: missing ${missing.join(', ')}; install with: sudo apt-get install -y ${pkgs.join(' ')}`,
      );
    }
    log(`installing ${pkgs.join(' ')} with apt-get (running as root)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args: string[]): void => {
      const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (r.status !== 0) {
        throw new MissingToolsError(
          `bench: apt-get ${args[0]} failed (${r.stderr.trim().split('\n').pop() ?? r.status}); install ${pkgs.join(' ')} by hand`,
        );
      }
    };
    run(['update']);
    run(['install', '-y', '--no-install-recommends', ...pkgs]);
    // Debian starts the packaged services on install; the bench uses its own instances only.
    for (const svc of ['nginx', 'haproxy']) {
      if (missing.includes(svc as keyof Tools)) spawnSync('service', [svc, 'stop'], { stdio: 'ignore' });
    }
  }
  const found = (t: keyof Tools): string => {
    const p = which(t);
    if (p === null) {
      throw new MissingToolsError(`bench: ${t} still missing; install with: apt-get install -y ${PACKAGES[t]}`);
    }
    return p;
  };
  return {
    wrk: found('wrk'),
    h2load: found('h2load'),
    nginx: found('nginx'),
    haproxy: found('haproxy'),
    openssl: found('openssl'),
  };
}

/** One line of version for the report. */
export function toolVersions(t: Tools): Record<string, string> {
  const v = (cmd: string, args: string[], re: RegExp): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const m = re.exec(`${r.stdout}${r.stderr}`);
    return m === null ? 'unknown' : m[1];
  };
  let kernel = 'unknown';
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    // keep unknown
  }
  return {
    node: process.version,
    nginx: v(t.nginx, ['-v'], /nginx\/(\S+)/),
    haproxy: v(t.haproxy, ['-v'], /version (\S+)/),
    wrk: v(t.wrk, ['-v'], /wrk (\S+)/),
    h2load: v(t.h2load, ['--version'], /nghttp2\/(\S+)/),
    openssl: v(t.openssl, ['version'], /OpenSSL (\S+)/),
    kernel,
  };
}
