// The mediators' console page: login, lists (queue, mine, recent, search),
// the conversation view with its actions, and live updates over SSE.
// Every piece of data is inserted with textContent (never as HTML).

import { api, ApiError, conversationPath, NetworkError, setCsrf } from './api.js';
import { $, el, show } from './dom.js';
import { ago, channel, dateTime, DELIVERY, errorMessage, FOLLOWUP_STATUS, label, LABELS, OUTCOMES, REASONS, RISKS, SEVERITIES, STATES, time } from './format.js';

const state = {
  me: null,
  tab: 'queue',
  search: '',
  currentKey: null,
  detail: null,
  queue: [],
  listedKeys: new Set(),
  urgentKey: null,
  events: null,
  audio: null,
};

// ----- small DOM helpers -----

const statusTimers = new Map();
function setText(id, text) {
  $(id).textContent = text || '';
  // Confirmations ("Note enregistrée.") fade after a while: a stale one must not describe a later state.
  if (id === 'action-status' || id === 'global-status') {
    clearTimeout(statusTimers.get(id));
    if (text) statusTimers.set(id, setTimeout(() => ($(id).textContent = ''), 8000));
  }
}

// ----- network banner -----

let netDown = false;
function networkDown(message) {
  netDown = true;
  setText('net-text', message || 'Erreur réseau : impossible de joindre le serveur. Nouvelle tentative en cours…');
  show($('net-banner'), true);
}
function networkUp() {
  if (!netDown) return;
  netDown = false;
  show($('net-banner'), false);
}

/** Calls the API; network failures raise the banner, an expired session goes back to the login. */
async function call(method, path, body, opts) {
  try {
    const res = await api(method, path, body, opts);
    networkUp();
    return res;
  } catch (err) {
    if (err instanceof NetworkError) networkDown();
    else if (err instanceof ApiError && err.status === 401 && !path.endsWith('/login')) sessionEnded('Ta session a expiré : reconnecte-toi.');
    throw err;
  }
}

// ----- alert (sound and banner) -----

function unlockAudio() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !state.audio) state.audio = new Ctx();
    if (state.audio && state.audio.state === 'suspended') state.audio.resume();
  } catch {
    state.audio = null;
  }
}

function beep() {
  const ctx = state.audio;
  if (!ctx) return;
  const t0 = ctx.currentTime;
  for (let i = 0; i < 3; i++) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = i % 2 ? 660 : 880;
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.25 + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.25);
    osc.stop(t0 + i * 0.25 + 0.22);
  }
}

const lastBeep = new Map();
/** The alert names the young person: from the queue when it lists them, else the event's name. */
function nameUrgent(name) {
  const item = state.queue.find((i) => i.key === state.urgentKey);
  setText('urgent-text', `Conversation URGENTE en attente : ${(item && (item.name || item.phone)) || name || 'un jeune'}`);
}

function urgentAlert(key, name) {
  state.urgentKey = key;
  nameUrgent(name);
  show($('urgent-banner'), true);
  // The alert is fixed at the top of the screen: the page makes room for it so that it hides nothing.
  document.body.style.paddingTop = `${$('urgent-banner').offsetHeight}px`;
  // Sticky parts (the conversation header on a phone) stay below it.
  document.body.style.setProperty('--banner-offset', `${$('urgent-banner').offsetHeight}px`);
  renderTitle();
  // One sound per conversation and burst (a detection and its queueing arrive together).
  const now = Date.now();
  if (now - (lastBeep.get(key) || 0) < 10000) return;
  lastBeep.set(key, now);
  beep();
}

function clearUrgent() {
  show($('urgent-banner'), false);
  document.body.style.paddingTop = '';
  document.body.style.removeProperty('--banner-offset');
  renderTitle();
}

/** The tab title says what waits for this mediator: an urgent alert, and the messages of my young people I have not read. */
function renderTitle() {
  const unread = state.unreadMine || 0;
  const urgent = !$('urgent-banner').hidden;
  document.title = `${urgent ? '⚠ URGENT — ' : ''}${unread ? `(${unread}) ` : ''}Déclic — console des médiateurs`;
}

// ----- login / logout -----

function showLogin(message) {
  show($('app-view'), false);
  show($('login-view'), true);
  setText('login-error', message || '');
  $('login-email').focus();
}

function sessionEnded(message) {
  if (state.events) state.events.close();
  state.events = null;
  state.me = null;
  setCsrf('');
  clearUrgent();
  showLogin(message);
}

async function startApp(session) {
  // Volunteer mentors have their own page (they never see young people's conversations).
  if (session.user.role === 'mentor') {
    window.location.replace('/console/mentor');
    return;
  }
  state.me = session.user;
  // Admins go to the script editor from here (and back from there).
  show($('editor-link'), session.user.role === 'admin');
  setCsrf(session.csrfToken);
  setText('me-name', `${session.user.displayName}${session.user.role === 'admin' ? ' (admin)' : ''}`);
  show($('login-view'), false);
  show($('app-view'), true);
  connectEvents();
  await refreshLists();
  $('main').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  unlockAudio();
  // Asked once, on this gesture: urgent alerts reach the mediator when the console is in another tab.
  try {
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => undefined);
  } catch {
    /* not supported */
  }
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  if (!email || !password) {
    setText('login-error', 'Saisis ton adresse e-mail et ton mot de passe.');
    return;
  }
  $('login-submit').disabled = true;
  try {
    const session = await call('POST', '/api/console/login', { email, password });
    $('login-password').value = '';
    setText('login-error', '');
    await startApp(session);
  } catch (err) {
    setText('login-error', err instanceof NetworkError ? 'Erreur réseau : impossible de joindre le serveur.' : errorMessage(err));
  } finally {
    $('login-submit').disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  try {
    await call('POST', '/api/console/logout');
  } catch {
    /* the session is dropped locally anyway */
  }
  sessionEnded('Tu es déconnecté·e.');
});

