/**
 * The printed result: one Markdown table per section (readable as is in a
 * terminal), each with its ratios to the NGINX and HAProxy rows of the same
 * section, what each row was checked to serve, the targets and the
 * observability cost.
 */
import { H2_CONNECTIONS, H2_STREAMS, SECTIONS, type Section } from './load.ts';
import { checkObservability, fmtInt, OBSERVABILITY_MAX_COST, type RowSummary, type TargetCheck } from './summary.ts';

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');
const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');

const H2 = `${H2_CONNECTIONS} connections × ${H2_STREAMS} streams (h2load)`;

export const SECTION_TITLES: Record<Section, string> = {
  http1: 'HTTP/1.1 keep-alive, 64 connections (wrk)',
  https: 'HTTPS (TLS 1.3, ECDSA P-256) keep-alive, 64 connections (wrk); HTTP/1.1 to the origin',
  'https-close':
    'HTTPS (TLS 1.3), a new connection and full handshake per request, no session resumption ' +
    '(wrk, `Connection: close`), 64 connections',
  h2c: `h2c (HTTP/2 prior knowledge) downstream, HTTP/1.1 upstream, ${H2}`,
  grpc: `gRPC unary (POST, application/grpc, te: trailers) over h2c both ways, ${H2}`,
};

/** The section's NGINX and HAProxy rows: the references of its ratios. */
function references(rows: readonly RowSummary[]): { nginx?: RowSummary; haproxy?: RowSummary } {
  const ref = rows.filter((r) => r.group === 'reference');
  return { nginx: ref.find((r) => r.id.startsWith('nginx')), haproxy: ref.find((r) => r.id.startsWith('haproxy')) };
}

export function resultTable(rows: readonly RowSummary[]): string {
  const { nginx, haproxy } = references(rows);
  const head = [
    'proxy',
    'req/s @64',
    'runs min–max',
    '×NGINX',
    '×HAProxy',
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
      haproxy === undefined ? '–' : `${f2(r.rps / haproxy.rps)}`,
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

/** A heading, the table and the checks of each section that has rows. */
export function sectionsText(rows: readonly RowSummary[]): string {
  const out: string[] = [];
  for (const section of SECTIONS) {
    const rs = rows.filter((r) => r.section === section);
    if (rs.length === 0) continue;
    out.push(`### ${section}: ${SECTION_TITLES[section]}`, '', resultTable(rs), '');
    const checks = rs.filter((r) => r.checks.length > 0 && section !== 'http1');
    if (checks.length > 0) {
      out.push('Checked:');
      for (const r of checks) out.push(`  ${r.label}: ${r.checks.join('; ')}`);
      out.push('');
    }
  }
  return out.join('\n');
}

export function ratiosText(rows: readonly RowSummary[]): string {
  const sluice = rows.find((r) => r.id === 'sluice-w2');
  if (sluice === undefined) return '';
  const lines = ['Sluice against each HTTP/1.1 row (req/s ratio, same run):'];
  for (const r of rows) {
    if (r === sluice || r.section !== 'http1') continue;
    lines.push(`  ${r.label.padEnd(44)} ${f2(sluice.rps / r.rps)}×`);
  }
  return lines.join('\n');
}

/** Issue 5: Sluice with metrics + text access log against both off, same run. */
/** `12.3 % less` or `4.5 % more`, for a ratio to a reference. */
function change(ratio: number): string {
  const pct = Math.abs(1 - ratio) * 100;
  return `${pct.toFixed(1)} % ${ratio <= 1 ? 'less' : 'more'}`;
}

export function observabilityText(rows: readonly RowSummary[]): string {
  const c = checkObservability(rows);
  if (c === null) return '';
  const verdict = c.met ? 'met' : 'MISSED';
  const vsOff = (r: RowSummary): string => {
    const d = r.cpuUsPerRequest - c.off.cpuUsPerRequest;
    return (
      `${fmtInt(r.rps)} req/s, ${f2(r.rps / c.off.rps)}× (${change(r.rps / c.off.rps)}); ` +
      `CPU ${f0(r.cpuUsPerRequest)} µs/req (${d >= 0 ? '+' : ''}${d.toFixed(1)})`
    );
  };
  const lines = [
    `Observability cost (issue 5): ${verdict.padEnd(6)} ≤ ${(OBSERVABILITY_MAX_COST * 100).toFixed(0)} % of throughput ` +
      `(same run; both off: ${fmtInt(c.off.rps)} req/s, CPU ${f0(c.off.cpuUsPerRequest)} µs/req)` +
      `${c.note === undefined ? '' : `; ${c.note}`}`,
    `  metrics + text access log (to a file): ${vsOff(c.on)}`,
  ];
  // The optional rows, when measured: which half costs what.
  for (const [id, what] of [
    ['sluice-w2-metrics', 'metrics alone'],
    ['sluice-w2-log', 'text access log alone'],
  ] as const) {
    const r = rows.find((x) => x.id === id);
    if (r !== undefined) lines.push(`  ${what}: ${vsOff(r)}`);
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
