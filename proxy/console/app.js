// PromptWall console: a small single-page app over the admin API. Every value that came from
// traffic or users is put on the page as text (textContent), never as HTML.
'use strict';

const S = { me: null, csrf: null, tenant: null };

// ---- DOM helpers -----------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const main = () => document.getElementById('main');
function page(title, ...children) {
  const m = main();
  m.replaceChildren(h('h1', {}, title), ...children);
  document.title = `${title} · PromptWall`;
  m.focus();
}
function badge(action) { return h('span', { class: `badge ${action || ''}` }, action || '–'); }
function status(el, text, isError) { el.textContent = text || ''; el.classList.toggle('error', !!isError); }
function empty(text) { return h('div', { class: 'empty' }, text); }
function fmtTime(t) { return t ? t.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : ''; }

// ---- API ---------------------------------------------------------------------------------
class ApiError extends Error { constructor(status, message, data) { super(message); this.status = status; this.data = data; } }

async function api(method, path, body, raw) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = S.csrf || '';
  let payload;
  if (body !== undefined) {
    if (raw) { payload = body; headers['content-type'] = 'application/yaml'; }
    else { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await r.text();
  let data = text;
  if ((r.headers.get('content-type') || '').startsWith('application/json')) {
    try { data = JSON.parse(text); } catch (_) { data = {}; }
  }
  if (r.status === 401 && path !== '/ui/login') {
    S.me = null;
    showLogin('Your session has expired. Sign in again.');
    throw new ApiError(401, 'signed out');
  }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || text || r.statusText, data);
  return data;
}

// ---- Roles, menu and routing ------------------------------------------------------------
const PAGES = [
  { id: 'overview', title: 'Overview', roles: ['superadmin', 'auditor', 'investigator'] },
  { id: 'log', title: 'Usage log', roles: ['superadmin', 'auditor', 'investigator'] },
  { id: 'risk', title: 'Risk', roles: ['superadmin', 'auditor', 'investigator'] },
  { id: 'policies', title: 'Policies', roles: ['superadmin', 'admin'] },
  { id: 'rules', title: 'Rules', roles: ['superadmin', 'admin', 'auditor', 'investigator'] },
];
function allowed(id) {
  const p = PAGES.find(x => x.id === id);
  return !!(S.me && p && p.roles.includes(S.me.role));
}
function renderChrome(current) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(...(S.me ? PAGES.filter(p => allowed(p.id)).map(p =>
    h('a', { href: `#/${p.id}`, 'aria-current': p.id === current ? 'page' : null, id: `nav-${p.id}` }, p.title)) : []));
  const who = document.getElementById('who');
  who.replaceChildren(...(S.me ? [
    h('span', {}, `${S.me.name} · ${S.me.role}${S.me.tenant ? ` · ${S.me.tenant}` : ''}`),
    h('button', { type: 'button', id: 'signout', onclick: signOut }, 'Sign out'),
  ] : []));
}
async function route() {
  const [, name, arg] = (location.hash || '#/').split('/');
  if (!S.me) {
    try {
      const me = await api('GET', '/v1/session');
      S.me = me; S.csrf = me.csrf; S.tenant = me.tenant;
    } catch (e) { if (e.status !== 401) showLogin(e.message); return; }
  }
  const first = PAGES.find(p => allowed(p.id));
  const id = name || (first && first.id);
  renderChrome(id === 'event' ? 'log' : id);
  if (id === 'event' && allowed('log')) return eventPage(decodeURIComponent(arg || ''));
  if (!allowed(id)) {
    return page('Not available', h('p', { class: 'panel', role: 'alert', id: 'denied' },
      'Your role does not include this page.'));
  }
  ({ overview: overviewPage, log: logPage, risk: riskPage, policies: policiesPage, rules: rulesPage })[id]();
}
window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);

// ---- Sign-in ------------------------------------------------------------------------------
function showLogin(message) {
  renderChrome(null);
  const msg = h('p', { class: 'status error', role: 'alert', id: 'login-status' }, message || '');
  const token = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'panel login', id: 'login-form', onsubmit: async ev => {
    ev.preventDefault();
    try {
      const me = await api('POST', '/ui/login', { token: token.value });
      S.me = me; S.csrf = me.csrf; S.tenant = me.tenant;
      token.value = '';
      location.hash = '#/';
      route();
    } catch (e) { status(msg, e.status === 401 ? 'That token is not valid.' : e.message, true); }
  } },
  h('h1', {}, 'Sign in'),
  h('label', { for: 'token' }, 'Admin token', token),
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'signin' }, 'Sign in')),
  msg);
  main().replaceChildren(form);
  document.title = 'Sign in · PromptWall';
  token.focus();
}
async function signOut() {
  try { await api('POST', '/ui/logout', {}); } catch (_) { /* signed out either way */ }
  S.me = null; S.csrf = null;
  showLogin('You are signed out.');
}

