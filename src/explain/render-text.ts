/** An Explanation as text for people: the chosen path first, then what lost and why. */
import { conditionText } from './resources.ts';
import { entryLabel } from './routes.ts';
import type {
  BackendExplanation,
  Explanation,
  FilterStep,
  GatewayPath,
  MatchSummary,
  Mismatch,
  RouteEntryVerdict,
} from './types.ts';

export function renderText(x: Explanation): string {
  const out: string[] = [];
  const r = x.request;
  out.push(`${r.method} ${r.url}`);
  const extra = r.headers.filter((h) => h.name.toLowerCase() !== 'host').map((h) => `${h.name}: ${h.value}`);
  out.push(
    `  host ${r.host}, port ${r.port}, path ${r.path}${r.query}${extra.length ? `, headers ${extra.join('; ')}` : ''}`,
  );

  if (x.paths.length === 0) {
    out.push(
      '',
      `No Gateway listens on port ${r.port} for ${r.scheme}${r.connectHost !== r.host ? ` at ${r.connectHost}` : ''}.`,
    );
  }
  for (const p of x.paths) out.push('', ...renderPath(p, x));

  const others = x.listeners.filter((l) => l.verdict === 'rejects');
  if (others.length) {
    out.push('', 'Other listeners');
    for (const l of others)
      out.push(`  ${l.name} (${l.protocol} ${l.port}${l.hostname ? ` ${l.hostname}` : ''}): ${l.reasons.join('; ')}`);
  }
  if (x.routesNotServed.length) {
    out.push('', `Routes for ${r.host} not served where this request goes`);
    for (const n of x.routesNotServed) {
      const hosts = n.hostnames.length ? n.hostnames.join(', ') : 'any host';
      out.push(`  ${n.route.kind} ${n.route.namespace}/${n.route.name} (${hosts}): ${n.summary}`);
    }
  }
  if (x.problems.length) {
    out.push('', 'Data plane problems');
    for (const p of x.problems) out.push(`  ${p}`);
  }
  return out.join('\n') + '\n';
}

function renderPath(p: GatewayPath, x: Explanation): string[] {
  const out: string[] = [];
  const gw = p.gateway ? `Gateway ${p.gateway.namespace}/${p.gateway.name}` : 'Socket';
  out.push(`${gw} on ${hostPort(p.address, p.port)} (${p.protocol})`);
  const l = x.listeners.find((v) => v.name === p.listener);
  if (p.listener) {
    const attrs = l
      ? ` (${l.protocol}, port ${l.port}, ${l.hostname ? `hostname ${l.hostname}` : 'any hostname'})`
      : '';
    out.push(`  listener   ${p.listener}${attrs}`);
  }
  if (p.virtualHost) out.push(`  host       ${p.virtualHost}`);
  if (p.route) out.push(`  route      ${entryLabel(p.route)}`, `             matches ${matchText(p.route.match)}`);
  out.push(`  answer     ${p.outcome.summary}`);
  if (p.outcome.body !== undefined) out.push(`             body ${JSON.stringify(truncate(p.outcome.body, 80))}`);
  if (p.upstream) out.push(`  upstream   Host ${p.upstream.host}, ${p.upstream.path}`);

  if (p.filters.length || p.backends.some((b) => b.filters.length)) {
    out.push('  filters, in order');
    for (const f of p.filters) out.push(`    ${filterLine(f)}`);
    for (const b of p.backends) for (const f of b.filters) out.push(`    ${filterLine(f)} (when ${b.name} is picked)`);
  }
  if (p.backends.length) {
    out.push('  backends');
    for (const b of p.backends) out.push(...backendLines(b));
  }
  if (p.traffic) {
    const t = p.traffic;
    const parts = [
      t.requestTimeoutMs !== undefined ? `request timeout ${t.requestTimeoutMs} ms` : '',
      t.backendRequestTimeoutMs !== undefined ? `backend timeout ${t.backendRequestTimeoutMs} ms` : '',
      t.retry ? `retry ${t.retry.attempts} on ${t.retry.codes.join(',') || 'connection errors'}` : '',
      t.sessionPersistence ? 'session persistence' : '',
    ];
    out.push(`  traffic    ${parts.filter((x) => x !== '').join(', ')}`);
  }
  if (p.route) {
    out.push(`  policies   ${p.policies.length ? '' : 'none'}`.trimEnd());
    for (const pol of p.policies) {
      const name = pol.policy ? `${pol.policy.kind} ${pol.policy.namespace}/${pol.policy.name}` : '(from the IR)';
      const conds = pol.conditions.filter((c) => c.status !== 'True').map(conditionText);
      out.push(`    ${name} on ${pol.target}: ${pol.effect}${conds.length ? ` [${conds.join('; ')}]` : ''}`);
    }
  }
  let host: string | undefined;
  for (const e of p.entries) {
    if (e.hostname !== host) {
      host = e.hostname;
      const picked = host === p.virtualHost ? ', in the order the router tries them' : '';
      out.push(`  route entries of virtual host ${host}${picked}`);
    }
    out.push(...entryLines(e));
  }
  return out;
}

const VERDICT: Record<RouteEntryVerdict['verdict'], string> = {
  selected: 'selected',
  'no-match': 'no match',
  'lower-precedence': 'also matches',
  'other-host': 'other host',
  'not-served': 'not served',
};

function entryLines(e: RouteEntryVerdict): string[] {
  const head = `    ${VERDICT[e.verdict].padEnd(12)} ${entryLabel(e)}: ${matchText(e.match)}`;
  const why: string[] = [];
  if (e.verdict === 'no-match') why.push(...e.mismatches.map(mismatchText));
  if (e.reason !== undefined && e.verdict !== 'selected') why.push(e.reason);
  return [head, ...why.map((w) => `                 ${w}`)];
}

function matchText(m: MatchSummary): string {
  const parts = [`${m.path.type} ${m.path.value}`];
  if (m.method !== undefined) parts.push(`method ${m.method}`);
  for (const h of m.headers) parts.push(`header ${h.name} ${h.type} ${JSON.stringify(h.value)}`);
  for (const q of m.queryParams) parts.push(`query ${q.name} ${q.type} ${JSON.stringify(q.value)}`);
  return parts.join(', ');
}

function mismatchText(m: Mismatch): string {
  const got = m.got === null ? 'none' : JSON.stringify(m.got);
  switch (m.on) {
    case 'path':
      return `path ${JSON.stringify(m.got)} is not ${m.want}`;
    case 'method':
      return `method ${m.got} is not ${m.want}`;
    case 'header':
      return `header ${m.name}: wants ${m.want}, request has ${got}`;
    case 'query':
      return `query param ${m.name}: wants ${m.want}, request has ${got}`;
    case 'hostname':
      return `hostname ${m.want} vs ${m.got}`;
  }
}

function filterLine(f: FilterStep): string {
  const phases = f.phases.length ? f.phases.join('+') : 'cannot be built';
  return `${f.type} (${phases}): ${f.summary}`;
}

function backendLines(b: BackendExplanation): string[] {
  const endpoints = b.endpoints.length ? b.endpoints.join(', ') : '(none)';
  const lines = [`    ${`${b.percent}%`.padStart(6)}  ${b.name} weight ${b.weight}, ${b.protocol} → ${endpoints}`];
  if (b.invalid !== undefined) lines.push(`            invalid: ${b.invalid}`);
  for (const n of b.notes) lines.push(`            ${n}`);
  return lines;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