// Any click unlocks the sound (browsers only allow audio after a gesture).
document.addEventListener('pointerdown', unlockAudio, { once: true });
document.addEventListener('keydown', unlockAudio, { once: true });

// ----- lists -----

const TITLES = { queue: 'En attente', mine: 'Mes conversations', recent: 'Récentes', watch: 'À surveiller', search: 'Résultats de recherche', team: 'Équipe' };
const EMPTY = {
  queue: 'Aucune conversation en attente',
  mine: 'Tu ne suis aucune conversation en ce moment.',
  recent: 'Aucune conversation récente.',
  watch: 'Aucune conversation à surveiller.',
  search: 'Aucun résultat.',
  team: '',
};

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => {
    state.tab = tab.dataset.tab;
    refreshLists(false);
  });
}

$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = $('search-q').value.trim();
  if (!q) return;
  state.search = q;
  state.tab = 'search';
  refreshLists(false);
});

function listPath() {
  switch (state.tab) {
    case 'mine':
      return '/api/console/conversations/mine';
    case 'recent':
      return '/api/console/conversations/recent';
    case 'watch':
      return '/api/console/watch';
    case 'search':
      return `/api/console/conversations/search?q=${encodeURIComponent(state.search)}`;
    default:
      return '/api/console/queue';
  }
}

let refreshing = null;
let refreshAgain = false;
/** Reloads the queue (count, alerts) and the current list; coalesces bursts of events. */
async function refreshLists(background = true) {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    let startedAt = 0;
    do {
      // Events asking for a refresh while one runs are served by one more, at most once a second: a busy
      // service (many conversations moving) does not turn every open console into a stream of list queries.
      if (startedAt) await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 1000 - Date.now())));
      startedAt = Date.now();
      refreshAgain = false;
      try {
        const [queue, mine] = await Promise.all([call('GET', '/api/console/queue', undefined, { background }), call('GET', '/api/console/conversations/mine', undefined, { background })]);
        state.queue = queue.items;
        state.unreadMine = mine.items.reduce((n, i) => n + (i.unread || 0), 0);
        renderTitle();
        // The alert names the young person as soon as the queue knows them.
        if (state.urgentKey && !$('urgent-banner').hidden && state.queue.some((i) => i.key === state.urgentKey && (i.name || i.phone))) nameUrgent();
        setText('queue-count', String(queue.items.length));
        $('queue-count').classList.toggle('zero', queue.items.length === 0);
        if (state.tab === 'team') {
          renderTeam(await call('GET', '/api/console/team', undefined, { background }));
        } else {
          const items = state.tab === 'queue' ? queue.items : state.tab === 'mine' ? mine.items : (await call('GET', listPath(), undefined, { background })).items;
          renderList(items);
        }
        setText('list-error', '');
      } catch (err) {
        if (!(err instanceof NetworkError) && !(err instanceof ApiError && err.status === 401)) setText('list-error', errorMessage(err));
      }
    } while (refreshAgain);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

function badge(severity) {
  return el('span', { class: `badge sev-${severity}`, text: SEVERITIES[severity] || severity });
}

/**
 * Rebuilds a part of the page without losing the mediator's place: the focused conversation row keeps the
 * focus (same key) and the scroll positions stay where they were (live refreshes happen while they work).
 */
function keepingPlace(container, rebuild) {
  const active = document.activeElement;
  const focusedKey = active && active.classList && active.classList.contains('conv-item') && container.contains(active) ? active.dataset.key : null;
  const scrolls = [container.scrollTop, window.scrollY];
  rebuild();
  if (focusedKey) {
    const again = [...container.querySelectorAll('.conv-item')].find((b) => b.dataset.key === focusedKey);
    if (again) again.focus({ preventScroll: true });
  }
  container.scrollTop = scrolls[0];
  if (window.scrollY !== scrolls[1]) window.scrollTo(window.scrollX, scrolls[1]);
}

function markTabs() {
  for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-pressed', String(tab.dataset.tab === state.tab));
  setText('list-title', state.tab === 'search' ? `${TITLES.search} pour « ${state.search} »` : TITLES[state.tab]);
  show($('team'), state.tab === 'team');
  show($('list'), state.tab !== 'team');
  if (state.tab === 'team') show($('list-empty'), false);
}

/** "3 min", "1 h 05", "2 j": how long a young person has waited. */
function waited(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const m = Math.floor(seconds / 60);
  if (m < 1) return 'moins d’une minute';
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')}`;
  return `${Math.floor(h / 24)} j`;
}

/** The first line of a conversation row: the name, the severity badge, my unread count. */
function rowTop(item, severity) {
  return el('span', { class: 'item-top' }, el('strong', { class: 'item-name', text: item.name || item.phone || item.userId }), severity !== 'none' ? badge(severity) : null, item.unread ? el('span', { class: 'unread', 'aria-label': `${item.unread} message(s) non lu(s)`, text: String(item.unread) }) : null);
}

function teamRow(item, how) {
  const severity = item.severity;
  return el(
    'li',
    {},
    el(
      'button',
      { type: 'button', class: `conv-item sev-${severity}${item.urgentUnanswered ? ' overdue' : ''}${item.key === state.currentKey ? ' current' : ''}`, 'data-key': item.key, onclick: () => openConversation(item.key) },
      rowTop(item, severity),
      el('span', { class: 'item-meta', text: [channel(item.channelId), how(item), item.urgentUnanswered ? 'URGENCE SANS RÉPONSE' : null].filter(Boolean).join(' · ') }),
    ),
  );
}

