// The volunteer mentors' page: accept an invitation (the token is in the URL fragment), sign in, keep a profile and
// weekly or one-off availability (Paris time), and see the next free slots young people can book.
import { api } from '/console/api.js';
import { $, el } from '/console/dom.js';
import { errorMessage as message, showView as show, signIn } from '/console/session.js';

const DAYS = ['Lundi', 'Mardi', 'Mercredi', 'Jeudi', 'Vendredi', 'Samedi', 'Dimanche'];
const slotText = (iso) => new Date(iso).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });

const inviteToken = () => new URLSearchParams(window.location.hash.slice(1)).get('invite');

const session = signIn(enter);

async function start() {
  const token = inviteToken();
  if (token) return showInvite(token);
  await session.resume();
}

async function showInvite(token) {
  show('invite-view');
  try {
    const inv = await api('POST', '/api/console/mentor/invitation', { token });
    $('invite-who').textContent = `${inv.displayName} (${inv.email}), l'association t'invite à rejoindre les mentors de Déclic.`;
  } catch (err) {
    $('invite-error').textContent = message(err);
    $('invite-form').querySelector('button').disabled = true;
  }
  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('invite-error').textContent = '';
    if ($('invite-password').value !== $('invite-password2').value) {
      $('invite-error').textContent = 'Les deux mots de passe ne sont pas pareils.';
      return;
    }
    try {
      const account = await api('POST', '/api/console/mentor/invitation/accept', { token, password: $('invite-password').value });
      history.replaceState(null, '', '/console/mentor');
      show('login-view');
      $('login-email').value = account.email;
      $('login-info').textContent = 'Ton compte est créé ✅ Connecte-toi.';
      $('login-password').focus();
    } catch (err) {
      $('invite-error').textContent = message(err);
    }
  });
}

$('logout').addEventListener('click', async () => {
  await api('POST', '/api/console/logout', {}).catch(() => undefined);
  show('login-view');
});

async function enter(user) {
  // The team's accounts have the console; this page is the mentors'.
  if (user.role !== 'mentor') return window.location.replace('/console');
  show('app-view');
  const data = await api('GET', '/api/console/mentor/profile');
  $('hello').textContent = `Bonjour ${data.displayName} ! Merci de donner de ton temps aux jeunes.`;
  $('p-sector').replaceChildren(el('option', { value: '', text: '—' }), ...data.sectors.map((s) => el('option', { value: s.id, text: s.title })));
  fill(data.profile);
  slots(data.nextSlots);
  await appointments();
}

const NEEDS = { cv_letter: 'CV et lettre', interview: 'Préparer un entretien', discover_job: 'Découvrir un métier', alternance: 'Trouver une alternance' };
const who = (a) => `${a.firstName || 'Un·e jeune'}${a.goal ? ` (vise : ${a.goal})` : ''}`;

/** Upcoming appointments, and the past ones with "did they come?" (once sent, the answer is shown, not asked again). */
async function appointments() {
  const { items } = await api('GET', '/api/console/mentor/appointments');
  const upcoming = items.filter((a) => !a.past);
  const past = items.filter((a) => a.past).reverse();
  $('appts').replaceChildren(
    ...upcoming.map((a) => el('li', {}, [el('strong', { text: slotText(a.startsAt) }), ` · ${a.minutes} min · ${who(a)} · ${NEEDS[a.need] || a.need}${a.status === 'pending_approval' ? ' · en attente de validation' : ''}`])),
  );
  $('appts-empty').hidden = upcoming.length > 0;
  $('past').replaceChildren(...past.map(pastItem));
  $('past-empty').hidden = past.length > 0;
}

