// Script editor for administrators: browse flows, edit a step (texts per language and structure),
// edit whole files (flows, lexicons), preview the draft in a chat, publish, roll back, export.
// Talks to /api/console/admin (same session and CSRF token as the mediators' console).

import { api, ApiError, setCsrf } from '/console/api.js';
import { $, el, show } from '/console/dom.js';
import { LABELS } from '/console/format.js';

const API = '/api/console/admin';
const LOCALES = ['fr', 'en'];
const LANG = { fr: 'Français', en: 'Anglais' };

const state = { user: null, draft: null, files: {}, flows: [], texts: { fr: {}, en: {} }, flowId: null, stepId: null, rawFile: null, latest: null };

/** Calls the API through the console's client (CSRF header, typed errors); an expired session goes back to the login. */
async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && !path.endsWith('/login')) showLogin('Ta session a expiré : reconnecte-toi.');
    throw err;
  }
}

function banner(message, action) {
  const b = $('banner');
  b.textContent = message || '';
  if (action) b.append(' ', el('button', { type: 'button', text: action.label, onclick: action.run }));
  show(b, Boolean(message));
}

function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 403) return 'Action réservée aux administrateurs (ou jeton de sécurité manquant).';
    if (err.status === 409) return `Conflit : ${err.body.message || 'le brouillon a changé entre-temps'}.`;
    if (err.status === 503) return 'Base de données indisponible, réessaie dans un instant.';
    return err.body.message || `Erreur ${err.status}`;
  }
  // NetworkError from api.js (server unreachable); anything else unexpected gets the same message, as before.
  return 'Erreur réseau : impossible de joindre le serveur.';
}

function onConflict(err) {
  if (err instanceof ApiError && err.status === 409) {
    banner(`Un autre administrateur a modifié le brouillon (${err.body.message || ''}). Tes changements ne sont pas enregistrés.`, { label: 'Recharger le brouillon', run: () => reload().then(() => banner('')) });
    return true;
  }
  return false;
}

// ----- login -----

function showLogin(message) {
  show($('app-view'), false);
  show($('login-view'), true);
  $('login-error').textContent = message || '';
  $('login-email').focus();
}

async function enter(session) {
  if (session.user.role !== 'admin') {
    showLogin('Cet espace est réservé aux administrateurs.');
    return;
  }
  setCsrf(session.csrfToken);
  state.user = session.user;
  show($('login-view'), false);
  show($('app-view'), true);
  await reload();
  await loadVersions();
  await loadCanned();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  if (!email || !password) {
    $('login-error').textContent = 'Saisis ton adresse e-mail et ton mot de passe.';
    return;
  }
  $('login-submit').disabled = true;
  try {
    const session = await call('POST', '/api/console/login', { email, password });
    $('login-password').value = '';
    await enter(session);
  } catch (err) {
    $('login-error').textContent = err instanceof ApiError && err.status === 401 ? 'Adresse e-mail ou mot de passe incorrect.' : errorText(err);
  } finally {
    $('login-submit').disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  try {
    await call('POST', '/api/console/logout');
  } catch {
    /* the session is gone anyway */
  }
  setCsrf('');
  showLogin('Tu es déconnecté·e.');
});

// ----- draft -----

async function reload() {
  const data = await call('GET', `${API}/draft`);
  state.draft = data.draft;
  state.files = data.files;
  state.flows = data.flows;
  state.texts = data.texts;
  state.latest = data.latestVersion;
  renderStatus();
  renderNav();
  if (state.flowId) renderFlow(state.flowId);
}

function renderStatus() {
  const d = state.draft;
  const changed = [...d.summary.added, ...d.summary.changed, ...d.summary.removed];
  $('draft-status').textContent = `Brouillon rév. ${d.revision} (basé sur la version ${d.baseVersion}, version en ligne : ${state.latest ?? '—'}) · ${changed.length ? `${changed.length} fichier(s) modifié(s)` : 'aucune modification'} · dernière modification : ${d.author.name}`;
}