function confirmDialog(text, okLabel) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise(resolve => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

// The tenant a superadmin looks at (others have exactly one).
function tenantPicker(onchange) {
  if (S.me.tenant) return h('span', { class: 'muted' }, `Tenant: ${S.me.tenant}`);
  const input = h('input', { id: 'tenant', value: S.tenant || '', placeholder: 'all tenants', size: 14,
    onchange: () => { S.tenant = input.value.trim() || null; onchange(); } });
  return h('label', { for: 'tenant' }, 'Tenant', input);
}
function tenantParam(params) { if (S.tenant) params.set('tenant', S.tenant); return params; }

// ---- Overview -----------------------------------------------------------------------------
const RANGES = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 };
function sinceFor(hours) { return new Date(Date.now() - hours * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z'); }

async function overviewPage() {
  const range = h('select', { id: 'range', onchange: () => load() },
    Object.keys(RANGES).map(k => h('option', { value: k }, k)));
  range.value = '7d';
  const body = h('div', { id: 'overview-body' }, h('p', { class: 'muted' }, 'Loading…'));
  page('Overview', h('div', { class: 'row panel' }, h('label', { for: 'range' }, 'Time range', range), tenantPicker(() => load())), body);
  async function stats(by, extra) {
    const p = tenantParam(new URLSearchParams({ by, since: sinceFor(RANGES[range.value]) }));
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return (await api('GET', `/v1/audit/stats?${p}`)).counts;
  }
  async function load() {
    const by = range.value === '24h' ? 'hour' : 'day';
    try {
      const req = { kind: 'ai_request' };
      const dp = tenantParam(new URLSearchParams({ since: sinceFor(RANGES[range.value]) }));
      const [all, blocks, redacts, coach, cats, rules, users, providers, dests] = await Promise.all([
        stats(by, req), stats(by, { ...req, action: 'block' }), stats(by, { ...req, action: 'redact' }),
        stats(by, { ...req, action: 'coach' }), stats('category', req), stats('rule', req), stats('user', req),
        stats('provider', req), api('GET', `/v1/audit/destinations?${dp}`).then(r => r.destinations)]);
      const total = all.reduce((n, r) => n + r.count, 0);
      if (!total) { body.replaceChildren(empty('No AI requests in this range yet.')); return; }
      const sum = rows => rows.reduce((n, r) => n + r.count, 0);
      body.replaceChildren(
        h('div', { class: 'grid' },
          tile('Requests', total, 'tile-requests'), tile('Blocked', sum(blocks), 'tile-blocks'),
          tile('Redacted', sum(redacts), 'tile-redacts'), tile('Coached', sum(coach), 'tile-coach')),
        h('section', { class: 'panel', 'aria-labelledby': 'over-time' },
          h('h2', { id: 'over-time' }, 'Over time'),
          chart(all, { block: blocks, redact: redacts, coach }),
          h('div', { class: 'legend' }, h('span', { class: 'requests' }, 'requests'), h('span', { class: 'blocks' }, 'blocked'),
            h('span', { class: 'redacts' }, 'redacted'), h('span', { class: 'coach' }, 'coached'))),
        h('div', { class: 'grid' },
          top('Top categories', cats, 'category'), top('Top rules', rules, 'rule'),
          top('Top users', users, 'user'), top('Providers', providers, 'provider')),
        h('section', { class: 'panel', 'aria-labelledby': 'dest' }, h('h2', { id: 'dest' }, 'AI destinations (shadow AI)'),
          h('p', { class: 'muted' }, 'Every AI service your users reached in this range: sanctioned (inspected), tunnelled unread by policy, or blocked as unsanctioned.'),
          dests.length ? h('table', { id: 'destinations' }, h('thead', {}, h('tr', {}, ['Host', 'Provider', 'Status', 'Users', 'Events'].map((t, i) => h('th', { scope: 'col', class: i > 2 ? 'num' : null }, t)))),
            h('tbody', {}, dests.map(d => h('tr', {}, h('td', {}, d.host), h('td', {}, d.provider),
              h('td', {}, h('span', { class: `badge ${d.status === 'sanctioned' ? 'allow' : d.status === 'blocked' ? 'block' : 'redact'}` }, d.status)),
              h('td', { class: 'num' }, d.users), h('td', { class: 'num' }, d.events))))) : empty('None')));
    } catch (e) { if (e.status !== 401) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)); }
  }
  function tile(label, n, id) {
    return h('div', { class: 'panel', id }, h('div', { class: 'muted' }, label), h('div', { class: 'num big' }, n.toLocaleString()));
  }
  function top(title, rows, filter) {
    return h('section', { class: 'panel' }, h('h2', {}, title), rows.length ? table([title.replace('Top ', ''), 'Requests'],
      rows.slice(0, 8).map(r => [h('a', { href: `#/log?${filter}=${encodeURIComponent(r.key)}` }, r.key), r.count])) : empty('None'));
  }
  load();
}