/** Who holds what, who waits and for how long, the urgent conversations nobody answered, the time to first reply. */
function renderTeam(t) {
  state.listedKeys = new Set([...t.waiting, ...t.members.flatMap((m) => m.holding)].map((i) => i.key));
  markTabs();
  keepingPlace($('lists-nav'), () => renderTeamParts(t));
}

function renderTeamParts(t) {
  const f = t.firstReply;
  const figures = [
    f.replies ? `Premier message d’un·e médiateur·rice (7 derniers jours) : médiane ${waited(f.medianSeconds)}, 9 sur 10 en moins de ${waited(f.p90Seconds)}` : 'Pas encore de première réponse sur les 7 derniers jours.',
    f.urgent ? `Urgences servies en 5 min : ${f.urgentWithin5Min} sur ${f.urgent} (${f.urgentWithin5MinPercent} %)` : null,
  ];
  setText('team-figures', figures.filter(Boolean).join(' · '));
  const overdue = $('team-overdue');
  overdue.replaceChildren(...(t.urgentUnanswered.length ? t.urgentUnanswered.map((i) => teamRow(i, (x) => `${x.assignee ? `prise par ${x.assignee.name}` : 'personne ne l’a prise'} · depuis ${waited(x.waitedSeconds)}`)) : [el('li', { class: 'hint', text: 'Aucune.' })]));
  setText('team-waiting-title', `En attente (${t.waiting.length})`);
  $('team-waiting').replaceChildren(...(t.waiting.length ? t.waiting.map((i) => teamRow(i, (x) => `attend depuis ${waited(x.waitedSeconds)}`)) : [el('li', { class: 'hint', text: 'Personne n’attend.' })]));
  $('team-members').replaceChildren(
    ...t.members.map((m) =>
      el(
        'section',
        { class: 'team-member' },
        el('h3', { text: `${m.name}${m.role === 'admin' ? ' (admin)' : ''} — ${m.holding.length ? `${m.holding.length} conversation${m.holding.length > 1 ? 's' : ''}` : 'disponible'}` }),
        m.holding.length ? el('ul', { class: 'conv-list' }, ...m.holding.map((i) => teamRow(i, (x) => `${x.claimedAt ? `prise ${ago(x.claimedAt)}` : ''}${x.mediatorReplied ? '' : ' · pas encore de réponse'}`))) : null,
      ),
    ),
  );
  const count = $('overdue-count');
  count.textContent = String(t.urgentUnanswered.length);
  show(count, t.urgentUnanswered.length > 0);
}

function renderList(items) {
  state.listedKeys = new Set([...items.map((i) => i.key), ...state.queue.map((i) => i.key)]);
  markTabs();
  const list = $('list');
  keepingPlace($('lists-nav'), () => list.replaceChildren(
    ...items.map((item) => {
      const waiting = item.state === 'waiting' && item.waitingSince ? `en attente ${ago(item.waitingSince)}` : STATES[item.state] || item.state;
      // A watched conversation stays with the bot (episode severity none): its badge is the watch's severity.
      const severity = item.severity === 'none' && item.watchSeverity ? item.watchSeverity : item.severity;
      const evidence = item.evidence.length ? item.evidence.map((e) => `« ${e.text} »`).join(' ') : null;
      const button = el(
        'button',
        {
          type: 'button',
          class: `conv-item sev-${severity}${item.key === state.currentKey ? ' current' : ''}`,
          'data-key': item.key,
          'aria-current': item.key === state.currentKey ? 'true' : null,
          onclick: () => openConversation(item.key),
        },
        rowTop(item, severity),
        el('span', { class: 'item-meta', text: [channel(item.channelId), waiting, item.assignee ? `suivie par ${item.assignee.name}` : null].filter(Boolean).join(' · ') }),
        item.labels.length ? el('span', { class: 'item-labels', text: item.labels.map(label).join(', ') }) : null,
        evidence ? el('span', { class: 'item-evidence', text: evidence }) : null,
        item.match ? el('span', { class: 'item-match', text: `${item.match.sender === 'mediator' ? 'Message de la médiation' : 'Message du jeune'} : « ${item.match.text} »` }) : null,
        item.lastMessagePreview && !item.match ? el('span', { class: 'item-preview', text: item.lastMessagePreview }) : null,
      );
      return el('li', {}, button);
    }),
  ));
  const empty = $('list-empty');
  empty.textContent = EMPTY[state.tab];
  show(empty, items.length === 0);
}

// ----- conversation view -----

$('back').addEventListener('click', () => {
  state.currentKey = null;
  document.body.classList.remove('show-detail');
  show($('detail-body'), false);
  show($('detail-empty'), true);
  refreshLists();
  const first = document.querySelector('.conv-item');
  if (first) first.focus();
});