function renderNav() {
  const flows = $('flow-list');
  flows.replaceChildren(
    ...state.flows.map((f) =>
      el('li', {}, el('button', { type: 'button', class: f.id === state.flowId ? 'item active' : 'item', 'data-flow': f.id || f.file, text: f.id || f.file, onclick: () => openFlow(f.id) })),
    ),
  );
  const lexicons = Object.keys(state.files).filter((f) => f.startsWith('dialogs/barriers/')).sort();
  $('lexicon-list').replaceChildren(
    ...lexicons.map((f) => el('li', {}, el('button', { type: 'button', class: 'item', 'data-file': f, text: f.replace('dialogs/barriers/', ''), onclick: () => openRaw(f) }))),
  );
}

function textOf(locale, key) {
  return state.texts[locale][key] ?? '';
}

/** Text keys a step shows, with the pointer of the step property that holds each key. */
function stepTextRefs(step) {
  const refs = [];
  if (typeof step.prompt === 'string') refs.push({ key: step.prompt, field: 'step.prompt', label: 'Question' });
  if (typeof step.reprompt === 'string') refs.push({ key: step.reprompt, field: 'step.reprompt', label: 'Relance (réponse non comprise)' });
  if (typeof step.text === 'string') refs.push({ key: step.text, field: 'step.text', label: step.type === 'handoff' ? 'Message avant la mise en relation' : 'Message' });
  (step.options || []).forEach((o, i) => typeof o.title === 'string' && refs.push({ key: o.title, field: `step.options.${i}.title`, label: `Bouton « ${o.value} » (20 caractères max.)` }));
  (step.buttons || []).forEach((b, i) => typeof b === 'string' && refs.push({ key: b, field: `step.buttons.${i}`, label: `Bouton ${i + 1} (20 caractères max.)` }));
  return refs;
}

function summaryOf(step) {
  const ref = stepTextRefs(step)[0];
  return ref ? textOf('fr', ref.key) : step.type === 'goto' ? `→ parcours ${step.flow}` : step.type === 'branch' ? `${(step.cases || []).length} condition(s)` : '';
}

function openFlow(id) {
  state.flowId = id;
  state.stepId = null;
  show($('editor-empty'), false);
  show($('raw-form'), false);
  show($('step-form'), false);
  show($('canned-form'), false);
  renderNav();
  renderFlow(id);
}

function renderFlow(id) {
  const flow = state.flows.find((f) => f.id === id);
  if (!flow) return;
  show($('flow-view'), true);
  $('flow-title').textContent = `Parcours « ${flow.id} » (${flow.file})`;
  $('step-list').replaceChildren(
    ...flow.steps.map((s) =>
      el(
        'li',
        {},
        el(
          'button',
          { type: 'button', class: s.id === state.stepId ? 'step active' : 'step', 'data-step': s.id, onclick: () => openStep(s.id) },
          el('span', { class: 'step-id', text: s.id }),
          el('span', { class: 'step-type', text: s.type }),
          el('span', { class: 'step-summary', text: summaryOf(s) }),
        ),
      ),
    ),
  );
}

