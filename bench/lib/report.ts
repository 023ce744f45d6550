/** The printed result: a Markdown table (readable as is in a terminal), ratios and targets. */
import { fmtInt, type RowSummary, type TargetCheck } from './summary.ts';

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');
const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');

export function resultTable(rows: readonly RowSummary[]): string {
  const nginx = rows.find((r) => r.id === 'nginx-w2');
  const head = [
    'proxy',
    'req/s @64',
    'runs min–max',
    '×NGINX',
    'p50 ms @64',
    'p99 ms @64',
    'p50 ms @1',
    'p99 ms @1',
    'CPU µs/req',
    'proxy CPU % (kernel)',
    'peak RSS MiB (all)',
    'per worker MiB (at rest)',
    'errors',
    'clean/runs',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const cells = [
      r.label,
      fmtInt(r.rps),
      `${fmtInt(r.rpsMin)}–${fmtInt(r.rpsMax)}`,
      nginx === undefined ? '–' : `${f2(r.rps / nginx.rps)}`,
      f2(r.p50),
      f2(r.p99),
      f2(r.p50at1),
      f2(r.p99at1),
      f0(r.cpuUsPerRequest),
      `${f0(r.proxyCpuPct)} (${f0(r.proxySysShare)} %)`,
      f0(r.rssTotalMiB),
      `${f0(r.rssMaxWorkerMiB)} (${f0(r.rssIdleWorkerMiB)})`,
      String(r.errors),
      // Medians are over the clean (undisturbed) runs; over all of them when none was clean.
      r.disturbed === r.runs ? `0/${r.runs} (all disturbed)` : `${r.runs - r.disturbed}/${r.runs}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function ratiosText(rows: readonly RowSummary[]): string {
  const sluice = rows.find((r) => r.id === 'sluice-w2');
  if (sluice === undefined) return '';
  const lines = ['Sluice against each row (req/s ratio, same run):'];
  for (const r of rows) {
    if (r === sluice) continue;
    lines.push(`  ${r.label.padEnd(44)} ${f2(sluice.rps / r.rps)}×`);
  }
  return lines.join('\n');
}

export function targetsText(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return '';
  const lines = ['Targets (issue 3):'];
  for (const c of checks) {
    const verdict = c.met === null ? '?' : c.met ? 'met' : 'MISSED';
    lines.push(`  ${verdict.padEnd(6)} ${c.name}: ${c.target}; measured ${c.value}${c.note ? `; ${c.note}` : ''}`);
  }
  return lines.join('\n');
}