async function openConversation(key) {
  const changed = state.currentKey !== key;
  state.currentKey = key;
  if (changed) {
    setText('action-error', '');
    setText('action-status', '');
    setText('followup-error', '');
    $('transfer-form').hidden = true;
    $('close-form').hidden = true;
    $('composer-text').value = '';
    loadCanned(key);
    showPane('transcript');
  }
  for (const b of document.querySelectorAll('.conv-item')) {
    const current = b.dataset.key === key;
    b.classList.toggle('current', current);
    if (current) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  document.body.classList.add('show-detail');
  if (state.urgentKey === key) clearUrgent();
  if (changed) loadSituations(key);
  await loadDetail(false);
  markReadIfShown();
  if (changed) $('conv-name').focus();
}

async function loadDetail(background = true) {
  const key = state.currentKey;
  if (!key) return;
  try {
    const detail = await call('GET', conversationPath(key), undefined, { background });
    if (state.currentKey !== key) return;
    state.detail = detail;
    renderDetail(detail);
    if (background) markReadIfShown();
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', errorMessage(err));
  }
}

/** The holder sees the conversation (page visible): its unread count goes back to 0, the title too. */
function markReadIfShown() {
  const d = state.detail;
  const mine = d && d.conversation.assignee && state.me && d.conversation.assignee.id === state.me.id;
  if (!mine || !d.conversation.unread || document.hidden) return;
  call('POST', `${conversationPath(d.conversation.key)}/read`)
    .then(() => refreshLists())
    .catch(() => undefined);
}

function renderDetail(d) {
  const c = d.conversation;
  show($('detail-empty'), false);
  show($('detail-body'), true);
  setText('conv-name', c.name || c.phone || c.userId);
  const meta = [channel(c.channelId), c.phone ? `+${c.phone}` : null, STATES[c.state], c.assignee ? `suivie par ${c.assignee.name}` : null, c.state === 'waiting' && c.waitingSince ? `en attente ${ago(c.waitingSince)}` : null, c.reason && (c.state === 'waiting' || c.state === 'with_mediator') ? `motif : ${REASONS[c.reason] || c.reason}` : null];
  setText('conv-meta', meta.filter(Boolean).join(' · '));
  const episodes = d.episodes || [];
  $('conv-badges').replaceChildren(
    ...(c.severity !== 'none' ? [badge(c.severity)] : []),
    ...c.labels.map((l) => el('span', { class: 'badge label', text: label(l) })),
    // A young person who already had a mediator: said at once, the history is in the side panel.
    ...(episodes.length ? [el('span', { class: 'badge returning', text: `Revient · ${episodes.length} échange${episodes.length > 1 ? 's' : ''} précédent${episodes.length > 1 ? 's' : ''}` })] : []),
  );
  $('history').replaceChildren(
    ...(episodes.length
      ? episodes.map((e) =>
          el(
            'li',
            { class: 'episode' },
            el('p', {}, e.severity !== 'none' ? badge(e.severity) : null, ' ', el('strong', { text: `${dateTime(e.startedAt)} → ${dateTime(e.endedAt)}` })),
            el('p', { class: 'hint', text: [e.claimedBy ? `pris par ${e.claimedBy.name}` : 'pris par personne', `${e.end === 'closed' ? 'clos' : 'rendu au bot'} par ${e.endedBy.name}`].join(' · ') }),
            e.wrapUp ? el('p', { text: `${OUTCOMES[e.wrapUp.outcome] || e.wrapUp.outcome} · risque ${RISKS[e.wrapUp.riskAtClose] || e.wrapUp.riskAtClose}${e.wrapUp.referral ? ` · orientation : ${e.wrapUp.referral}` : ''}` }) : null,
            e.wrapUp ? el('p', { class: 'note-text', text: e.wrapUp.summary }) : null,
            e.wrapUp && e.wrapUp.reason ? el('p', { class: 'hint', text: `Raison : ${e.wrapUp.reason}` }) : null,
          ),
        )
      : [el('li', { class: 'hint', text: 'Premier échange avec l’équipe.' })]),
  );

  const mine = c.state === 'with_mediator' && c.assignee && state.me && c.assignee.id === state.me.id;
  show($('act-claim'), c.state === 'waiting' || c.state === 'bot');
  show($('act-release'), mine);
  show($('act-close'), c.state !== 'closed');
  // The holder (or an admin) hands a conversation to a colleague; the server checks it too.
  show($('act-transfer'), c.state === 'with_mediator' && (mine || (state.me && state.me.role === 'admin')));
  show($('act-reopen'), c.state === 'closed');

  renderTranscript(withEpisodeMarkers(d.transcript, episodes));
  // The channel's window, before the mediator types: open until…, template, HUMAN_AGENT tag, or closed (sending disabled).
  const win = d.window || { state: 'none', text: null };
  const winHint = $('window-hint');
  winHint.className = `window window-${win.state}`;
  winHint.textContent = win.text || '';
  show(winHint, Boolean(win.text));
  const composerOn = Boolean(mine) && win.state !== 'closed';
  $('composer-text').disabled = !composerOn;
  $('composer-send').disabled = !composerOn;
  $('canned').disabled = !composerOn;
  setText(
    'composer-hint',
    composerOn ? 'Ctrl+Entrée pour envoyer.' : mine ? 'Envoi impossible pour l’instant (voir ci-dessus).' : c.state === 'with_mediator' ? `${c.assignee ? c.assignee.name : 'Un·e collègue'} suit cette conversation.` : 'Prends la conversation en charge pour répondre.',
  );

  const DIRECT_ANSWERS = { yes: 'oui', sometimes: 'parfois', unsure: 'ne sait pas', no: 'non', other: 'autre (traitée comme un oui)' };
  setText('profile-summary', d.profile.summary || 'Pas encore de réponses au diagnostic.');
  $('detections').replaceChildren(
    ...(d.detections.length
      ? d.detections.slice(0, 10).map((det) =>
          el(
            'li',
            {},
            badge(det.severity),
            ' ',
            el('span', { text: det.labels.map(label).join(', ') }),
            el('span', { class: 'hint', text: ` — ${dateTime(det.at)}` }),
            det.evidence.length ? el('span', { class: 'evidence', text: det.evidence.map((e) => `« ${e.text} »`).join(' ') }) : null,
            det.directQuestion ? el('span', { class: 'hint', text: ` — question directe posée : réponse ${DIRECT_ANSWERS[det.directQuestion.answer] ?? det.directQuestion.answer}` }) : null,
          ),
        )
      : [el('li', { class: 'hint', text: 'Aucune difficulté détectée.' })]),
  );

  const tags = (d.contact && d.contact.tags) || [];
  $('tags').replaceChildren(
    ...(tags.length
      ? tags.map((t) => el('li', { class: 'tag' }, el('span', { text: t }), el('button', { type: 'button', class: 'tag-remove', 'aria-label': `Retirer l’étiquette ${t}`, text: '×', onclick: () => saveTags(tags.filter((x) => x !== t)) })))
      : [el('li', { class: 'hint', text: 'Aucune étiquette.' })]),
  );
  $('tag-form').hidden = !d.contact;

  $('notes').replaceChildren(
    ...(d.notes.length
      ? d.notes.map((n) => el('li', {}, el('p', { class: 'note-text', text: n.text }), el('p', { class: 'hint', text: `${n.author.name} — ${dateTime(n.createdAt)}` })))
      : [el('li', { class: 'hint', text: 'Aucune note.' })]),
  );

  const followOn = Array.isArray(d.followUps);
  show($('followups-off'), !followOn);
  $('followup-form').hidden = !followOn;
  $('followups').replaceChildren(
    ...(followOn
      ? d.followUps.length
        ? d.followUps.map((f) =>
            el(
              'li',
              {},
              el('p', { text: `${dateTime(f.dueAt)} — ${FOLLOWUP_STATUS[f.status] || f.status}${f.kind !== 'mediator' ? ' (automatique)' : ` — par ${f.createdBy.name}`}` }),
              f.text ? el('p', { class: 'note-text', text: f.text }) : null,
              f.error ? el('p', { class: 'error', text: `Erreur : ${f.error.message}` }) : null,
              f.status === 'scheduled' ? el('button', { type: 'button', text: 'Annuler la relance', onclick: () => cancelFollowUp(f.id) }) : null,
            ),
          )
        : [el('li', { class: 'hint', text: 'Aucune relance programmée.' })]
      : []),
  );
}

const SENDERS = { user: 'Jeune', bot: 'Bot', system: 'Système' };
let renderedIds = new Set();
let renderedKey = null;

/** The transcript with a marker where each previous episode began and ended (who took it, who closed it, the outcome). */
function withEpisodeMarkers(entries, episodes) {
  const markers = [];
  for (const e of episodes) {
    markers.push({ marker: true, id: `ep-start-${e.id}`, at: e.startedAt, text: `Début d’un échange avec l’équipe${e.claimedBy ? ` — pris par ${e.claimedBy.name}` : ''}` });
    markers.push({ marker: true, id: `ep-end-${e.id}`, at: e.endedAt, text: `${e.end === 'closed' ? 'Échange clos' : 'Rendu au bot'} par ${e.endedBy.name}${e.wrapUp ? ` — ${OUTCOMES[e.wrapUp.outcome] || e.wrapUp.outcome}` : ''}` });
  }
  if (!markers.length) return entries;
  // Stable merge by time: a marker goes before the first entry after it.
  const out = [];
  const sorted = markers.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  let m = 0;
  for (const entry of entries) {
    while (m < sorted.length && Date.parse(sorted[m].at) <= Date.parse(entry.at)) out.push(sorted[m++]);
    out.push(entry);
  }
  return out.concat(sorted.slice(m));
}

function renderTranscript(entries) {
  const list = $('transcript');
  const fresh = renderedKey !== state.currentKey;
  if (fresh) {
    renderedIds = new Set();
    renderedKey = state.currentKey;
  }
  const nodes = entries.map((e) => {
    if (e.marker) return el('li', { class: 'episode-marker', 'data-id': e.id }, el('span', { text: `${e.text} · ${dateTime(e.at)}` }));
    const who = e.sender === 'mediator' ? `${(e.mediator && e.mediator.name) || 'Médiateur'} (médiation)` : SENDERS[e.sender] || e.sender;
    const text = e.text || (e.attachments.length ? `[pièce jointe : ${e.attachments.map((a) => a.name || a.contentType).join(', ')}]` : '[message sans texte]');
    const status = e.status ? el('span', { class: `delivery ${e.status === 'failed' ? 'failed' : ''}`, text: `${DELIVERY[e.status] || e.status}${e.error ? ` : ${e.error}` : ''}` }) : null;
    return el(
      'li',
      { class: `msg from-${e.sender}${e.status === 'failed' ? ' msg-failed' : ''}`, 'data-id': e.id },
      el('p', { class: 'msg-head' }, el('span', { class: 'msg-who', text: who }), el('time', { datetime: e.at, text: time(e.at) })),
      el('p', { class: 'msg-text', text }),
      status,
      e.sender === 'user' && e.text ? correctionForm(e.id) : null,
    );
  });
  // Only additions are announced by aria-live: replace when the list changed otherwise.
  const ids = entries.map((e) => e.id);
  const onlyAdditions = !fresh && ids.length >= renderedIds.size && ids.slice(0, renderedIds.size).every((id) => renderedIds.has(id));
  if (onlyAdditions) {
    const existing = [...list.children];
    nodes.forEach((n, i) => {
      // A correction being written is kept as it is (a live refresh must not lose it).
      if (i < existing.length) {
        if (!existing[i].querySelector('details.correct[open]')) existing[i].replaceWith(n);
      } else list.append(n);
    });
  } else {
    list.replaceChildren(...nodes);
  }
  // A conversation opens at its newest message; a live update follows only a reader already at the bottom.
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  renderedIds = new Set(ids);
  show($('transcript-empty'), entries.length === 0);
  if (fresh || atEnd) scrollTranscriptToEnd();
}

function scrollTranscriptToEnd() {
  const list = $('transcript');
  list.scrollTop = list.scrollHeight;
}

/** "Corriger la détection": the labels and severity this message should have had (POST …/corrections). */
function correctionForm(entryId) {
  const boxes = Object.entries(LABELS).map(([value, text]) => el('label', { class: 'correct-label' }, el('input', { type: 'checkbox', name: 'label', value }), ` ${text}`));
  const severity = el('select', { name: 'severity', 'aria-label': 'Gravité' }, ...Object.entries(SEVERITIES).map(([value, text]) => el('option', { value, text })));
  const result = el('p', { class: 'correct-result', role: 'status' });
  const form = el(
    'form',
    {
      class: 'correct-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const labels = [...form.querySelectorAll('input[name=label]:checked')].map((i) => i.value);
        result.textContent = '';
        try {
          await call('POST', `${conversationPath(state.currentKey)}/corrections`, { entryId, labels, severity: severity.value });
          result.textContent = 'Correction enregistrée, merci : elle sert à améliorer la détection.';
        } catch (err) {
          result.textContent = err instanceof ApiError ? errorMessage(err) : 'La correction n’a pas pu être enregistrée.';
        }
      },
    },
    el('fieldset', {}, el('legend', { text: 'Ce que le message montre vraiment' }), ...boxes),
    el('label', {}, 'Gravité ', severity),
    el('button', { type: 'submit', class: 'btn', text: 'Enregistrer la correction' }),
    result,
  );
  return el('details', { class: 'correct' }, el('summary', { text: 'Corriger la détection' }), form);
}

