/**
 * The dashboard page: one EventSource on /api/dashboard/events, a view of
 * the gateway per message (redrawn in place), and a client-side copy of the
 * chart history (the snapshot brings what the server kept, each tick adds a
 * point). Every text from the gateway goes in with textContent, never as
 * HTML. Machine-readable figures sit in data-* attributes (the browser test
 * reads them).
 */
import uPlot from './vendor/uPlot.esm.js';

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#000000', '#f0e442'];

const state = { history: [], windowSeconds: 300, ticks: 0, charts: new Map() };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);
const rate = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

function ms(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const v = seconds * 1000;
  return v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
}

/** `Service/default/app-v1:80` → `default/app-v1:80`; an empty backend is a direct response. */
function backendLabel(name) {
  if (name === '') return 'no backend (answered by the gateway)';
  return name.replace(/^(Service|Backend)\//, '');
}

function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}

function renderSummary(view) {
  const summary = document.getElementById('summary');
  const r = view.reload.last;
  const items = [
    ['Gateways', view.gateways.join(', ') || 'none'],
    ['Sluice', view.sluiceVersion],
    ['Configuration', `v${view.config.version}`],
    ['Ready', view.config.ready ? 'yes' : `no${view.config.reason ? ` (${view.config.reason})` : ''}`],
    [
      'Last reload',
      r
        ? `${r.result} at ${time(r.at)}${r.error ? `: ${r.error}` : ''}${r.problems.length ? ` (${r.problems.length} problems)` : ''}`
        : 'none yet',
      r && r.result !== 'ok' ? 'errors' : '',
    ],
    ['Reloads', `${view.reload.count} (${view.reload.errors} with errors)`],
  ];
  summary.replaceChildren(
    ...items.map(([k, v, cls]) => el('div', {}, el('dt', {}, k), el('dd', { class: cls || undefined }, v))),
  );
  for (const s of document.querySelectorAll('.stats-seconds')) s.textContent = String(view.statsSeconds);
  for (const s of document.querySelectorAll('.window-minutes')) s.textContent = String(view.windowSeconds / 60);
}

/** The history as uPlot columns for one rule: [t, ...per backend values of field (0: rps, 1: share %)]. */
function columns(rule, field) {
  const t = state.history.map((p) => p.t);
  const series = rule.backends.map((b) =>
    state.history.map((p) => {
      const v = p.rules[rule.id]?.[b.name];
      if (v === undefined) return Object.keys(p.rules).length === 0 ? null : field === 0 ? 0 : null;
      return field === 0 ? v[0] : v[1] === null ? null : v[1] * 100;
    }),
  );
  return [t, ...series];
}

/** Dashed horizontal lines at each backend's configured share (split chart only). */
function weightLines(rule) {
  return (u) => {
    const { ctx } = u;
    const { left, width } = u.bbox;
    ctx.save();
    ctx.setLineDash([6, 5]);
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.globalAlpha = 0.55;
    rule.backends.forEach((b, i) => {
      if (b.weightShare === null) return;
      const y = Math.round(u.valToPos(b.weightShare * 100, 'y', true));
      ctx.strokeStyle = COLORS[i % COLORS.length];
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    });
    ctx.restore();
  };
}