function clearErrors(form) {
  for (const n of form.querySelectorAll('.field-error')) n.textContent = '';
  for (const n of form.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
}

function openStep(stepId) {
  const flow = state.flows.find((f) => f.id === state.flowId);
  const step = flow && flow.steps.find((s) => s.id === stepId);
  if (!step) return;
  state.stepId = stepId;
  state.work = JSON.parse(JSON.stringify(step));
  state.textEdits = {};
  renderFlow(state.flowId);
  const form = $('step-form');
  clearErrors(form);
  $('step-errors').textContent = '';
  $('step-title').textContent = `Étape « ${step.id} » (${step.type})`;
  renderTexts();
  renderSettings();
  syncJson();
  show($('step-form'), true);
  show($('raw-form'), false);
}

/** The text fields of the working step: one per language and text key (typed values survive re-renders). */
function renderTexts() {
  const box = $('step-texts');
  const refs = stepTextRefs(state.work);
  box.replaceChildren();
  if (!refs.length) box.append(el('p', { class: 'hint', text: 'Cette étape n’affiche pas de texte.' }));
  refs.forEach((ref, i) => {
    const group = el('div', { class: 'text-group' }, el('p', { class: 'text-label', text: `${ref.label} — clé ${ref.key}` }));
    for (const l of LOCALES) {
      const id = `t-${i}-${l}`;
      const fields = `texts.${l}.${ref.key} ${ref.field}`;
      const short = ref.field.includes('title') || ref.field.includes('buttons');
      const input = el('textarea', { id, rows: short ? 1 : 3, 'data-key': ref.key, 'data-locale': l, 'data-field': fields, lang: l });
      const editKey = `${l}|${ref.key}`;
      input.value = editKey in state.textEdits ? state.textEdits[editKey] : textOf(l, ref.key);
      input.addEventListener('input', () => {
        state.textEdits[editKey] = input.value;
      });
      group.append(el('label', { for: id, text: LANG[l] }), input, el('p', { class: 'field-error', 'data-error-for': fields }));
    }
    box.append(group);
  });
}

function syncJson() {
  $('step-json').value = JSON.stringify(state.work, null, 2);
}

/** Sets (or removes, for '' / undefined) a property of the working step, then refreshes the JSON. */
function setProp(obj, key, value) {
  if (value === '' || value === undefined || value === null || (Array.isArray(value) && !value.length)) delete obj[key];
  else obj[key] = value;
  syncJson();
}

let fieldSeq = 0;
function field(label, pointer, input) {
  const id = `f-${++fieldSeq}`;
  input.id = id;
  input.setAttribute('data-field', pointer);
  return el('div', { class: 'setting' }, el('label', { for: id, text: label }), input, el('p', { class: 'field-error', 'data-error-for': pointer }));
}

function textInput(value, onChange, attrs = {}) {
  const input = el('input', attrs);
  input.value = value === undefined || value === null ? '' : String(value);
  input.addEventListener('change', () => onChange(input.value.trim()));
  return input;
}

function numberInput(value, onChange) {
  return textInput(value, (v) => onChange(v === '' ? undefined : Number(v)), { type: 'number', step: 'any' });
}

function checkbox(checked, onChange) {
  const input = el('input', { type: 'checkbox' });
  input.checked = Boolean(checked);
  input.addEventListener('change', () => onChange(input.checked || undefined));
  return input;
}

function select(value, choices, onChange) {
  const input = el('select', {}, ...choices.map(([v, label]) => el('option', { value: v, text: label })));
  input.value = value === undefined || value === null ? '' : String(value);
  input.addEventListener('change', () => onChange(input.value));
  return input;
}

/** Step ids of the open flow, as choices of a target ("" = the following step). */
function targets(emptyLabel = '(étape suivante)') {
  const flow = state.flows.find((f) => f.id === state.flowId);
  return [['', emptyLabel], ...flow.steps.map((s) => [s.id, s.id])];
}

const PROMPTS = ['text', 'choice', 'confirm', 'number', 'date', 'email', 'phone'];

/** Settings of the working step by type: target, variable, validation, options, branches, handoff. */
function renderSettings() {
  const w = state.work;
  const box = $('step-settings');
  box.replaceChildren();
  const add = (...nodes) => box.append(...nodes);
  if (w.type !== 'end') add(field('Étape suivante', 'step.next', select(w.next, targets(), (v) => setProp(w, 'next', v))));
  if (PROMPTS.includes(w.type)) {
    add(field('Variable qui reçoit la réponse', 'step.var', textInput(w.var, (v) => setProp(w, 'var', v))));
    add(field('Réponse facultative (« passer »)', 'step.optional', checkbox(w.optional, (v) => setProp(w, 'optional', v))));
    add(field('Essais avant de proposer une personne', 'step.maxAttempts', numberInput(w.maxAttempts, (v) => setProp(w, 'maxAttempts', v))));
    add(field('Ne pas reposer si déjà répondu', 'step.skipIfSet', checkbox(w.skipIfSet, (v) => setProp(w, 'skipIfSet', v))));
  }
  if (w.type === 'text') {
    add(field('Longueur minimale', 'step.minLength', numberInput(w.minLength, (v) => setProp(w, 'minLength', v))));
    add(field('Longueur maximale', 'step.maxLength', numberInput(w.maxLength, (v) => setProp(w, 'maxLength', v))));
    add(field('Format', 'step.format', select(w.format, [['', 'libre'], ['name', 'prénom / nom'], ['postcode', 'code postal']], (v) => setProp(w, 'format', v))));
  }
  if (w.type === 'number') {
    add(field('Minimum', 'step.min', numberInput(w.min, (v) => setProp(w, 'min', v))));
    add(field('Maximum', 'step.max', numberInput(w.max, (v) => setProp(w, 'max', v))));
    add(field('Nombre entier', 'step.integer', checkbox(w.integer, (v) => setProp(w, 'integer', v))));
  }
  if (w.type === 'date') {
    add(field('Dates acceptées', 'step.range', select(w.range, [['', 'passées (par défaut)'], ['future', 'à venir'], ['any', 'toutes']], (v) => setProp(w, 'range', v))));
  }
  if (w.type === 'confirm') {
    add(field('Si oui', 'step.yes', select(w.yes, targets(), (v) => setProp(w, 'yes', v))));
    add(field('Si non', 'step.no', select(w.no, targets(), (v) => setProp(w, 'no', v))));
  }
  if (w.type === 'goto') {
    add(field('Parcours lancé', 'step.flow', select(w.flow, state.flows.filter((f) => f.id).map((f) => [f.id, f.id]), (v) => setProp(w, 'flow', v))));
  }
  if (w.type === 'branch') {
    add(el('p', { class: 'hint', text: `${(w.cases || []).length} condition(s) : modifie-les dans le JSON ci-dessous ({ var, eq | ne | in | lt | gte | exists }, all, any, not).` }));
    add(field('Sinon', 'step.else', select(w.else, targets(), (v) => setProp(w, 'else', v))));
  }
  if (w.type === 'handoff') add(el('p', { class: 'hint', text: 'Mise en relation avec un·e médiateur·rice : le message ci-dessus est envoyé avant.' }));
  if (w.type === 'choice') {
    const list = el('div', { class: 'options' }, el('p', { class: 'text-label', text: 'Options de réponse (titres dans les textes ci-dessus)' }));
    (w.options || []).forEach((o, i) => {
      const row = el(
        'div',
        { class: 'option', 'data-option': i },
        field(`Option ${i + 1} — valeur`, `step.options.${i}.value`, textInput(o.value, (v) => setProp(o, 'value', v))),
        field('Mots reconnus (séparés par des virgules)', `step.options.${i}.match`, textInput((o.match || []).join(', '), (v) => setProp(o, 'match', v.split(',').map((x) => x.trim()).filter(Boolean)))),
        field('Étape suivante', `step.options.${i}.next`, select(o.next, targets('(suite de l’étape)'), (v) => setProp(o, 'next', v))),
        el('button', {
          type: 'button',
          text: 'Retirer cette option',
          onclick: () => {
            w.options.splice(i, 1);
            syncJson();
            renderTexts();
            renderSettings();
          },
        }),
      );
      list.append(row);
    });
    list.append(
      el('button', {
        type: 'button',
        id: 'option-add',
        text: 'Ajouter une option',
        onclick: () => {
          const n = (w.options || []).length + 1;
          const base = typeof w.prompt === 'string' && w.prompt.includes('.') ? w.prompt.slice(0, w.prompt.lastIndexOf('.')) : state.flowId;
          let key = `${base}.${w.id}_option_${n}`;
          while (textOf('fr', key) || textOf('en', key)) key += '_';
          (w.options ||= []).push({ value: `option_${n}`, title: key });
          syncJson();
          renderTexts();
          renderSettings();
        },
      }),
    );
    add(list);
  }
}

/** A 400 invalid_input answer (one field, a French message) as an error showFieldErrors places next to its field. */
function inputError(err) {
  return { formField: err.body.field, field: err.body.field, file: '', path: err.body.field, message: err.body.message };
}

function showFieldErrors(form, errors, topId) {
  clearErrors(form);
  const unplaced = [];
  for (const e of errors) {
    const field = e.formField || e.field;
    const targets = [...form.querySelectorAll('[data-error-for]')].filter((n) => n.dataset.errorFor.split(' ').includes(field));
    if (targets.length) {
      for (const t of targets) {
        // Each message once per field (several errors can carry the same one).
        if (!t.textContent.split(' · ').includes(e.message)) t.textContent = t.textContent ? `${t.textContent} · ${e.message}` : e.message;
        const input = form.querySelector(`[data-field="${CSS.escape(t.dataset.errorFor)}"]`);
        if (input) input.setAttribute('aria-invalid', 'true');
      }
    } else if (field && field.startsWith('step')) {
      const t = form.querySelector('[data-error-for="step"]');
      if (t) {
        t.textContent = `${t.textContent ? `${t.textContent} · ` : ''}${field} : ${e.message}`;
        $('step-json').setAttribute('aria-invalid', 'true');
      } else unplaced.push(e);
    } else unplaced.push(e);
  }
  $(topId).textContent = unplaced.map((e) => `${e.file}#${e.path} : ${e.message}`).join('\n');
}

$('step-json').addEventListener('change', () => {
  try {
    state.work = JSON.parse($('step-json').value);
  } catch (err) {
    showFieldErrors($('step-form'), [{ formField: 'step', message: `JSON invalide : ${err.message}` }], 'step-errors');
    return;
  }
  renderTexts();
  renderSettings();
});

$('step-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = $('step-form');
  let step;
  try {
    step = JSON.parse($('step-json').value);
  } catch (err) {
    showFieldErrors(form, [{ formField: 'step', message: `JSON invalide : ${err.message}` }], 'step-errors');
    return;
  }
  const texts = {};
  for (const input of form.querySelectorAll('#step-texts textarea')) {
    // Changed texts, and new keys (new options) once something is typed; an empty new text stays missing (and is reported).
    const original = state.texts[input.dataset.locale][input.dataset.key];
    if (original === undefined ? input.value !== '' : input.value !== original) (texts[input.dataset.locale] ||= {})[input.dataset.key] = input.value;
  }
  $('step-save').disabled = true;
  try {
    await call('PUT', `${API}/draft/flows/${encodeURIComponent(state.flowId)}/steps/${encodeURIComponent(state.stepId)}`, { revision: state.draft.revision, step, texts });
    const newId = typeof step.id === 'string' ? step.id : state.stepId;
    await reload();
    openStep(newId);
    $('step-errors').textContent = '';
    banner('Étape enregistrée dans le brouillon. Teste-la dans l’aperçu, puis publie.');
  } catch (err) {
    if (onConflict(err)) return;
    if (err instanceof ApiError && Array.isArray(err.body.errors)) showFieldErrors(form, err.body.errors, 'step-errors');
    else if (err instanceof ApiError && err.body.field) showFieldErrors(form, [inputError(err)], 'step-errors');
    else $('step-errors').textContent = errorText(err);
  } finally {
    $('step-save').disabled = false;
  }
});