function table(headers, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t)))),
    h('tbody', {}, rows.map(r => h('tr', {}, r.map((c, i) => h('td', { class: i ? 'num' : null }, c))))));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
// Bars per time bucket, with blocked / redacted / coached overlaid; drawn as SVG, no library.
function chart(all, overlays) {
  const W = 1000, H = 190, pad = 24;
  const keys = all.map(r => r.key).sort();
  const count = (rows, k) => (rows.find(r => r.key === k) || { count: 0 }).count;
  const max = Math.max(1, ...keys.map(k => count(all, k)));
  const bw = Math.min((W - pad) / Math.max(keys.length, 1), 90);
  const s = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Requests per bucket, ${keys.length} buckets` });
  keys.forEach((k, i) => {
    const x = pad + i * bw, y = v => H - pad - (H - 2 * pad) * v / max;
    const n = count(all, k);
    s.append(svg('rect', { class: 'bar', x, y: y(n), width: Math.max(bw - 3, 1), height: H - pad - y(n) },),
    );
    let base = 0;
    for (const [cls, rows] of [['blocks', overlays.block], ['redacts', overlays.redact], ['coach', overlays.coach]]) {
      const m = count(rows, k);
      if (!m) continue;
      s.append(svg('rect', { class: cls, x: x + bw * 0.25, y: y(base + m), width: Math.max(bw / 2 - 2, 1), height: y(base) - y(base + m) }));
      base += m;
    }
    if (keys.length <= 31 || i % Math.ceil(keys.length / 12) === 0) {
      s.append(svg('text', { x: x + 2, y: H - 6 }, k.length > 10 ? k.slice(11) + 'h' : k.slice(5)));
    }
  });
  s.append(svg('text', { x: 0, y: 12 }, String(max)));
  return s;
}

// ---- Usage log ----------------------------------------------------------------------------
const FILTERS = ['user', 'group', 'provider', 'model', 'action', 'category', 'entity', 'rule', 'kind', 'since', 'until'];
function logPage() {
  const initial = new URLSearchParams((location.hash.split('?')[1]) || '');
  const inputs = {};
  const fields = FILTERS.map(f => {
    const attrs = { id: `f-${f}`, name: f, value: initial.get(f) || '' };
    if (f === 'since' || f === 'until') attrs.placeholder = '2026-12-01T00:00:00Z';
    inputs[f] = f === 'action'
      ? h('select', attrs, ['', 'allow', 'log', 'redact', 'coach', 'block', 'pass', 'refused'].map(v => h('option', { value: v }, v || 'any')))
      : f === 'kind'
        ? h('select', attrs, ['', 'ai_request', 'ai_response', 'passthrough', 'refused', 'admin'].map(v => h('option', { value: v }, v || 'any')))
        : h('input', attrs);
    if (inputs[f].tagName === 'SELECT') inputs[f].value = initial.get(f) || '';
    return h('label', { for: `f-${f}` }, f, inputs[f]);
  });
  const rows = h('tbody', { id: 'log-rows' });
  const more = h('button', { type: 'button', class: 'secondary', id: 'older', hidden: true }, 'Older events');
  const msg = h('p', { class: 'status', role: 'status', id: 'log-status' });
  const exportCsv = h('a', { id: 'export-csv', download: 'promptwall-events.csv' }, 'Export CSV');
  const exportJsonl = h('a', { id: 'export-jsonl', download: 'promptwall-events.jsonl' }, 'Export JSONL');
  // Paging: by `seq` on one node's log, by time on the fleet's (ClickHouse).
  let before = null, until = null;
  function params() {
    const p = tenantParam(new URLSearchParams());
    for (const f of FILTERS) if (inputs[f].value.trim()) p.set(f, inputs[f].value.trim());
    return p;
  }
  async function load(reset) {
    if (reset) { rows.replaceChildren(); before = null; until = null; }
    const p = params();
    p.set('order', 'newest'); p.set('limit', '50');
    if (before) p.set('before', before);
    if (until) p.set('until', until);
    const ex = params(); ex.set('order', 'newest'); ex.set('limit', '10000');
    exportCsv.href = `/v1/audit/events?${ex}&format=csv`;
    exportJsonl.href = `/v1/audit/events?${ex}&format=jsonl`;
    try {
      const r = await api('GET', `/v1/audit/events?${p}`);
      for (const e of r.events) rows.append(logRow(e));
      before = r.next_before || null;
      until = r.next_time || null;
      more.hidden = r.events.length < 50;
      status(msg, rows.children.length ? `${rows.children.length} events shown, newest first.` : 'No events match these filters.');
    } catch (e) { if (e.status !== 401) status(msg, e.message, true); }
  }
  more.addEventListener('click', () => load(false));
  const form = h('form', { class: 'panel', id: 'log-filters', onsubmit: ev => { ev.preventDefault(); load(true); } },
    h('div', { class: 'filters' }, fields, tenantPicker(() => load(true))),
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'search' }, 'Search'), exportCsv, exportJsonl));
  page('Usage log', form, msg, h('div', { class: 'panel' }, h('table', { id: 'log-table' },
    h('thead', {}, h('tr', {}, ['Time', 'Kind', 'User', 'Provider', 'Model', 'Endpoint', 'Decision', 'Rules'].map(t => h('th', { scope: 'col' }, t)))),
    rows), h('div', { class: 'row' }, more)));
  load(true);
}
function logRow(e) {
  const open = () => { location.hash = `#/event/${encodeURIComponent(e.id)}`; };
  const link = h('a', { href: `#/event/${encodeURIComponent(e.id)}` }, fmtTime(e.time));
  return h('tr', { class: 'link', onclick: ev => { if (ev.target !== link) open(); } },
    h('td', {}, link), h('td', {}, e.kind), h('td', {}, e.user || '–'), h('td', {}, e.provider || e.host),
    h('td', {}, e.model || '–'), h('td', {}, e.endpoint || '–'), h('td', {}, badge(e.decision)),
    h('td', {}, (e.reasons || []).map(r => r.rule).join(', ')));
}