function chartOpts(rule, kind, width) {
  const share = kind === 'share';
  return {
    width,
    height: 200,
    scales: {
      x: { time: true },
      y: share ? { range: [0, 100] } : { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
    },
    axes: [{}, { label: share ? '% of requests' : 'requests / s', size: 60 }],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    series: [
      {},
      ...rule.backends.map((b, i) => ({
        label:
          backendLabel(b.name) +
          (share && b.weightShare !== null ? ` · weight ${(b.weightShare * 100).toFixed(0)} %` : ''),
        stroke: COLORS[i % COLORS.length],
        width: 2,
        points: { show: false },
        spanGaps: false,
      })),
    ],
    hooks: share ? { draw: [weightLines(rule)] } : {},
  };
}

/** Charts of one rule; rebuilt when its backends change, otherwise fed new data. */
function renderCharts(panel, rule, statsSeconds) {
  const key = rule.backends.map((b) => `${b.name}=${b.weightShare}`).join('|');
  let c = state.charts.get(rule.id);
  const box = panel.querySelector('.charts');
  const width = Math.max(300, Math.floor((box.clientWidth || 800) / (box.clientWidth > 800 ? 2 : 1)) - 16);
  if (c && c.key !== key) {
    c.share.destroy();
    c.rate.destroy();
    c = undefined;
  }
  if (!c) {
    const alt = 'the table below has the same figures';
    const shareBox = el('figure', {
      class: 'chart chart-share',
      'data-chart': 'share',
      role: 'img',
      'aria-label': `Chart of each backend's share of requests over time, beside its configured weight; ${alt}.`,
    });
    const rateBox = el('figure', {
      class: 'chart chart-rate',
      'data-chart': 'rate',
      role: 'img',
      'aria-label': `Chart of requests per second per backend over time; ${alt}.`,
    });
    box.replaceChildren(
      el(
        'div',
        {},
        el('p', { class: 'chart-title' }, `Observed split (% of requests, last ${statsSeconds} s)`),
        shareBox,
      ),
      el('div', {}, el('p', { class: 'chart-title' }, 'Request rate per backend'), rateBox),
    );
    c = {
      key,
      width,
      share: new uPlot(chartOpts(rule, 'share', width), columns(rule, 1), shareBox),
      rate: new uPlot(chartOpts(rule, 'rate', width), columns(rule, 0), rateBox),
    };
    state.charts.set(rule.id, c);
  } else {
    c.share.setData(columns(rule, 1));
    c.rate.setData(columns(rule, 0));
    if (c.width !== width) {
      c.width = width;
      c.share.setSize({ width, height: 200 });
      c.rate.setSize({ width, height: 200 });
    }
  }
}

function backendTable(rule) {
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, 'Backend'),
    el('th', { scope: 'col', class: 'num' }, 'Weight'),
    el('th', { scope: 'col', class: 'num' }, 'Observed (window)'),
    el('th', { scope: 'col', class: 'num' }, 'Observed (recent)'),
    el('th', { scope: 'col', class: 'num' }, 'Requests'),
    el('th', { scope: 'col', class: 'num' }, 'Req/s'),
    el('th', { scope: 'col', class: 'num' }, 'Success'),
    el('th', { scope: 'col', class: 'num' }, 'p50'),
    el('th', { scope: 'col', class: 'num' }, 'p99'),
    el('th', { scope: 'col' }, 'Errors by code'),
  );
  const rows = rule.backends.map((b, i) => {
    const errors = Object.entries(b.errors);
    return el(
      'tr',
      {
        'data-backend': b.name,
        'data-share': b.share ?? '',
        'data-weight-share': b.weightShare ?? '',
        'data-requests': b.requests,
      },
      el(
        'th',
        { scope: 'row', title: b.name },
        el('span', { class: 'swatch', style: `background:${COLORS[i % COLORS.length]}`, 'aria-hidden': 'true' }),
        backendLabel(b.name),
        b.invalid ? el('span', { class: 'badge bad' }, '✗ invalid ref') : null,
      ),
      el('td', { class: 'num' }, b.weight === null ? 'not configured' : `${b.weight} (${pct(b.weightShare)})`),
      el('td', { class: 'num' }, pct(b.share)),
      el('td', { class: 'num' }, pct(b.recentShare)),
      el('td', { class: 'num' }, String(b.requests)),
      el('td', { class: 'num' }, rate(b.rps)),
      el('td', { class: 'num' }, pct(b.success)),
      el('td', { class: 'num' }, ms(b.p50)),
      el('td', { class: 'num' }, ms(b.p99)),
      el(
        'td',
        { class: errors.length ? 'errors' : '' },
        errors.length ? errors.map(([code, n]) => `${code === '0' ? 'client gone' : code}: ${n}`).join(', ') : 'none',
      ),
    );
  });
  return el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows));
}

function ruleTitle(rule) {
  if (rule.id === 'no_route#') return 'Requests no route matched';
  const kind = rule.kind || 'Route';
  return `${kind} ${rule.route} · rule ${rule.rule}${rule.configured ? '' : ' (no longer configured)'}`;
}

function renderRoutes(view) {
  const box = document.getElementById('routes');
  const keep = new Set(view.rules.map((r) => r.id));
  for (const panel of [...box.children]) {
    const id = panel.getAttribute('data-rule');
    if (!keep.has(id)) {
      const c = state.charts.get(id);
      c?.share.destroy();
      c?.rate.destroy();
      state.charts.delete(id);
      panel.remove();
    }
  }
  if (view.rules.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No HTTP or gRPC routes configured.'));
    return;
  }
  box.querySelector('.empty')?.remove();
  view.rules.forEach((rule, i) => {
    let panel = [...box.children].find((p) => p.getAttribute('data-rule') === rule.id);
    if (!panel) {
      panel = el(
        'article',
        { class: 'route', 'data-rule': rule.id, 'aria-label': ruleTitle(rule) },
        el('h3', {}, ruleTitle(rule)),
        el('p', { class: 'meta' }),
        el('div', { class: 'charts' }),
        el('div', { class: 'table' }),
      );
      box.append(panel);
    }
    if (box.children[i] !== panel) box.insertBefore(panel, box.children[i]);
    panel.setAttribute('data-requests', String(rule.requests));
    panel.setAttribute(
      'data-observed',
      JSON.stringify(Object.fromEntries(rule.backends.map((b) => [b.name, b.share]))),
    );
    const meta = [
      rule.hostnames.length ? `hosts ${rule.hostnames.join(', ')}` : '',
      rule.listeners.length ? `listeners ${rule.listeners.join(', ')}` : '',
      `${rule.requests} requests in the window`,
      `${rate(rule.rps)} req/s now`,
    ];
    panel.querySelector('.meta').textContent = meta.filter(Boolean).join(' · ');
    renderCharts(panel, rule, view.statsSeconds);
    panel.querySelector('.table').replaceChildren(backendTable(rule));
  });
}

