// Mediators' opportunities: publish an offer or a job fair, see which young people it fits (only those who agreed
// to receive offers), send it, and follow sent / delivered / read / interested. Data from /api/console/opportunities.
import { api } from '/console/api.js';
import { $, el } from '/console/dom.js';
import { errorMessage as message, showView, signIn } from '/console/session.js';

let me = null;
let current = null;

const KINDS = { job: "Offre d'emploi", alternance: 'Alternance', training: 'Formation', job_fair: 'Job dating' };
const PROGRESS = [
  ['total', 'Jeunes concernés'], ['planned', 'Programmés'], ['sent', 'Envoyés'], ['delivered', 'Reçus'], ['read', 'Lus'], ['interested', 'Intéressés'], ['declined', 'Pas pour eux'], ['failed', 'Échecs'],
  ['skipped_weekly_cap', 'Pas envoyés : déjà 2 offres cette semaine'], ['skipped_with_mediator', 'Pas envoyés : suivis par un·e médiateur·rice'], ['skipped_urgent', 'Pas envoyés : conversation urgente'],
  ['skipped_opted_out', 'Pas envoyés : ne veulent plus d\'offres'], ['skipped_paused', 'Pas envoyés : ont écrit « stop »'],
];
const EXCLUDED = { not_opted_in: "n'ont pas accepté les offres", no_consent: 'sans consentement', paused: 'ont écrit « stop »', job: 'autre métier', departement: 'autre département', age: 'âge', diploma: 'diplôme', cv: 'sans CV', car: 'sans voiture' };

const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);

const session = signIn((user) => {
  me = user;
  return showApp();
});

async function showApp() {
  if (me && me.role === 'mentor') return window.location.replace('/console/mentor');
  showView('app-view');
  // The sectors young people choose in the chat, with the titles they read there.
  const { sectors } = await api('GET', '/api/console/opportunities/options');
  $('t-sectors').replaceChildren(...sectors.map((x) => el('option', { value: x.id, text: x.title })));
  loadList();
}

async function loadList() {
  const { items } = await api('GET', '/api/console/opportunities');
  const ul = $('list');
  ul.replaceChildren();
  $('list-empty').hidden = items.length > 0;
  for (const o of items) {
    const open = el('button', { type: 'button', text: `${o.title} · ${o.employer}` });
    open.addEventListener('click', () => show(o.id));
    const p = o.progress || {};
    ul.append(el('li', {}, [open, el('span', { class: 'badge', text: `${KINDS[o.kind]} · ${p.sent || 0} envoyés · ${p.interested || 0} intéressés` })]));
  }
}

async function show(id) {
  current = await api('GET', `/api/console/opportunities/${encodeURIComponent(id)}`);
  $('detail').hidden = false;
  $('d-title').textContent = current.title;
  $('d-meta').textContent = `${KINDS[current.kind]} · ${current.employer} · ${current.place}${current.startsOn ? ` · ${current.startsOn}` : ''} — publiée par ${current.createdBy.name}${current.sentAt ? `, envoyée le ${new Date(current.sentAt).toLocaleString('fr-FR')}` : ''}`;
  const body = $('d-progress').tBodies[0];
  body.replaceChildren();
  for (const [key, label] of PROGRESS) {
    const v = current.progress[key] || 0;
    if (key.startsWith('skipped_') && !v) continue;
    body.append(el('tr', {}, [el('th', { text: label }), el('td', { class: 'num', text: String(v) })]));
  }
  $('d-audience-box').hidden = true;
  $('d-status').textContent = '';
  $('detail').scrollIntoView({ behavior: 'smooth' });
}

$('d-audience').addEventListener('click', async () => {
  const a = await api('GET', `/api/console/opportunities/${encodeURIComponent(current.id)}/audience`);
  $('d-audience-box').hidden = false;
  $('d-count').textContent = `${a.count} jeune${a.count > 1 ? 's' : ''} correspond${a.count > 1 ? 'ent' : ''}`;
  $('d-excluded').textContent = Object.entries(a.excluded).map(([k, n]) => `${n} ${EXCLUDED[k] || k}`).join(' · ');
  const ul = $('d-members');
  ul.replaceChildren();
  for (const m of a.members) {
    const who = el('span', { text: [m.name || 'Sans prénom', m.commune, m.target].filter(Boolean).join(' · ') });
    const li = el('li', {}, [who]);
    if (m.held && !m.allowed) {
      li.append(el('span', { class: 'badge held', text: m.held === 'urgent' ? 'Urgent : pas d’envoi' : `Suivi par ${m.holder ? m.holder.name : 'un·e médiateur·rice'}` }));
      if (m.held === 'with_mediator' && m.conversationKey) {
        const include = el('button', { type: 'button', text: 'Inclure quand même' });
        include.addEventListener('click', async () => {
          try {
            await api('POST', `/api/console/opportunities/${encodeURIComponent(current.id)}/include`, { conversationKey: m.conversationKey });
            include.replaceWith(el('span', { class: 'badge', text: 'Inclus' }));
          } catch (err) {
            $('d-status').textContent = message(err);
          }
        });
        li.append(include);
      }
    }
    ul.append(li);
  }
});

$('d-send').addEventListener('click', async () => {
  $('d-send').disabled = true;
  try {
    const r = await api('POST', `/api/console/opportunities/${encodeURIComponent(current.id)}/send`, {});
    const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    const s = (n) => (n > 1 ? 's' : '');
    await show(current.id);
    $('d-status').textContent = `${r.planned} envoi${s(r.planned)} programmé${s(r.planned)} (entre 8 h et 21 h)${skipped ? `, ${skipped} pas envoyé${s(skipped)}` : ''}${r.already ? `, ${r.already} déjà reçu${s(r.already)}` : ''}.`;
    loadList();
  } catch (err) {
    $('d-status').textContent = message(err);
  } finally {
    $('d-send').disabled = false;
  }
});

$('publish').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('publish-error').textContent = '';
  const num = (id) => ($(id).value === '' ? undefined : Number($(id).value));
  const opt = (id) => $(id).value.trim() || undefined;
  const body = {
    kind: $('o-kind').value,
    title: $('o-title').value.trim(),
    employer: $('o-employer').value.trim(),
    place: $('o-place').value.trim(),
    startsOn: opt('o-starts'),
    endsOn: opt('o-ends'),
    link: opt('o-link'),
    description: $('o-description').value.trim(),
    target: {
      jobs: list($('t-jobs').value),
      sectors: [...$('t-sectors').selectedOptions].map((o) => o.value),
      departements: list($('t-deps').value).map((d) => d.toUpperCase()),
      ageMin: num('t-agemin'),
      ageMax: num('t-agemax'),
      cvReady: $('t-cv').checked,
      needsCar: $('t-car').checked,
    },
  };
  try {
    const opp = await api('POST', '/api/console/opportunities', body);
    $('publish').reset();
    await loadList();
    await show(opp.id);
  } catch (err) {
    $('publish-error').textContent = message(err);
  }
});

session.resume();