// ---- Insider risk -------------------------------------------------------------------------
function riskPage() {
  const day = h('input', { id: 'risk-day', type: 'date', value: new Date().toISOString().slice(0, 10) });
  const baseline = h('select', { id: 'risk-baseline' }, [14, 28, 56].map(n => h('option', { value: n }, `${n} days`)));
  baseline.value = '28';
  const all = h('input', { id: 'risk-all', type: 'checkbox' });
  const out = h('div', { id: 'risk-result', 'aria-live': 'polite' });
  async function load() {
    out.replaceChildren(h('p', { class: 'muted' }, 'Assessing…'));
    const p = tenantParam(new URLSearchParams({ day: day.value, baseline: baseline.value }));
    try {
      const r = await api('GET', `/v1/risk/${all.checked ? 'users' : 'alerts'}?${p}`);
      if (!r.users.length) { out.replaceChildren(empty(all.checked ? 'No AI use on this day.' : 'No user stands out on this day.')); return; }
      const mayReveal = ['superadmin', 'investigator'].includes(S.me.role);
      out.replaceChildren(...r.users.map(u => h('section', { class: 'panel risk-user' },
        h('h2', {}, u.user, ' ', u.alert ? h('span', { class: 'badge block' }, 'alert') : h('span', { class: 'badge' }, 'usual'),
          u.pseudonymous ? h('span', { class: 'badge' }, 'pseudonym') : null,
          h('span', { class: 'muted' }, ` score ${u.score.toFixed(1)} · ${(u.groups || []).join(', ')}`),
          u.pseudonymous && mayReveal ? revealButton(u) : null),
        u.reasons.length ? h('ul', {}, u.reasons.map(x => h('li', {}, x))) : h('p', { class: 'muted' }, 'Within the usual range.'),
        h('table', {}, h('thead', {}, h('tr', {}, ['Signal', 'Today', 'Usual', 'z', 'Peers', 'Peers z'].map(t => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, u.signals.map(s => h('tr', { class: s.alerting ? 'alerting' : null }, h('td', {}, s.name), h('td', { class: 'num' }, +s.value.toFixed(2)),
            h('td', { class: 'num' }, +s.baseline_median.toFixed(2)), h('td', { class: 'num' }, s.z === null ? '–' : s.z.toFixed(1)),
            h('td', { class: 'num' }, s.peer_median === null ? '–' : +s.peer_median.toFixed(2)), h('td', { class: 'num' }, s.peer_z === null ? '–' : s.peer_z.toFixed(1)))))),
        u.events.length ? h('p', {}, 'Events: ', u.events.slice(0, 20).map(id => [h('a', { href: `#/event/${encodeURIComponent(id)}` }, id), ' '])) : null)));
    } catch (e) { if (e.status !== 401) out.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)); }
  }
  page('Insider risk',
    h('p', { class: 'muted' }, "Each user's day against their own baseline and their peers (median and MAD). Alerts name their signals and the events behind them, never content."),
    h('form', { class: 'panel row', onsubmit: ev => { ev.preventDefault(); load(); } },
      h('label', { for: 'risk-day' }, 'Day', day), h('label', { for: 'risk-baseline' }, 'Baseline', baseline),
      h('label', { for: 'risk-all' }, 'Every user', all), tenantPicker(() => load()), h('button', { type: 'submit', id: 'risk-go' }, 'Assess')),
    out);
  load();
}