function renderEvents(view) {
  const box = document.getElementById('events');
  const parts = [];
  const minutes = view.windowSeconds / 60;
  if (view.upstream.length === 0) {
    parts.push(
      el('p', { class: 'empty' }, `No retries, timeouts, resets or connect failures in the last ${minutes} minutes.`),
    );
  } else {
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col' }, 'Backend'),
      el('th', { scope: 'col', class: 'num' }, 'Retries'),
      el('th', { scope: 'col', class: 'num' }, 'Timeouts'),
      el('th', { scope: 'col', class: 'num' }, 'Resets'),
      el('th', { scope: 'col', class: 'num' }, 'Connect failures'),
    );
    const rows = view.upstream.map((u) =>
      el(
        'tr',
        { 'data-backend': u.backend },
        el('th', { scope: 'row', title: u.backend }, backendLabel(u.backend)),
        el('td', { class: 'num' }, String(u.retries)),
        el('td', { class: 'num' }, String(u.timeouts)),
        el('td', { class: 'num' }, String(u.resets)),
        el('td', { class: 'num' }, String(u.connectFailures)),
      ),
    );
    parts.push(
      el('p', { class: 'hint' }, `Last ${minutes} minutes.`),
      el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)),
    );
  }
  if (!view.policies.rateLimit && !view.policies.circuitBreaker) {
    parts.push(el('p', { class: 'note' }, 'No rate-limit or circuit-breaker policy configured.'));
  }
  box.replaceChildren(...parts);
}

function badge(c) {
  const cls = c.ok ? 'ok' : c.status === 'Unknown' ? 'warn' : 'bad';
  const mark = c.ok ? '✓' : c.status === 'Unknown' ? '?' : '✗';
  return el(
    'span',
    {
      class: `badge ${cls}`,
      title: `${c.type}=${c.status}: ${c.reason}${c.message ? ` – ${c.message}` : ''}`,
      'data-condition': c.type,
      'data-status': c.status,
    },
    `${mark} ${c.type}`,
  );
}

function renderStatus(view) {
  const box = document.getElementById('status');
  if (view.status.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No Gateways or routes.'));
    return;
  }
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, 'Kind'),
    el('th', { scope: 'col' }, 'Name'),
    el('th', { scope: 'col' }, 'Parent'),
    el('th', { scope: 'col', class: 'num' }, 'Attached routes'),
    el('th', { scope: 'col' }, 'Conditions'),
  );
  const rows = view.status.map((r) =>
    el(
      'tr',
      { 'data-kind': r.kind, 'data-name': r.name },
      el('td', {}, r.kind),
      el('th', { scope: 'row' }, r.name),
      el('td', {}, r.parent ?? ''),
      el('td', { class: 'num' }, r.attachedRoutes === undefined ? '' : String(r.attachedRoutes)),
      el('td', {}, ...(r.conditions.length ? r.conditions.map(badge) : ['no status yet'])),
    ),
  );
  box.replaceChildren(el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function render(view) {
  state.windowSeconds = view.windowSeconds;
  renderSummary(view);
  renderRoutes(view);
  renderEvents(view);
  renderStatus(view);
}

function setConnection(s, text) {
  document.body.setAttribute('data-state', s);
  document.getElementById('connection').textContent = text;
}

function connect() {
  const source = new EventSource('/api/dashboard/events');
  source.addEventListener('open', () => setConnection('live', 'Live'));
  source.addEventListener('snapshot', (e) => {
    const data = JSON.parse(e.data);
    state.history = data.history;
    render(data.view);
    setConnection('live', 'Live');
  });
  source.addEventListener('tick', (e) => {
    const data = JSON.parse(e.data);
    state.history.push(data.point);
    const oldest = data.point.t - state.windowSeconds;
    while (state.history.length > 0 && state.history[0].t <= oldest) state.history.shift();
    render(data.view);
    state.ticks++;
    document.body.setAttribute('data-ticks', String(state.ticks));
    setConnection('live', `Live · updated ${new Date(data.view.at).toLocaleTimeString()}`);
  });
  source.addEventListener('problem', (e) => {
    setConnection('live', `Live · last sample failed: ${JSON.parse(e.data).message}`);
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself (the server asks for 2 s); say so meanwhile.
    if (source.readyState !== EventSource.OPEN)
      setConnection('reconnecting', 'Disconnected from the gateway; reconnecting…');
  });
}

connect();
