/**
 * Reads V8 `.cpuprofile` files (node --cpu-prof) and says where the time
 * went: self time per function (file:function), inclusive time of Sluice's
 * own functions, and self time per area (Sluice, undici, node internals,
 * GC). Percentages are of the busy samples (idle excluded) of all the
 * profiles given, i.e. of the CPU the workers actually used.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas: number[];
  /** µs, on the clock of process.hrtime (CLOCK_MONOTONIC). */
  startTime: number;
}

export interface HotSpot {
  key: string;
  /** Sampled time, µs. */
  us: number;
  /** % of the busy time. */
  pct: number;
  /** µs per request, when the number of requests is known. */
  usPerRequest: number | null;
}

/** Only the samples between these two instants (µs, process.hrtime clock) count. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
  /** Requests served in the window: turns times into µs per request. */
  requests: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, µs, all profiles together. */
  totalUs: number;
  idleUs: number;
  busyUs: number;
  /** Busy time per request, µs (null without a request count). */
  busyUsPerRequest: number | null;
  selfByFunction: HotSpot[];
  selfByFile: HotSpot[];
  selfByArea: HotSpot[];
  /** Sluice's own functions, time including what they call. */
  inclusiveSluice: HotSpot[];
}

/** `file:///…/dist/proxy/http/forward.js` → `src/proxy/http/forward.ts`; node_modules → package path. */
export function shortFile(url: string, roots: readonly string[]): string {
  if (url === '') return '';
  let u = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = u.lastIndexOf('/node_modules/');
  if (nm !== -1) return u.slice(nm + '/node_modules/'.length);
  for (const r of roots) {
    if (u.startsWith(r)) {
      u = u.slice(r.length).replace(/^\/+/, '');
      break;
    }
  }
  // The bench's build puts src/ at dist/.
  if (u.startsWith('dist/')) u = `src/${u.slice(5).replace(/\.js$/, '.ts')}`;
  return u;
}

function area(file: string, fn: string): string {
  if (file === '') return fn.startsWith('(') ? fn : '(native/V8 builtins)';
  if (file.startsWith('src/proxy/')) return 'Sluice data plane (src/proxy)';
  if (file.startsWith('src/')) return 'Sluice other (src/)';
  if (file.startsWith('undici/')) return 'undici';
  if (file.startsWith('node:')) return `node: ${file.replace(/^node:internal\//, '').split('/')[0]}`;
  return file.split('/')[0];
}

function add(m: Map<string, number>, k: string, n: number): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

function top(m: Map<string, number>, busy: number, requests: number | null, n: number): HotSpot[] {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => ({
      key,
      us,
      pct: busy > 0 ? (us / busy) * 100 : 0,
      usPerRequest: requests !== null && requests > 0 ? us / requests : null,
    }));
}

export function summarizeProfiles(
  files: readonly string[],
  roots: readonly string[],
  window: ProfileWindow | null,
  n = 30,
): ProfileSummary {
  const selfFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const node of p.nodes) {
      byId.set(node.id, node);
      for (const c of node.children ?? []) parent.set(c, node.id);
    }
    const keyOf = new Map<number, { fn: string; file: string; key: string }>();
    for (const node of p.nodes) {
      const cf = node.callFrame;
      const f = shortFile(cf.url, roots);
      const fn = cf.functionName === '' ? '(anonymous)' : cf.functionName;
      // Lines of src/ are the build's, not the .ts file's: they are left out there.
      const key = f === '' ? fn : f.startsWith('src/') ? `${f}:${fn}` : `${f}:${fn}:${cf.lineNumber + 1}`;
      keyOf.set(node.id, { fn, file: f, key });
    }
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i];
      t += p.timeDeltas[i] ?? 0;
      // A sample stands for the time until the next one.
      const us = p.timeDeltas[i + 1] ?? 0;
      if (window !== null && (t < window.fromUs || t > window.toUs)) continue;
      total += us;
      const k = keyOf.get(id);
      if (k === undefined) continue;
      if (k.fn === '(idle)') {
        idle += us;
        continue;
      }
      add(selfFn, k.key, us);
      add(selfFile, k.file === '' ? k.fn : k.file, us);
      add(selfArea, area(k.file, k.fn), us);
      // Inclusive: each Sluice function once per sample, however deep the recursion.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const kk = keyOf.get(cur);
        if (kk !== undefined && kk.file.startsWith('src/') && !seen.has(kk.key)) {
          seen.add(kk.key);
          add(incl, kk.key, us);
        }
      }
    }
  }
  const busy = total - idle;
  const req = window === null ? null : window.requests;
  return {
    totalUs: total,
    idleUs: idle,
    busyUs: busy,
    busyUsPerRequest: req !== null && req > 0 ? busy / req : null,
    selfByFunction: top(selfFn, busy, req, n),
    selfByFile: top(selfFile, busy, req, n),
    selfByArea: top(selfArea, busy, req, n),
    inclusiveSluice: top(incl, busy, req, n),
  };
}

export function profileText(s: ProfileSummary): string {
  const pct = (h: HotSpot): string =>
    `${h.pct.toFixed(1).padStart(5)} %${h.usPerRequest === null ? '' : ` ${h.usPerRequest.toFixed(2).padStart(6)} µs/req`}  ${h.key}`;
  const perReq = s.busyUsPerRequest === null ? '' : ` (${s.busyUsPerRequest.toFixed(1)} µs of worker time per request)`;
  return [
    `${(s.totalUs / 1e6).toFixed(1)} s sampled, ${(s.idleUs / 1e6).toFixed(1)} s idle; percentages are of the ` +
      `${(s.busyUs / 1e6).toFixed(1)} s busy${perReq}.`,
    "Native socket writes (writev, writeLatin1String) include the kernel's TCP work and come out larger in V8",
    "samples than /proc's kernel share above: read them as an upper bound, and the JS frames relative to each other.",
    '',
    'Self time by area:',
    ...s.selfByArea.slice(0, 12).map(pct),
    '',
    'Self time by function (file:function[:line of the JS]):',
    ...s.selfByFunction.map(pct),
    '',
    'Self time by file:',
    ...s.selfByFile.slice(0, 20).map(pct),
    '',
    "Sluice's functions, inclusive (with what they call):",
    ...s.inclusiveSluice.map(pct),
  ].join('\n');
}