$('step-cancel').addEventListener('click', () => {
  show($('step-form'), false);
  state.stepId = null;
  renderFlow(state.flowId);
});

// ----- whole files -----

function openRaw(file) {
  state.rawFile = file;
  show($('editor-empty'), false);
  show($('flow-view'), false);
  show($('step-form'), false);
  show($('canned-form'), false);
  $('raw-title').textContent = `Fichier ${file}`;
  $('raw-text').value = state.files[file] ?? '';
  $('raw-errors').textContent = '';
  $('raw-error-list').replaceChildren();
  show($('raw-form'), true);
}

$('flow-raw-open').addEventListener('click', () => {
  const flow = state.flows.find((f) => f.id === state.flowId);
  if (flow) openRaw(flow.file);
});

$('raw-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('raw-save').disabled = true;
  try {
    await call('PUT', `${API}/draft/files`, { revision: state.draft.revision, files: { [state.rawFile]: $('raw-text').value } });
    await reload();
    $('raw-errors').textContent = '';
    $('raw-error-list').replaceChildren();
    banner(`${state.rawFile} enregistré dans le brouillon.`);
  } catch (err) {
    if (onConflict(err)) return;
    if (err instanceof ApiError && Array.isArray(err.body.errors)) {
      $('raw-errors').textContent = err.code === 'invalid_syntax' ? 'Le fichier ne peut pas être lu (syntaxe) :' : 'Le brouillon ne serait plus valide :';
      $('raw-error-list').replaceChildren(...err.body.errors.map((x) => el('li', { 'data-field': x.field, text: `${x.file}#${x.path} — ${x.message} [${x.code}]` })));
    } else $('raw-errors').textContent = errorText(err);
  } finally {
    $('raw-save').disabled = false;
  }
});

