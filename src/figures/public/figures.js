// The funders' dashboard: the period's tables from /api/console/figures, four charts (Chart.js, served by the
// service), a CSV export per table, and the campaign names (admins).
import { api, ApiError } from '/console/api.js';
import { $, el } from '/console/dom.js';
import { showView, signIn } from '/console/session.js';

const charts = {};
let me = null;

const monthInput = (d) => d.toISOString().slice(0, 7);
const cellText = (c) => (c.hidden ? '< 5' : c.v === null ? '—' : String(c.v));
const cellNumber = (c) => (c.hidden || c.v === null ? 0 : Number(c.v));

const session = signIn((user) => {
  me = user;
  return showApp();
});

function showApp() {
  if (me && me.role === 'mentor') return window.location.replace('/console/mentor');
  showView('app-view');
  const now = new Date();
  $('to').value = monthInput(now);
  $('from').value = monthInput(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1)));
  $('campaigns').hidden = !me || me.role !== 'admin';
  load();
  if (me && me.role === 'admin') loadCampaigns();
}

$('period').addEventListener('submit', (e) => {
  e.preventDefault();
  load();
});

async function load() {
  $('period-error').textContent = '';
  const q = `?from=${encodeURIComponent($('from').value)}&to=${encodeURIComponent($('to').value)}`;
  let data;
  try {
    data = await api('GET', `/api/console/figures${q}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return session.showLogin();
    $('period-error').textContent = (err.body && err.body.message) || 'Les chiffres ne sont pas disponibles pour le moment.';
    return;
  }
  renderTables(data.tables, q);
  renderCharts(data.tables);
  document.body.dataset.loaded = `${data.from}:${data.to}`;
}

function renderTables(tables, q) {
  const root = $('tables');
  root.replaceChildren();
  for (const t of tables) {
    const head = el('tr', {}, t.columns.map((c, i) => el('th', { text: c, scope: 'col', class: i ? 'num' : '' })));
    const body = t.rows.map((r) => el('tr', {}, r.map((c, i) => el('td', { text: cellText(c), class: `${i ? 'num' : ''}${c.hidden ? ' hidden' : ''}`.trim() }))));
    const csv = el('a', { class: 'csv', href: `/api/console/figures/export/${encodeURIComponent(t.id)}${q}`, download: '', text: 'Exporter en CSV' });
    root.append(
      el('section', { class: 'card', id: `table-${t.id}` }, [
        el('div', { class: 'table-head' }, [el('h3', { text: t.title }), csv]),
        ...(t.note ? [el('p', { class: 'note', text: t.note })] : []),
        el('div', { class: 'table-wrap' }, [el('table', {}, [el('thead', {}, [head]), el('tbody', {}, body)])]),
      ]),
    );
  }
}

function draw(id, config) {
  if (!window.Chart) return;
  if (charts[id]) charts[id].destroy();
  charts[id] = new window.Chart($(id), { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.type === 'bar' ? { scales: { x: { beginAtZero: true }, y: { beginAtZero: true } } } : {}), ...(config.options || {}) } });
}

function renderCharts(tables) {
  const get = (id) => tables.find((t) => t.id === id);
  const reach = get('reach_month');
  draw('chart-reach', { type: 'bar', data: { labels: reach.rows.map((r) => r[0].v), datasets: [{ label: reach.columns[1], data: reach.rows.map((r) => cellNumber(r[1])), backgroundColor: '#3b5bdb' }, { label: reach.columns[2], data: reach.rows.map((r) => cellNumber(r[2])), backgroundColor: '#94a8f0' }] } });
  const funnel = get('funnel');
  draw('chart-funnel', { type: 'bar', data: { labels: funnel.rows.map((r) => r[0].v), datasets: [{ label: funnel.columns[1], data: funnel.rows.map((r) => cellNumber(r[1])), backgroundColor: '#2f9e44' }] }, options: { indexAxis: 'y' } });
  const support = get('support');
  draw('chart-support', { type: 'doughnut', data: { labels: support.rows.map((r) => r[0].v), datasets: [{ data: support.rows.map((r) => cellNumber(r[1])), backgroundColor: ['#3b5bdb', '#f08c00', '#adb5bd'] }] } });
  const outcomes = get('outcomes');
  const rows = outcomes.rows.slice(1, -2);
  draw('chart-outcomes', { type: 'bar', data: { labels: rows.map((r) => r[0].v), datasets: [{ label: outcomes.columns[1], data: rows.map((r) => cellNumber(r[1])), backgroundColor: '#7048e8' }, { label: outcomes.columns[2], data: rows.map((r) => cellNumber(r[2])), backgroundColor: '#c0a8ff' }] }, options: { indexAxis: 'y' } });
}

async function loadCampaigns() {
  const { items } = await api('GET', '/api/console/campaigns');
  $('campaign-list').replaceChildren(...items.map((c) => el('li', { text: `${c.code} — ${c.name}${c.medium ? ` (${c.medium})` : ''}${c.adIds.length ? ` · pubs ${c.adIds.join(', ')}` : ''}` })));
}

$('campaign-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('campaign-status').textContent = '';
  const adIds = $('c-ads').value.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    await api('PUT', `/api/console/campaigns/${encodeURIComponent($('c-code').value)}`, { name: $('c-name').value, ...($('c-medium').value ? { medium: $('c-medium').value } : {}), adIds });
    $('campaign-status').textContent = 'Campagne enregistrée.';
    await loadCampaigns();
    await load();
  } catch (err) {
    $('campaign-status').textContent = (err.body && err.body.message) || 'Enregistrement impossible.';
  }
});

session.resume();