// Reveals the user behind a pseudonym (investigators and superadmins); the server audits it.
function revealButton(u) {
  const shown = h('span', { class: 'revealed', role: 'status' });
  const b = h('button', { type: 'button', class: 'reveal', onclick: async () => {
    if (!(await confirmDialog(`Reveal who ${u.user} is? The reveal is recorded in the audit log under your name.`, 'Reveal'))) return;
    try {
      const r = await api('POST', `/v1/risk/reveal?${new URLSearchParams({ tenant: u.tenant })}`, { pseudonym: u.user });
      shown.textContent = ` = ${r.user}`;
      b.remove();
    } catch (e) { if (e.status !== 401) shown.textContent = ` ${e.message}`; }
  } }, 'Reveal');
  return h('span', {}, ' ', b, shown);
}

// ---- One exchange -------------------------------------------------------------------------
async function eventPage(id) {
  page('Event', h('p', { class: 'muted' }, 'Loading…'));
  let r;
  try { r = await api('GET', `/v1/audit/events/${encodeURIComponent(id)}${S.tenant ? `?tenant=${encodeURIComponent(S.tenant)}` : ''}`); }
  catch (e) { if (e.status !== 401) page('Event', h('p', { class: 'panel error', role: 'alert', id: 'event-error' }, e.message)); return; }
  const req = r.events.find(e => e.kind !== 'ai_response' && e.kind !== 'passthrough_response') || r.events[0];
  const resp = r.events.find(e => e.kind === 'ai_response' || e.kind === 'passthrough_response');
  const facts = pairs => h('dl', { class: 'facts' }, pairs.filter(p => p[1] !== undefined && p[1] !== null && p[1] !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const verifyMsg = h('span', { role: 'status', id: 'verify-status' });
  const verify = h('button', { type: 'button', class: 'secondary', id: 'verify', onclick: async () => {
    status(verifyMsg, 'Verifying…');
    try { const v = await api('POST', '/v1/audit/verify', {}); status(verifyMsg, `The hash chain verifies: ${v.rows} rows.`); }
    catch (e) { if (e.status !== 401) status(verifyMsg, `Verification failed: ${e.message}`, true); }
  } }, 'Verify the log');
  const reasons = req.reasons || [];
  page(`Event ${id}`,
    h('div', { class: 'grid2' },
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Decision'), h('p', {}, badge(req.decision), ' ', req.mode ? `mode ${req.mode}` : '', ` · policy v${req.policy_version}`),
          reasons.length ? h('table', { id: 'reasons' }, h('thead', {}, h('tr', {}, ['Rule', 'Action', 'Category', 'Entity', 'Count', 'Score'].map(t => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, reasons.map(x => h('tr', {}, h('td', {}, x.rule), h('td', {}, badge(x.action)), h('td', {}, x.category || '–'),
              h('td', {}, x.entity), h('td', { class: 'num' }, x.count), h('td', { class: 'num' }, Number(x.max_score).toFixed(2))))))
            : h('p', { class: 'muted' }, 'No rule matched.')),
        h('section', { class: 'panel' }, h('h2', {}, 'Coverage'),
          facts([['Texts read', req.segments], ['Skipped', req.skipped], ['Classifier', req.classifier], ['Labels', (req.labels || []).join(', ')]]),
          req.coverage ? h('pre', { id: 'coverage' }, JSON.stringify(req.coverage, null, 2)) : null),
        resp ? h('section', { class: 'panel', id: 'response' }, h('h2', {}, 'Response'),
          facts([['Status', resp.status], ['Decision', resp.response_decision || 'passed'], ['Rules', (resp.response_rules || []).join(', ')],
            ['Input tokens', resp.input_tokens], ['Output tokens', resp.output_tokens], ['Bytes', resp.response_bytes]]))
          : h('section', { class: 'panel', id: 'response' }, h('h2', {}, 'Response'), h('p', { class: 'muted' },
            ['block', 'coach', 'refused'].includes(req.decision) || req.kind === 'refused'
              ? 'None: the request was not sent upstream.' : 'No response record (yet).'))),
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Who and where'),
          facts([['Time', fmtTime(req.time)], ['Tenant', req.tenant], ['User', req.user], ['Groups', (req.groups || []).join(', ')],
            ['Client', req.client_addr], ['Provider', req.provider], ['Host', req.host], ['Model', req.model], ['Endpoint', req.endpoint],
            ['Tool', req.tool], ['Kind', req.kind], ['Status', req.status]])),
        h('section', { class: 'panel' }, h('h2', {}, 'Timings'),
          facts([['Inspection', `${req.inspect_us} µs`], ['Upstream', resp ? `${resp.upstream_ms} ms` : null], ['Total', resp ? `${resp.total_ms} ms` : `${req.total_ms} ms`]])),
        h('section', { class: 'panel' }, h('h2', {}, 'Integrity'), h('p', { class: 'muted' }, `Record hash ${String(req.hash).slice(0, 16)}…`),
          h('div', { class: 'row' }, verify, verifyMsg)))));
}