$('raw-cancel').addEventListener('click', () => {
  show($('raw-form'), false);
  if (state.flowId) openFlow(state.flowId);
  else show($('editor-empty'), true);
});

// ----- publish, versions -----

/** The changes the draft would publish, as the admin reads them: texts before → after, other files by line. */
function renderDiff(files) {
  const STATUS = { added: 'ajouté', changed: 'modifié', removed: 'supprimé' };
  return files.map((f) =>
    el(
      'section',
      { class: 'diff-file' },
      el('h3', { text: `${f.file} (${STATUS[f.status] || f.status})` }),
      f.texts
        ? el(
            'ul',
            { class: 'diff-texts' },
            ...f.texts.map((t) =>
              el(
                'li',
                {},
                el('code', { text: t.key }),
                t.before !== null ? el('del', { text: t.before }) : null,
                t.after !== null ? el('ins', { text: t.after }) : null,
              ),
            ),
          )
        : el('pre', { class: 'diff-lines' }, ...(f.lines || []).map((l) => el('span', { class: `diff-${l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'ctx'}`, text: `${l.op} ${String(l.line).padStart(4)}  ${l.text}\n` }))),
      f.truncated ? el('p', { class: 'hint', text: 'D’autres changements ne sont pas affichés.' }) : null,
    ),
  );
}