async function act(action, success, body) {
  const key = state.currentKey;
  setText('action-error', '');
  setText('action-status', '');
  let ok = false;
  try {
    await call('POST', `${conversationPath(key)}/${action}`, body);
    ok = true;
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', errorMessage(err));
  }
  await Promise.all([loadDetail(), refreshLists()]);
  // Announced once the view shows the new state.
  if (ok && state.currentKey === key) setText('action-status', success);
}

$('act-claim').addEventListener('click', () => act('claim', 'Tu suis maintenant cette conversation.').then(() => !$('composer-text').disabled && $('composer-text').focus()));
$('act-release').addEventListener('click', () => act('release', 'La conversation est rendue au bot.'));
// Closing asks for a short wrap-up first (POST …/close with a body).
$('act-close').addEventListener('click', () => {
  $('close-form').hidden = false;
  $('close-summary').focus();
});
$('close-cancel').addEventListener('click', () => {
  $('close-form').hidden = true;
});
$('close-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const optional = (id) => $(id).value.trim() || undefined;
  const wrapUp = { outcome: $('close-outcome').value, riskAtClose: $('close-risk').value, summary: $('close-summary').value.trim(), referral: optional('close-referral'), reason: optional('close-reason') };
  await act('close', 'Conversation close.', wrapUp);
  if (!$('action-error').textContent) {
    $('close-form').reset();
    $('close-form').hidden = true;
  }
});
$('act-reopen').addEventListener('click', () => act('reopen', 'Conversation rouverte.'));

