/**
 * How the Node.js rows run. By default from a tsc build into the run's temp
 * dir (Sluice with the repo's tsconfig.build.json, as `npm run build` and
 * `bin/sluice.js` ship it; the Node peers likewise), because tsx's loader
 * costs 30-40 MiB of RSS per process, which would distort the memory column
 * of every Node row. `--tsx` runs everything from source under tsx instead
 * (as `npm start` does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeBuild {
  mode: 'build' | 'tsx';
  /** Flags before the entry module (`--import tsx` from source). */
  nodeFlags: string[];
  /** Sluice's CLI entry. */
  sluiceMain: string;
  /** Folder of the Node peers (`cluster`, `undici-proxy`, ...). */
  peersDir: string;
  /** `.js` or `.ts`. */
  ext: string;
}

export function fromSource(repo: string): NodeBuild {
  return {
    mode: 'tsx',
    nodeFlags: ['--import', 'tsx'],
    sluiceMain: join(repo, 'src', 'cli', 'main.ts'),
    peersDir: join(repo, 'bench', 'peers', 'node'),
    ext: '.ts',
  };
}

function tsc(repo: string, args: string[], log: (line: string) => void): void {
  const r = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    // tsc still emits on type errors (someone's edit in progress): say so, measure what was emitted.
    const first = `${r.stdout}${r.stderr}`.trim().split('\n').slice(0, 3).join(' | ');
    log(`warning: tsc ${args.slice(0, 2).join(' ')} reported errors: ${first}`);
  }
}

/**
 * The sources of a committed revision (`--ref`), for measuring a known
 * state while the working tree is being edited: `git archive` of src/,
 * crds/ and the tsconfigs into `<tmp>/ref`, with the repo's node_modules.
 */
export function checkoutRef(repo: string, tmp: string, ref: string): string {
  const dir = join(tmp, 'ref');
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync(
    'git',
    ['archive', '--format=tar', ref, 'src', 'crds', 'package.json', 'tsconfig.json', 'tsconfig.build.json'],
    {
      cwd: repo,
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr.toString().trim()}`);
  const tar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString().trim()}`);
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * Compiles Sluice (from `sluiceRoot`: the repo, or a `checkoutRef` dir) and
 * the Node peers into `<tmp>/build`; node_modules and crds/ are symlinked.
 */
export function buildForBench(repo: string, tmp: string, log: (line: string) => void, sluiceRoot = repo): NodeBuild {
  const out = join(tmp, 'build');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(repo, 'node_modules'), join(out, 'node_modules'), 'dir');
  // Sluice finds its CRDs by walking up from its modules.
  symlinkSync(join(sluiceRoot, 'crds'), join(out, 'crds'), 'dir');
  tsc(
    repo,
    ['-p', join(sluiceRoot, 'tsconfig.build.json'), '--outDir', join(out, 'dist'), '--sourceMap', 'false'],
    log,
  );
  const peersConfig = join(out, 'tsconfig.peers.json');
  writeFileSync(
    peersConfig,
    JSON.stringify({
      extends: join(repo, 'tsconfig.json'),
      compilerOptions: {
        noEmit: false,
        rootDir: join(repo, 'bench', 'peers', 'node'),
        outDir: join(out, 'peers'),
        sourceMap: false,
      },
      include: [join(repo, 'bench', 'peers', 'node', '*.ts')],
    }),
  );
  tsc(repo, ['-p', peersConfig], log);
  const build: NodeBuild = {
    mode: 'build',
    nodeFlags: [],
    sluiceMain: join(out, 'dist', 'cli', 'main.js'),
    peersDir: join(out, 'peers'),
    ext: '.js',
  };
  for (const f of [build.sluiceMain, join(build.peersDir, 'cluster.js')]) {
    if (!existsSync(f)) throw new Error(`build failed: ${f} was not emitted`);
  }
  return build;
}