// Publishing asks first: the admin sees what changes against the version online, then confirms.
$('publish-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('publish').disabled = true;
  try {
    const diff = await call('GET', `${API}/draft/diff`);
    if (!diff.files.length) {
      banner('Rien à publier : le brouillon est identique à la version en ligne.');
      return;
    }
    $('publish-confirm-intro').textContent = (`Brouillon rév. ${diff.revision} comparé à la version en ligne${diff.version ? ` (v${diff.version})` : ''} : ${diff.files.length} fichier(s).`);
    $('publish-diff').replaceChildren(...renderDiff(diff.files));
    show($('publish-confirm'), true);
    $('publish-yes').focus();
  } catch (err) {
    banner(errorText(err));
  } finally {
    $('publish').disabled = false;
  }
});

$('publish-no').addEventListener('click', () => {
  show($('publish-confirm'), false);
  $('publish').focus();
});

$('publish-yes').addEventListener('click', async () => {
  $('publish-yes').disabled = true;
  try {
    const res = await call('POST', `${API}/draft/publish`, { revision: state.draft.revision, message: $('publish-message').value.trim() || undefined });
    $('publish-message').value = '';
    show($('publish-confirm'), false);
    banner(`Version ${res.version.version} publiée : les nouvelles conversations l’utilisent, celles en cours finissent sur leur version.`);
    await reload();
    await loadVersions();
  } catch (err) {
    show($('publish-confirm'), false);
    if (onConflict(err)) return;
    banner(err instanceof ApiError && Array.isArray(err.body.errors) ? `Publication refusée : ${err.body.message}` : errorText(err));
  } finally {
    $('publish-yes').disabled = false;
  }
});