// Transfer: the colleagues come from the team view (who holds what), the note stays private.
$('act-transfer').addEventListener('click', async () => {
  setText('action-error', '');
  try {
    const team = await call('GET', '/api/console/team');
    const holder = state.detail && state.detail.conversation.assignee;
    const colleagues = team.members.filter((m) => !holder || m.id !== holder.id);
    if (!colleagues.length) {
      setText('action-error', 'Aucun·e autre collègue actif·ve à qui transférer.');
      return;
    }
    $('transfer-to').replaceChildren(...colleagues.map((m) => el('option', { value: m.id, text: `${m.name} — ${m.holding.length ? `${m.holding.length} conversation(s)` : 'disponible'}` })));
    $('close-form').hidden = true;
    $('transfer-form').hidden = false;
    $('transfer-to').focus();
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', errorMessage(err));
  }
});
$('transfer-cancel').addEventListener('click', () => {
  $('transfer-form').hidden = true;
});
$('transfer-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const select = $('transfer-to');
  const name = select.selectedOptions[0] ? select.selectedOptions[0].textContent.split(' — ')[0] : '';
  const note = $('transfer-note').value.trim();
  await act('transfer', `Conversation transférée à ${name}.`, { to: select.value, ...(note ? { note } : {}) });
  if (!$('action-error').textContent) {
    $('transfer-form').reset();
    $('transfer-form').hidden = true;
  }
});

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('composer-text').value.trim();
  if (!text) {
    setText('action-error', 'Le message est vide.');
    return;
  }
  $('composer-send').disabled = true;
  setText('action-error', '');
  try {
    await call('POST', `${conversationPath(state.currentKey)}/messages`, { text });
    $('composer-text').value = '';
    setText('action-status', 'Message envoyé.');
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', errorMessage(err));
  } finally {
    await loadDetail();
    $('composer-text').focus();
  }
});

$('composer-text').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});

async function saveTags(tags) {
  setText('action-error', '');
  try {
    await call('PUT', `${conversationPath(state.currentKey)}/tags`, { tags });
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', err.code === 'invalid_input' ? 'Étiquette invalide : lettres, chiffres, espaces, - et _ (40 caractères au plus).' : errorMessage(err));
  }
  await loadDetail();
}