function pastItem(a) {
  const head = el('div', {}, [el('strong', { text: slotText(a.startsAt) }), ` · ${who(a)} · ${NEEDS[a.need] || a.need}`]);
  if (a.report) return el('li', { class: 'past done' }, [head, el('p', { class: 'status', text: `${a.report.attended ? 'Venu·e ✅' : 'Pas venu·e ❌'}${a.report.note ? ` · « ${a.report.note} »` : ''}` })]);
  const note = el('textarea', { maxlength: '500', rows: '2', 'aria-label': 'Un mot pour l’association (facultatif)', placeholder: 'Un mot pour l’association (facultatif)' });
  const error = el('p', { class: 'error', role: 'alert' });
  const send = async (attended) => {
    error.textContent = '';
    try {
      await api('POST', `/api/console/mentor/appointments/${encodeURIComponent(a.id)}/report`, { attended, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
      await appointments();
    } catch (err) {
      error.textContent = message(err);
    }
  };
  const yes = el('button', { type: 'button', class: 'primary', text: 'Il ou elle est venu·e' });
  const no = el('button', { type: 'button', text: 'Pas venu·e' });
  yes.addEventListener('click', () => send(true));
  no.addEventListener('click', () => send(false));
  return el('li', { class: 'past' }, [head, note, el('div', { class: 'report-actions' }, [yes, no]), error]);
}

function weeklyRow(w = { day: 6, time: '10:00' }) {
  const day = el('select', { 'aria-label': 'Jour' }, DAYS.map((d, i) => el('option', { value: String(i + 1), text: d })));
  day.value = String(w.day);
  const time = el('input', { type: 'time', value: w.time, 'aria-label': 'Heure', required: '' });
  const remove = el('button', { type: 'button', text: 'Retirer', 'aria-label': 'Retirer ce créneau' });
  const row = el('div', { class: 'slot-row weekly' }, [day, time, remove]);
  remove.addEventListener('click', () => row.remove());
  $('weekly').append(row);
}

function dateRow(value = '') {
  const at = el('input', { type: 'datetime-local', value, 'aria-label': 'Date et heure', required: '' });
  const remove = el('button', { type: 'button', text: 'Retirer', 'aria-label': 'Retirer cette date' });
  const row = el('div', { class: 'slot-row date' }, [at, remove]);
  remove.addEventListener('click', () => row.remove());
  $('dates').append(row);
}

function fill(p) {
  $('weekly').replaceChildren();
  $('dates').replaceChildren();
  if (!p) return;
  $('p-company').value = p.company;
  $('p-job').value = p.job;
  $('p-sector').value = p.sector || '';
  for (const box of document.querySelectorAll('input[name=help]')) box.checked = p.helpsWith.includes(box.value);
  for (const r of document.querySelectorAll('input[name=meeting]')) r.checked = r.value === p.meeting;
  for (const w of p.weekly) weeklyRow(w);
  for (const d of p.dates) dateRow(d);
  $('p-length').value = String(p.slotMinutes);
  $('p-cap').value = String(p.weeklyCap);
}

function slots(list) {
  $('slots').replaceChildren(...list.map((iso) => el('li', { text: slotText(iso) })));
  $('slots-empty').hidden = list.length > 0;
}

$('add-weekly').addEventListener('click', () => weeklyRow());
$('add-date').addEventListener('click', () => dateRow());

$('profile').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('profile-error').textContent = '';
  $('profile-status').textContent = '';
  const body = {
    company: $('p-company').value.trim(),
    job: $('p-job').value.trim(),
    ...($('p-sector').value ? { sector: $('p-sector').value } : {}),
    helpsWith: [...document.querySelectorAll('input[name=help]:checked')].map((b) => b.value),
    meeting: document.querySelector('input[name=meeting]:checked').value,
    weekly: [...document.querySelectorAll('.slot-row.weekly')].map((row) => ({ day: Number(row.querySelector('select').value), time: row.querySelector('input').value })),
    dates: [...document.querySelectorAll('.slot-row.date input')].map((i) => i.value).filter(Boolean),
    slotMinutes: Number($('p-length').value),
    weeklyCap: Number($('p-cap').value),
  };
  try {
    const saved = await api('PUT', '/api/console/mentor/profile', body);
    $('profile-status').textContent = 'Enregistré ✅';
    slots(saved.nextSlots);
  } catch (err) {
    $('profile-error').textContent = message(err);
  }
});

start();