const KIND = { seed: 'version initiale', import: 'import du dépôt', publish: 'publication', rollback: 'retour arrière' };
const when = (iso) => new Date(iso).toLocaleString('fr-FR', { dateStyle: 'short', timeStyle: 'short' });

async function loadVersions() {
  const { items } = await call('GET', `${API}/versions`);
  $('version-list').replaceChildren(
    ...items.map((v) => {
      const files = [...v.summary.added, ...v.summary.changed, ...v.summary.removed];
      return el(
        'li',
        { class: v.current ? 'version current' : 'version', 'data-version': v.version },
        el('p', { class: 'v-title', text: `v${v.version} · ${KIND[v.kind] || v.kind}${v.current ? ' · en ligne' : ''}${v.basedOn ? ` (depuis v${v.basedOn})` : ''}` }),
        el('p', { class: 'v-meta', text: `${v.author.name}, ${when(v.createdAt)}` }),
        v.message ? el('p', { class: 'v-msg', text: v.message }) : null,
        el('p', { class: 'v-files', text: files.length ? `${files.length} fichier(s) : ${files.slice(0, 4).join(', ')}${files.length > 4 ? '…' : ''}` : 'aucun fichier modifié' }),
        el(
          'div',
          { class: 'row' },
          el('button', { type: 'button', text: 'Exporter', onclick: () => exportVersion(v.version) }),
          v.current ? null : el('button', { type: 'button', text: 'Revenir à cette version', onclick: () => rollback(v.version) }),
        ),
      );
    }),
  );
}