const SITUATIONS = {
  lasting_job: 'Emploi durable',
  transition_job: 'Emploi de transition',
  qualifying_training: 'Formation qualifiante',
  alternance: 'Alternance',
  civic_service: 'Service civique',
  own_business: 'Création d’activité',
  other_training: 'Autre formation',
  no_solution: 'Sans solution',
  lost_contact: 'Perdu de vue',
};
const REFERRAL_ANSWERS = { went: 'y est allé·e', not_yet: 'pas encore', not_going: 'n’ira pas' };

/** Outcomes, referrals and their checks recorded for the young person (the funders' figures). */
async function loadSituations(key) {
  $('situation-date').value = new Date().toISOString().slice(0, 10);
  setText('situation-status', '');
  let items = [];
  try {
    items = (await call('GET', `${conversationPath(key)}/outcomes`)).items;
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('situation-status', errorMessage(err));
  }
  if (state.currentKey !== key) return;
  const by = { self: 'dit par le jeune', mediator: 'noté par l’équipe', bot: 'par le bot' };
  $('situations').replaceChildren(
    ...(items.length
      ? items.map((x) =>
          el('li', {
            text:
              x.type === 'outcome'
                ? `${SITUATIONS[x.category] || x.category} depuis le ${x.date} (${by[x.by] || x.by}${x.checkpoint ? `, relance à ${x.checkpoint === '3m' ? '3' : '6'} mois` : ''})`
                : x.type === 'referral'
                  ? `Orienté·e vers ${x.structure} le ${x.at.slice(0, 10)} (${by[x.by] || x.by})`
                  : `Vérification de l’orientation : ${REFERRAL_ANSWERS[x.answer] || x.answer} (${x.at.slice(0, 10)})`,
          }),
        )
      : [el('li', { class: 'hint', text: 'Rien de noté pour l’instant.' })]),
  );
}

$('situation-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = state.currentKey;
  if (!key) return;
  try {
    await call('POST', `${conversationPath(key)}/outcomes`, { category: $('situation-category').value, date: $('situation-date').value });
    await loadSituations(key);
    setText('situation-status', 'Situation enregistrée.');
  } catch (err) {
    setText('situation-status', errorMessage(err));
  }
});

$('tag-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const tag = $('tag-input').value.trim().toLowerCase();
  if (!tag) return;
  const tags = (state.detail && state.detail.contact && state.detail.contact.tags) || [];
  await saveTags([...new Set([...tags, tag])]);
  $('tag-input').value = '';
  $('tag-input').focus();
});

$('note-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('note-text').value.trim();
  if (!text) return;
  try {
    await call('POST', `${conversationPath(state.currentKey)}/notes`, { text });
    $('note-text').value = '';
    setText('action-status', 'Note enregistrée.');
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', errorMessage(err));
  }
  await loadDetail();
});

$('followup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const when = $('followup-date').value;
  const text = $('followup-text').value.trim();
  setText('followup-error', '');
  if (!when || !text) {
    setText('followup-error', 'Indique la date, l’heure et le message de la relance.');
    return;
  }
  try {
    await call('POST', `${conversationPath(state.currentKey)}/followups`, { dueAt: new Date(when).toISOString(), text });
    $('followup-text').value = '';
    setText('action-status', 'Relance programmée.');
  } catch (err) {
    // Next to the form (a refusal explains the channel's window): the text typed is kept.
    if (err instanceof ApiError && err.status !== 401) setText('followup-error', errorMessage(err));
  }
  await loadDetail();
});

async function cancelFollowUp(id) {
  try {
    await call('POST', `/api/console/followups/${encodeURIComponent(id)}/cancel`);
    setText('action-status', 'Relance annulée.');
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('action-error', errorMessage(err));
  }
  await loadDetail();
}

$('urgent-open').addEventListener('click', () => {
  const key = state.urgentKey;
  clearUrgent();
  if (key) openConversation(key);
});
$('urgent-dismiss').addEventListener('click', clearUrgent);

// "Prendre le suivant": the most urgent, longest-waiting conversation is claimed and opened.
$('take-next').addEventListener('click', async () => {
  try {
    const res = await call('POST', '/api/console/queue/next');
    await refreshLists(false);
    await openConversation(res.conversation.key);
    setText('action-status', 'Tu suis maintenant cette conversation.');
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) setText('list-error', errorMessage(err));
  }
});

// A browser notification (asked once, after login) for urgent arrivals and messages from my young people.
function notify(title, body) {
  try {
    if ('Notification' in window && Notification.permission === 'granted' && document.hidden) new Notification(title, { body, tag: 'declic' });
  } catch {
    /* notifications unavailable: the banner and sound remain */
  }
}

// ----- live events -----

let trailing = [];
function followUpReloads(key) {
  for (const t of trailing) clearTimeout(t);
  trailing = [1500, 4000].map((ms) =>
    setTimeout(() => {
      if (state.currentKey === key) loadDetail();
    }, ms),
  );
}