// ---- Policies -----------------------------------------------------------------------------
async function policiesPage() {
  const tenant = S.me.tenant || S.tenant || 'default';
  const tenantInput = S.me.tenant ? null : h('input', { id: 'policy-tenant', value: tenant, size: 14 });
  const errors = h('ul', { class: 'errors', id: 'policy-errors', 'aria-live': 'polite' });
  const msg = h('p', { class: 'status', role: 'status', id: 'policy-status' });
  const area = h('textarea', { id: 'policy-yaml', 'aria-label': 'Policy YAML' });
  const diff = h('pre', { id: 'policy-diff', hidden: true });
  const history = h('div', { id: 'policy-history' });
  const dryText = h('textarea', { id: 'dry-text', 'aria-label': 'Prompt to try' });
  const dryOut = h('div', { id: 'dry-result', 'aria-live': 'polite' });
  const apply = h('button', { type: 'button', id: 'apply' }, 'Apply');
  page('Policies',
    h('div', { class: 'row panel' }, tenantInput ? h('label', { for: 'policy-tenant' }, 'Tenant', tenantInput) : h('span', { class: 'muted' }, `Tenant: ${tenant}`),
      tenantInput ? h('button', { type: 'button', class: 'secondary', onclick: () => { S.tenant = tenantInput.value.trim(); policiesPage(); } }, 'Open') : null),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', {}, 'Editor'), area, errors,
        h('div', { class: 'row' }, apply, h('button', { type: 'button', class: 'secondary', id: 'show-diff', onclick: showDiff }, 'Diff against running')), msg, diff),
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Dry run'), h('p', { class: 'muted' }, 'Paste a prompt: it is decided with the draft in the editor. The text is shown only to you and never logged.'),
          dryText, h('div', { class: 'row' }, h('button', { type: 'button', id: 'dry-run', onclick: dryRun }, 'Dry run')), dryOut),
        h('section', { class: 'panel' }, h('h2', {}, 'History'), history))));
  let cm = null;
  const value = () => (cm ? cm.getValue() : area.value);
  let running;
  try { running = await api('GET', `/v1/policies/${encodeURIComponent(tenant)}`); }
  catch (e) { if (e.status !== 401) status(msg, e.message, true); return; }
  area.value = running.yaml;
  if (window.CodeMirror) {
    cm = window.CodeMirror.fromTextArea(area, { mode: 'yaml', lineNumbers: true, indentUnit: 2, tabSize: 2,
      extraKeys: { Tab: c => c.replaceSelection('  '), 'Esc': c => c.getInputField().blur() } });
    cm.on('change', schedule);
  } else area.addEventListener('input', schedule);
  let timer = null, marked = [];
  function schedule() { clearTimeout(timer); timer = setTimeout(validate, 300); }
  async function validate() {
    for (const l of marked) cm && cm.removeLineClass(l, 'background', 'cm-error-line');
    marked = [];
    try {
      const r = await api('POST', `/v1/policies/${encodeURIComponent(tenant)}/validate`, value(), true);
      errors.replaceChildren();
      status(msg, `Valid: ${r.rules} rules.`);
      apply.disabled = false;
      return true;
    } catch (e) {
      if (e.status === 401) return false;
      showErrors(e.data && e.data.errors, e.message);
      apply.disabled = true;
      return false;
    }
  }
  function showErrors(list, fallback) {
    if (!list || !list.length) { errors.replaceChildren(h('li', { class: 'error' }, fallback)); return; }
    errors.replaceChildren(...list.map(x => {
      if (cm && x.line) { const l = cm.getLineHandle(x.line - 1); if (l) { cm.addLineClass(l, 'background', 'cm-error-line'); marked.push(l); } }
      return h('li', { class: 'error' }, `Line ${x.line || '?'}, column ${x.column || '?'}: ${x.message}${x.field ? ` (field ${x.field})` : ''}`);
    }));
    status(msg, 'The draft has errors.', true);
  }
  async function showDiff() {
    try {
      const d = await api('POST', `/v1/policies/${encodeURIComponent(tenant)}/draft-diff`, value(), true);
      diff.replaceChildren(...String(d).split('\n').map(l => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : null }, l + '\n')));
      diff.hidden = false;
    } catch (e) { if (e.status !== 401) status(msg, e.message, true); }
  }
  apply.addEventListener('click', async () => {
    if (!(await validate())) return;
    try {
      const v = await api('PUT', `/v1/policies/${encodeURIComponent(tenant)}`, value(), true);
      status(msg, `Applied as version ${v.version}.`);
      loadHistory();
    } catch (e) { if (e.status !== 401) status(msg, e.message, true); }
  });
  async function dryRun() {
    dryOut.replaceChildren(h('p', { class: 'muted' }, 'Deciding…'));
    try {
      const r = await api('POST', `/v1/policies/${encodeURIComponent(tenant)}/dry-run`, { text: dryText.value, policy: value() });
      const labels = Object.entries(r.labels || {}).filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${v.toFixed(2)}`);
      dryOut.replaceChildren(
        h('p', { id: 'dry-action' }, 'Decision: ', badge(r.action), r.message ? ` — ${r.message}` : ''),
        h('div', { class: 'runs', id: 'dry-runs' }, runsOf(r.runs)),
        (r.reasons || []).length ? h('ul', { id: 'dry-reasons' }, r.reasons.map(x => h('li', {}, `${x.rule}: ${x.action} (${x.category || 'label'} ${x.entity}, ×${x.count})`))) : h('p', { class: 'muted' }, 'No rule matched.'),
        h('p', { class: 'muted' }, labels.length ? `Classifier: ${labels.join(', ')}` : 'Classifier: no label above 0.5'));
    } catch (e) {
      if (e.status === 401) return;
      const list = e.data && e.data.errors;
      dryOut.replaceChildren(h('p', { class: 'error', role: 'alert' }, list ? 'Fix the draft first.' : e.message));
      if (list) showErrors(list, e.message);
    }
  }
  async function loadHistory() {
    try {
      const r = await api('GET', `/v1/policies/${encodeURIComponent(tenant)}/history`);
      const versions = (r.versions || []).slice().reverse();
      history.replaceChildren(versions.length ? h('table', { id: 'history-table' },
        h('thead', {}, h('tr', {}, ['Version', 'Author', 'Time', 'Action', ''].map(t => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, versions.map((v, i) => h('tr', {}, h('td', {}, `v${v.version}`), h('td', {}, v.author), h('td', {}, fmtTime(v.time)),
          h('td', {}, v.action + (v.restored ? ` (from v${v.restored})` : '')),
          h('td', {}, i === 0 ? h('span', { class: 'muted' }, 'running') : h('button', { type: 'button', class: 'secondary', id: `rollback-${v.version}`,
            onclick: () => rollback(v.version) }, `Roll back to v${v.version}`))))))
        : empty('No versions applied through PromptWall yet.'));
    } catch (e) { if (e.status !== 401) history.replaceChildren(h('p', { class: 'error' }, e.message)); }
  }
  async function rollback(version) {
    if (!(await confirmDialog(`Make version ${version} the running policy for ${tenant}? Traffic is decided by it at once.`, `Roll back to v${version}`))) return;
    try {
      const v = await api('POST', `/v1/policies/${encodeURIComponent(tenant)}/rollback/${version}`, {});
      status(msg, `Rolled back: version ${v.version} restores v${version}.`);
      const p = await api('GET', `/v1/policies/${encodeURIComponent(tenant)}`);
      if (cm) cm.setValue(p.yaml); else area.value = p.yaml;
      loadHistory();
    } catch (e) { if (e.status !== 401) status(msg, e.message, true); }
  }
  loadHistory();
  validate();
}

function runsOf(runs) {
  return (runs || []).map(r => r.rule
    ? h('mark', { title: `${r.rule} (${r.category} ${r.entity})`, 'data-rule': r.rule }, r.text)
    : document.createTextNode(r.text));
}

// ---- Rules ---------------------------------------------------------------------------------
function rulesPage() {
  const q = h('input', { id: 'rule-q', type: 'search', placeholder: 'id, entity or words', size: 22 });
  const cat = h('select', { id: 'rule-category' }, ['', 'secret', 'pii', 'pci', 'phi', 'financial', 'confidential', 'source_code']
    .map(c => h('option', { value: c }, c || 'any')));
  const list = h('div', { class: 'rules-list', id: 'rule-list' });
  const detail = h('div', { id: 'rule-detail' }, h('p', { class: 'muted' }, 'Choose a rule to see its examples.'));
  const text = h('textarea', { id: 'rule-text', 'aria-label': 'Text to test against every rule' });
  const out = h('div', { id: 'rule-result', 'aria-live': 'polite' });
  page('Rules',
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('div', { class: 'row' }, h('label', { for: 'rule-q' }, 'Search', q), h('label', { for: 'rule-category' }, 'Category', cat)),
        h('p', { class: 'muted status', id: 'rule-count', role: 'status' }), list),
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Rule'), detail),
        h('section', { class: 'panel' }, h('h2', {}, 'Test text against all rules'), text,
          h('div', { class: 'row' }, h('button', { type: 'button', id: 'rule-test', onclick: test }, 'Test')), out))));
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 200); });
  cat.addEventListener('change', load);
  async function load() {
    const p = new URLSearchParams({ q: q.value, category: cat.value });
    try {
      const r = await api('GET', `/v1/rules?${p}`);
      document.getElementById('rule-count').textContent = `${r.count} rules`;
      list.replaceChildren(...r.rules.map(rule => h('button', { type: 'button', class: 'rule', 'aria-pressed': 'false', onclick: ev => {
        for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', 'false');
        ev.currentTarget.setAttribute('aria-pressed', 'true');
        show(rule);
      } }, h('strong', {}, rule.id), ' ', h('span', { class: 'muted' }, `${rule.category} · ${rule.entity}`))));
      if (!r.rules.length) list.replaceChildren(empty('No rule matches.'));
    } catch (e) { if (e.status !== 401) list.replaceChildren(h('p', { class: 'error' }, e.message)); }
  }
  function show(rule) {
    detail.replaceChildren(h('h3', {}, rule.id), h('p', {}, rule.description),
      h('dl', { class: 'facts' }, h('dt', {}, 'Category'), h('dd', {}, rule.category), h('dt', {}, 'Entity'), h('dd', {}, rule.entity),
        h('dt', {}, 'Severity'), h('dd', {}, rule.severity), h('dt', {}, 'Pack'), h('dd', {}, rule.source)),
      h('h4', {}, 'Flags'), h('ul', {}, rule.positive.map(t => h('li', {}, h('code', {}, t)))),
      h('h4', {}, 'Leaves alone'), h('ul', {}, rule.negative.map(t => h('li', {}, h('code', {}, t)))));
  }
  async function test() {
    try {
      const r = await api('POST', '/v1/rules/test', { text: text.value });
      out.replaceChildren(h('p', {}, `${r.findings} findings`), h('div', { class: 'runs', id: 'rule-runs' }, runsOf(r.runs)));
    } catch (e) { if (e.status !== 401) out.replaceChildren(h('p', { class: 'error' }, e.message)); }
  }
  load();
}