async function exportVersion(n) {
  try {
    const data = await call('GET', `${API}/versions/${n}/export`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = el('a', { href: url, download: `declic-scripts-v${n}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    banner(errorText(err));
  }
}

async function rollback(n) {
  if (!window.confirm(`Publier une copie de la version ${n} comme nouvelle version ? Le brouillon sera remplacé par cette version.`)) return;
  try {
    const res = await call('POST', `${API}/versions/${n}/rollback`, {});
    banner(`Version ${res.version.version} publiée (copie de la version ${n}).`);
    await reload();
    await loadVersions();
  } catch (err) {
    banner(errorText(err));
  }
}

// ----- preview -----

const SEVERITY_FR = { normal: 'normale', high: 'élevée', urgent: 'URGENTE' };

function chatLine(who, text, buttons = []) {
  const li = el('li', { class: `msg ${who}` }, el('p', { text }));
  if (buttons.length) li.append(el('div', { class: 'buttons' }, ...buttons.map((b) => el('button', { type: 'button', text: b, onclick: () => sendPreview(b) }))));
  $('chat').append(li);
  li.scrollIntoView({ block: 'end' });
}

async function sendPreview(text) {
  chatLine('me', text);
  $('chat-send').disabled = true;
  try {
    const turn = await call('POST', `${API}/preview/messages`, { text });
    if (turn.restarted && $('chat').children.length > 1) chatLine('system', `Nouvelle conversation d’aperçu (brouillon rév. ${turn.revision})`);
    // What production's barrier detection saw in the message (the same gate runs in the preview).
    if (turn.detection && turn.detection.severity !== 'none') chatLine('system', `Détection : ${turn.detection.labels.map((l) => LABELS[l] || l).join(', ')} (${SEVERITY_FR[turn.detection.severity] || turn.detection.severity})`);
    for (const r of turn.replies) chatLine('bot', r.text || (r.attachments.length ? `📎 ${r.attachments.map((a) => a.name || a.contentType).join(', ')}` : ''), r.buttons);
  } catch (err) {
    chatLine('system', err instanceof ApiError && Array.isArray(err.body.errors) ? `Le brouillon n’est pas valide : ${err.body.message}` : errorText(err));
  } finally {
    $('chat-send').disabled = false;
  }
}

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('chat-input').value.trim();
  if (!text) return;
  $('chat-input').value = '';
  void sendPreview(text);
});

$('chat-reset').addEventListener('click', async () => {
  try {
    await call('POST', `${API}/preview/reset`);
    $('chat').replaceChildren();
  } catch (err) {
    chatLine('system', errorText(err));
  }
});

// ----- start -----

(async () => {
  try {
    const session = await call('GET', '/api/console/me');
    await enter(session);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showLogin(errorText(err));
  }
})();

// ----- canned responses (published at once: GET|PUT|DELETE /api/console/canned-responses) -----

const CANNED = '/api/console/canned-responses';
const cannedState = { items: [], categories: [], current: null };

async function loadCanned() {
  try {
    const r = await call('GET', CANNED);
    cannedState.items = r.items;
    cannedState.categories = r.categories;
    $('canned-list').replaceChildren(
      ...r.items.map((i) =>
        el('li', {}, el('button', { type: 'button', class: i.id === (cannedState.current && cannedState.current.id) ? 'item active' : 'item', 'data-canned': i.id, text: `${i.title}${i.origin === 'edited' ? ' (modifiée)' : i.origin === 'added' ? ' (ajoutée)' : ''}`, onclick: () => openCanned(i) })),
      ),
    );
    $('canned-category').replaceChildren(...r.categories.map((c) => el('option', { value: c.id, text: c.label })));
  } catch (err) {
    banner(errorText(err));
  }
}

function openCanned(item) {
  cannedState.current = item;
  for (const id of ['editor-empty', 'flow-view', 'step-form', 'raw-form']) show($(id), false);
  show($('canned-form'), true);
  clearErrors($('canned-form'));
  $('canned-errors').textContent = '';
  $('canned-title').textContent = item ? `Réponse type « ${item.title} »` : 'Nouvelle réponse type';
  $('canned-id').value = item ? item.id : '';
  $('canned-id').disabled = Boolean(item);
  $('canned-category').value = item ? item.category : (cannedState.categories[0] || {}).id || '';
  $('canned-name').value = item ? item.title : '';
  $('canned-fr').value = item ? item.text.fr : '';
  $('canned-en').value = item && item.text.en ? item.text.en : '';
  show($('canned-remove'), Boolean(item));
  show($('canned-restore'), Boolean(item && item.origin === 'edited'));
  $('canned-name').focus();
}

$('canned-new').addEventListener('click', () => openCanned(null));

$('canned-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = $('canned-form');
  const id = $('canned-id').value.trim();
  const body = { category: $('canned-category').value, title: $('canned-name').value.trim(), text: { fr: $('canned-fr').value.trim(), ...($('canned-en').value.trim() ? { en: $('canned-en').value.trim() } : {}) } };
  try {
    const r = await call('PUT', `${CANNED}/${encodeURIComponent(id)}`, body);
    cannedState.current = r.item;
    banner(`Réponse type « ${r.item.title} » enregistrée : les médiateurs la voient dès maintenant.`);
    await loadCanned();
    openCanned(r.item);
  } catch (err) {
    if (err instanceof ApiError && err.body && err.body.field) showFieldErrors(form, [inputError(err)], 'canned-errors');
    else $('canned-errors').textContent = errorText(err);
  }
});

$('canned-remove').addEventListener('click', async () => {
  const item = cannedState.current;
  if (!item) return;
  try {
    await call('DELETE', `${CANNED}/${encodeURIComponent(item.id)}`);
    banner(`Réponse type « ${item.title} » retirée.`);
    cannedState.current = null;
    show($('canned-form'), false);
    show($('editor-empty'), true);
    await loadCanned();
  } catch (err) {
    $('canned-errors').textContent = errorText(err);
  }
});

$('canned-restore').addEventListener('click', async () => {
  const item = cannedState.current;
  if (!item) return;
  try {
    const r = await call('POST', `${CANNED}/${encodeURIComponent(item.id)}/restore`);
    banner(`Réponse type « ${item.title} » : texte d’origine rétabli.`);
    await loadCanned();
    if (r.item) openCanned(r.item);
  } catch (err) {
    $('canned-errors').textContent = errorText(err);
  }
});