function connectEvents() {
  if (state.events) state.events.close();
  const source = new EventSource('/api/console/events');
  state.events = source;
  source.addEventListener('open', () => {
    networkUp();
    refreshLists();
    if (state.currentKey) loadDetail();
  });
  source.addEventListener('error', () => {
    if (state.events !== source) return;
    networkDown('Connexion temps réel perdue. Nouvelle tentative en cours…');
    if (source.readyState === EventSource.CLOSED) {
      // Closed for good (e.g. the session expired): check the session, then retry.
      setTimeout(async () => {
        if (state.events !== source) return;
        try {
          await call('GET', '/api/console/me');
          connectEvents();
        } catch {
          /* call() already showed the login or the banner */
        }
      }, 3000);
    }
  });
  const handle = (type) =>
    source.addEventListener(type, async (msg) => {
      let ev = {};
      try {
        ev = JSON.parse(msg.data);
      } catch {
        return;
      }
      if (type === 'logout') return sessionEnded('Ta session a expiré : reconnecte-toi.');
      if (type === 'transferred' && state.me && ev.mediatorId === state.me.id) {
        // A colleague handed me a conversation: said on screen, with a sound and a notification.
        // In the lists, and above the open conversation (on a phone only one of them is on screen).
        for (const id of ['global-status', 'action-status']) setText(id, 'Une conversation t’a été transférée : elle est dans « Mes conversations ».');
        beep();
        notify('Conversation transférée', 'Un·e collègue t’a transféré une conversation');
      }
      if (type === 'erased') {
        await refreshLists();
        // Nothing of the young person is left to show: only that the erasure happened.
        if (ev.key === state.currentKey) {
          $('detail-body').hidden = true;
          $('detail-empty').hidden = false;
          $('detail-empty').textContent = 'Ce jeune a supprimé ses données à sa demande : la conversation n’existe plus.';
        }
        return;
      }
      // A message in a conversation nobody here is looking at (the bot chatting away) changes nothing on screen.
      const visible = state.tab === 'recent' || ev.key === state.currentKey || state.listedKeys.has(ev.key);
      // A colleague's tags, notes or follow-ups: only the open conversation shows them (and search by tag).
      if (type === 'updated') {
        if (ev.key === state.currentKey) await loadDetail();
        if (state.tab === 'search') await refreshLists();
        return;
      }
      // One of my young people wrote: the unread count (rows, tab title) changes even when their row is not listed.
      const mineWrote = type === 'message' && ev.direction === 'inbound' && state.me && ev.mediatorId === state.me.id;
      if (type !== 'message' || visible || mineWrote) await refreshLists();
      if ((type === 'queued' || type === 'detection') && ev.severity === 'urgent') {
        urgentAlert(ev.key, ev.name);
        notify('⚠ Conversation URGENTE', ev.name || 'Un jeune attend');
      }
      // One of my young people wrote: sound and notification (the message itself stays in the console).
      if (type === 'message' && ev.direction === 'inbound' && state.me && ev.mediatorId === state.me.id && ev.key !== state.currentKey) {
        beep();
        notify('Nouveau message', ev.name || 'Un jeune que tu suis a écrit');
      }
      if (ev.key && ev.key === state.currentKey) {
        await loadDetail();
        // The bot's answers to an inbound message are stored a moment later (no event of their own): look again.
        if (type === 'message' && ev.direction === 'inbound') followUpReloads(ev.key);
        if (type === 'claimed' && state.me && ev.mediatorId !== state.me.id) setText('action-status', 'Un·e collègue vient de prendre cette conversation.');
      }
    });
  for (const t of ['queued', 'message', 'claimed', 'released', 'closed', 'reopened', 'transferred', 'erased', 'detection', 'updated', 'logout']) handle(t);
}

// Relative times ("il y a 3 minutes") stay fresh.
setInterval(() => {
  if (state.me && !document.hidden) refreshLists();
}, 60000);

// ----- boot -----

(async () => {
  try {
    const session = await api('GET', '/api/console/me');
    await startApp(session);
  } catch (err) {
    if (err instanceof NetworkError) networkDown();
    showLogin('');
  }
})();

// ----- canned responses -----

/** The canned responses filled for this young person (first name, mediator, nearest structure), by category. */
async function loadCanned(key) {
  const select = $('canned');
  select.replaceChildren(el('option', { value: '', text: 'Choisir une réponse type…' }));
  show($('canned-missing'), false);
  state.canned = [];
  try {
    const r = await call('GET', `/api/console/canned-responses?conversation=${encodeURIComponent(key)}`, undefined, { background: true });
    if (state.currentKey !== key) return;
    state.canned = r.items;
    for (const cat of r.categories) {
      const items = r.items.filter((i) => i.category === cat.id);
      if (items.length) select.append(el('optgroup', { label: cat.label }, ...items.map((i) => el('option', { value: i.id, text: i.title }))));
    }
  } catch {
    // The composer works without them.
  }
}

$('canned').addEventListener('change', () => {
  const select = $('canned');
  const item = (state.canned || []).find((i) => i.id === select.value);
  select.value = '';
  if (!item || !item.filled) return;
  const box = $('composer-text');
  box.value = box.value.trim() ? `${box.value.trimEnd()}\n${item.filled.text}` : item.filled.text;
  const missing = $('canned-missing');
  missing.textContent = item.filled.missing.length ? `À compléter avant d’envoyer : ${item.filled.missing.map((m) => `{${m}}`).join(', ')}` : '';
  show(missing, item.filled.missing.length > 0);
  box.focus();
});

// ----- on a phone: transcript, profile, notes and follow-ups as tabs -----

function showPane(pane) {
  for (const b of document.querySelectorAll('.pane-tab')) b.setAttribute('aria-selected', String(b.dataset.show === pane));
  document.body.classList.remove('pane-transcript', 'pane-profile', 'pane-notes', 'pane-followups');
  document.body.classList.add(`pane-${pane}`);
  if (pane === 'transcript') scrollTranscriptToEnd();
}

for (const b of document.querySelectorAll('.pane-tab')) b.addEventListener('click', () => showPane(b.dataset.show));
