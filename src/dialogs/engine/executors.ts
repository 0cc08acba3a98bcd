import { ActionTypes, Activity, CardAction, MessageFactory, TurnContext } from 'botbuilder';
import type { Locale } from '../../i18n';
import { buildCv, buildLetter, cvFileName, cvText, documentLocale, letterFileName } from '../documentBuilder';
import type { Understood } from '../../understanding/understanding';
import { summarizeProfile } from '../summary';
import { communeButtons, recognizeCommune } from '../../referral/communeStep';
import { referralMessages } from '../../referral/message';
import { pickTasks } from '../../documents/taskPicker';
import {
  AppendStep,
  BranchStep,
  ChoiceStep,
  Condition,
  ConfirmStep,
  ConsentStep,
  DateStep,
  DocumentStep,
  EmailStep,
  EndStep,
  EraseStep,
  Flow,
  GotoStep,
  HandoffStep,
  LocaleStep,
  MessageStep,
  NumberStep,
  OrientationStep,
  PhoneStep,
  PromptStep,
  SESSION_VARS,
  SetStep,
  Step,
  StructuresStep,
  SummaryStep,
  MentoringStep,
  TextStep,
  assertNever,
} from '../scripts/types';
import type { EngineDeps } from './deps';
import { Session, sessionLocale } from './session';
import type { JourneyPort } from '../../figures/journey';
import { conversationKey } from '../../handoff/conversationStore';

/** What the flow does after a step. */
export type Outcome =
  | { kind: 'next'; to?: string }
  | { kind: 'wait' }
  | { kind: 'call'; flow: string }
  | { kind: 'end' }
  /** Ends every dialog (after an erasure or a runaway script). */
  | { kind: 'cancel' };

const NEXT: Outcome = { kind: 'next' };
const WAIT: Outcome = { kind: 'wait' };

export interface StepContext {
  turn: TurnContext;
  session: Session;
  deps: EngineDeps;
  flow: Flow;
}


// ---------------------------------------------------------------- helpers

export function localeOf(x: StepContext): Locale {
  return sessionLocale(x.session);
}

function display(value: unknown, x: StepContext): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return x.deps.texts.t(localeOf(x), value ? 'engine.yes' : 'engine.no');
  if (Array.isArray(value)) return String(value.length);
  if (typeof value === 'object') return '';
  return String(value);
}

/** The text of a key with `{var}` placeholders filled from the script variables (missing ones left empty). */
export function render(x: StepContext, key: string, extra: Record<string, string> = {}): string {
  return x.deps.texts.t(localeOf(x), key).replace(/\{(\w+)\}/g, (_m, name: string) => (name in extra ? extra[name] : display(x.session.vars[name], x)));
}

function buttons(x: StepContext, keys: string[]): CardAction[] {
  return keys.map((k) => {
    const title = x.deps.texts.t(localeOf(x), k);
    return { type: ActionTypes.ImBack, title, value: title };
  });
}

/** Sends a text, with channel-neutral suggested actions when `buttonKeys` are given. */
export async function say(x: StepContext, text: string, buttonKeys: string[] = []): Promise<void> {
  const activity: Partial<Activity> = buttonKeys.length ? MessageFactory.suggestedActions(buttons(x, buttonKeys), text) : MessageFactory.text(text);
  await x.turn.sendActivity(activity);
}

/** Sends a text with buttons whose titles are given as is (data such as commune names, not text keys). */
export async function sayTitles(x: StepContext, text: string, titles: string[]): Promise<void> {
  const actions: CardAction[] = titles.map((title) => ({ type: ActionTypes.ImBack, title, value: title }));
  await x.turn.sendActivity(actions.length ? MessageFactory.suggestedActions(actions, text) : MessageFactory.text(text));
}

/** Sets a variable; with consent (and unless `persist` is false), also saves it in the contact profile. */
export async function assign(x: StepContext, name: string, value: unknown, persist = true): Promise<void> {
  await assignAll(x, [{ name, value, persist }]);
}

/**
 * Sets several variables in order (like `assign` one after the other); those saved in the contact profile go in one
 * write (an answer with extra values, e.g. a postcode and its département: one database command, not one per value).
 */
export async function assignAll(x: StepContext, values: Array<{ name: string; value: unknown; persist?: boolean }>): Promise<void> {
  const profile: Record<string, unknown> = {};
  let save = false;
  for (const { name, value, persist = true } of values) {
    x.session.vars[name] = value;
    if (persist && x.session.vars.consent === true && !(SESSION_VARS as readonly string[]).includes(name)) {
      profile[name] = value;
      save = true;
    }
  }
  if (save) await x.deps.contacts.saveProfile(x.session.contactKey, profile);
}

export function evaluate(c: Condition, vars: Record<string, unknown>): boolean {
  if ('all' in c) return c.all.every((s) => evaluate(s, vars));
  if ('any' in c) return c.any.some((s) => evaluate(s, vars));
  if ('not' in c) return !evaluate(c.not, vars);
  const v = vars[c.var];
  if ('eq' in c) return v === c.eq;
  if ('ne' in c) return v !== c.ne;
  if ('in' in c) return c.in.includes(v as never);
  if ('lt' in c) return typeof v === 'number' && v < c.lt;
  if ('gte' in c) return typeof v === 'number' && v >= c.gte;
  return (v !== undefined && v !== null && v !== '') === c.exists;
}

// ---------------------------------------------------------------- prompts

/** The buttons of a prompt (choice options, yes / no), shown with the question and again with a re-prompt. */
export function promptButtonKeys(step: PromptStep): string[] {
  if (step.type === 'choice') return step.options.map((o) => o.title);
  if (step.type === 'confirm') return ['engine.yes', 'engine.no'];
  return [];
}

/** The common job a "tasks" text step is about (its title and company variables), if any. */
function suggestedJob(step: TextStep, x: StepContext) {
  const texts = (step.jobVars ?? []).map((v) => x.session.vars[v]).filter((v): v is string => typeof v === 'string');
  return texts.length ? x.deps.documents.jobs.find(...texts) : undefined;
}

/** The question of a "tasks" step, with the suggested tasks of the job numbered, and their numbers as buttons. */
async function askTasks(step: TextStep, x: StepContext, key: string): Promise<void> {
  const job = suggestedJob(step, x);
  if (!job) return say(x, render(x, key));
  const l = localeOf(x);
  const list = job.tasks.map((t, i) => `${i + 1}. ${l === 'en' ? t.en : t.fr}`).join('\n');
  const titles = [...job.tasks.map((_t, i) => String(i + 1)), x.deps.texts.t(l, 'cv.exp_tasks_all')];
  return sayTitles(x, `${render(x, key)}\n\n${render(x, 'cv.exp_tasks_suggest', { list })}`, titles);
}

/** The communes of the postcode a "commune" text step asks about. */
function communeCandidates(step: TextStep, x: StepContext) {
  const pc = x.session.vars[step.postcodeVar ?? 'postcode'];
  return x.deps.structures.communesOf(typeof pc === 'string' ? pc : undefined);
}

/** Where an already known answer leads (choice option / confirm branch), undefined = the step's next. */
export function answeredNext(step: PromptStep, value: unknown): string | undefined {
  if (step.type === 'choice') return step.options.find((o) => o.value === value)?.next;
  if (step.type === 'confirm') return value === true ? step.yes : value === false ? step.no : undefined;
  return undefined;
}

/** Sends the question of a prompt step. */
export function askPrompt(step: PromptStep, x: StepContext): Promise<void> {
  if (step.type === 'text' && step.format === 'commune') return sayTitles(x, render(x, step.prompt), communeButtons(communeCandidates(step, x)));
  if (step.type === 'text' && step.format === 'tasks') return askTasks(step, x, step.prompt);
  return say(x, render(x, step.prompt), promptButtonKeys(step));
}

/**
 * Understands an answer to a prompt step through the one understanding layer (src/understanding/): options and their
 * synonyms, yes / no, numbers and dates in words, names, "passer" / "jsp" (skip), "jamais" (never), "je te l'ai dit".
 */
export function understandAnswer(step: PromptStep, input: string, x: StepContext): Understood {
  // The formats that need the referral and job data (the commune of a postcode, a job's suggested tasks).
  if (step.type === 'text' && step.format === 'commune') {
    const c = recognizeCommune(input, communeCandidates(step, x));
    if (c) return { kind: 'value', value: c.code, extra: { [`${step.var}_name`]: c.name }, confidence: 'high' };
  }
  if (step.type === 'text' && step.format === 'tasks') {
    // Suggested tasks are stored in French: the CV is in French for a job in France.
    const picked = pickTasks(input, suggestedJob(step, x));
    if (picked) return { kind: 'value', value: picked.map((t) => t.fr).join('\n'), confidence: 'high' };
  }
  const understood = x.deps.understanding.understand(step, input, { flowId: x.flow.id, locale: localeOf(x), now: x.deps.options.now(), vars: x.session.vars });
  if (step.type === 'text' && step.format === 'commune' && understood.kind === 'value') return { kind: 'none' };
  if (step.type === 'text' && step.format === 'postcode' && step.communeVar && understood.kind === 'value' && typeof understood.value === 'string') {
    // One commune for this postcode: known at once, in the same write (several: the "commune" step asks).
    const communes = x.deps.structures.communesOf(understood.value);
    const one = communes.length === 1 ? communes[0] : undefined;
    return { ...understood, extra: { ...(understood.extra ?? {}), [step.communeVar]: one?.code ?? null, [`${step.communeVar}_name`]: one?.name ?? null } };
  }
  return understood;
}

/** The facts this message gives for later questions (answers ahead), for variables not known yet. */
export function factsAhead(step: PromptStep | undefined, input: string, x: StepContext): Record<string, unknown> {
  return x.deps.understanding.facts(input, { flowId: x.flow.id, locale: localeOf(x), now: x.deps.options.now(), vars: x.session.vars, stepVar: step?.var });
}

/** An answer as the young person reads it back: the option's title, Oui / Non, a date in words, the value. */
export function displayAnswer(step: PromptStep, value: unknown, x: StepContext): string {
  const locale = localeOf(x);
  if (step.type === 'choice') {
    const o = step.options.find((opt) => opt.value === value);
    if (o) return x.deps.texts.t(locale, o.title);
  }
  if (typeof value === 'boolean') return x.deps.texts.t(locale, value ? 'engine.yes' : 'engine.no');
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const d = new Date(`${value}T12:00:00Z`);
    return d.toLocaleDateString(locale === 'en' ? 'en-GB' : 'fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  }
  return value === undefined || value === null ? '' : String(value);
}

/** Sends the "not understood" message of a prompt (with its buttons again). */
export async function repromptAfterFailure(step: PromptStep, x: StepContext): Promise<void> {
  const key = step.reprompt ?? `engine.reprompt.${step.type}`;
  if (step.type === 'text' && step.format === 'commune') return sayTitles(x, render(x, key), communeButtons(communeCandidates(step, x)));
  await say(x, render(x, key), promptButtonKeys(step));
}

/** The journey, only for a young person who consented (nothing is recorded about the others). */
export function journeyOf(x: StepContext): JourneyPort | undefined {
  return x.session.vars.consent === true ? x.deps.journey : undefined;
}

// ---------------------------------------------------------------- other steps

async function runMessage(step: MessageStep, x: StepContext): Promise<Outcome> {
  await say(x, render(x, step.text), step.buttons ?? []);
  return NEXT;
}

async function runSet(step: SetStep, x: StepContext): Promise<Outcome> {
  const v = step.value;
  const value = v !== null && typeof v === 'object' ? ('copy' in v ? x.session.vars[v.copy] ?? null : []) : v;
  await assign(x, step.var, value);
  return NEXT;
}

/** Repeatable sections keep at most this many entries. */
export const MAX_LIST_ITEMS = 10;

async function runAppend(step: AppendStep, x: StepContext): Promise<Outcome> {
  const current = x.session.vars[step.list];
  const list = Array.isArray(current) ? [...(current as unknown[])] : [];
  const item: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(step.fields)) item[field] = x.session.vars[name] ?? null;
  list.push(item);
  await assign(x, step.list, list.slice(-MAX_LIST_ITEMS));
  return NEXT;
}

async function runBranch(step: BranchStep, x: StepContext): Promise<Outcome> {
  const hit = step.cases.find((c) => evaluate(c.when, x.session.vars));
  return { kind: 'next', to: hit ? hit.next : step.else };
}

async function runGoto(step: GotoStep): Promise<Outcome> {
  return { kind: 'call', flow: step.flow };
}

async function runHandoff(step: HandoffStep, x: StepContext): Promise<Outcome> {
  if (step.text) await say(x, render(x, step.text));
  await x.deps.handoff.requestHuman(x.turn, 'script');
  return NEXT;
}

async function runDocument(step: DocumentStep, x: StepContext): Promise<Outcome> {
  const locale = localeOf(x);
  if (x.session.vars.consent !== true) {
    await say(x, render(x, 'engine.document_needs_consent'));
    return NEXT;
  }
  const { texts, documents } = x.deps;
  // French for a job in France, whatever the chat language, unless the young person asked otherwise (cv_lang).
  const docLocale = documentLocale(x.session.vars);
  if (step.kind === 'cv') {
    const cv = buildCv(x.session.vars, { locale: docLocale, texts, now: x.deps.options.now(), jobs: documents.jobs });
    // The CV as text first (each section can be changed), then the PDF.
    await say(x, `${render(x, 'cv.text_version')}\n\n${cvText(cv, docLocale, texts)}`);
    const pdf = await documents.renderCv(cv, docLocale, texts);
    const att = await documents.save(x.session.contactKey, 'cv', cvFileName(cv), pdf);
    await x.turn.sendActivity({ type: 'message', text: render(x, 'cv.ready'), attachments: [{ contentType: att.contentType, contentUrl: att.contentUrl, name: att.name }] });
    await journeyOf(x)?.produced(x.session.contactKey, 'cv');
  } else {
    const letter = buildLetter(x.session.vars, docLocale, texts, x.deps.options.now(), documents.jobs);
    const pdf = await documents.renderLetter(letter);
    const att = await documents.save(x.session.contactKey, 'letter', letterFileName(letter), pdf);
    await x.turn.sendActivity({ type: 'message', text: render(x, 'letter.ready'), attachments: [{ contentType: att.contentType, contentUrl: att.contentUrl, name: att.name }] });
    await journeyOf(x)?.produced(x.session.contactKey, 'letter');
  }
  return NEXT;
}

async function runStructures(step: StructuresStep, x: StepContext): Promise<Outcome> {
  const { structures } = x.deps;
  const v = x.session.vars;
  const text = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const referral = structures.refer({
    postcode: text('postcode'),
    commune: text('commune'),
    departement: text(step.depVar ?? 'departement'),
    age: typeof v.age === 'number' ? v.age : undefined,
    disability: v.disability === true,
    papers: v.papers === true,
  });
  for (const m of referralMessages(referral, (key, extra) => render(x, key, extra), structures.departementName(referral.departement))) await say(x, m);
  // The structure the young person was pointed to first: recorded, and two weeks later the bot asks whether they went.
  const first = referral.local[0];
  const named = first ? { structureId: first.id, structureName: first.name, structureKind: first.kind } : referral.locator ? { structureName: referral.locator.name, structureKind: 'locator' } : undefined;
  const a = x.turn.activity;
  if (named) await journeyOf(x)?.referred({ userKey: x.session.contactKey, conversationKey: conversationKey(a.channelId, a.conversation?.id ?? 'unknown'), by: 'bot', ...named });
  return NEXT;
}

/** Before asking which commune: nothing to ask when the postcode has one commune (or none we know), or the answer is known. */
async function prepareCommune(step: TextStep, x: StepContext): Promise<Outcome | undefined> {
  const candidates = communeCandidates(step, x);
  const known = x.session.vars[step.var];
  if (candidates.length > 1 && !candidates.some((c) => c.code === known)) return undefined;
  if (candidates.length <= 1 && (candidates[0]?.code ?? null) !== (known ?? null)) await assignAll(x, [{ name: step.var, value: candidates[0]?.code ?? null, persist: step.save !== false }, { name: `${step.var}_name`, value: candidates[0]?.name ?? null, persist: step.save !== false }]);
  return NEXT;
}

async function runOrientation(step: OrientationStep, x: StepContext): Promise<Outcome> {
  const tags = step.from.flatMap((name) => {
    const v = x.session.vars[name];
    return Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
  });
  const sectors = x.deps.sectors.suggest(tags);
  await assign(x, step.var, sectors.map((s) => s.id));
  const lines = sectors.map((s) => render(x, 'orientation.sector_line', { title: render(x, s.title), why: render(x, s.why), next: render(x, s.next) }));
  await say(x, [render(x, 'orientation.result_intro'), ...lines].join('\n\n'));
  return NEXT;
}

async function runConsent(step: ConsentStep, x: StepContext): Promise<Outcome> {
  const consent = x.session.vars[step.from] === true;
  x.session.vars.consent = consent;
  // Answers are saved from now on (each one as it comes); nothing personal was asked before this step.
  await x.deps.contacts.setConsent(x.session.contactKey, consent);
  const a = x.turn.activity;
  if (consent) await x.deps.journey?.consented(x.session.contactKey, conversationKey(a.channelId, a.conversation?.id ?? 'unknown'));
  return NEXT;
}

async function runLocale(step: LocaleStep, x: StepContext): Promise<Outcome> {
  const v = x.session.vars[step.from];
  if (v === 'fr' || v === 'en') {
    x.session.vars.locale = v;
    await x.deps.contacts.setLocale(x.session.contactKey, v);
  }
  return NEXT;
}

async function runMentoring(_step: MentoringStep, x: StepContext): Promise<Outcome> {
  if (!x.deps.mentoring) {
    await say(x, render(x, 'mentoring.unavailable'));
    return NEXT;
  }
  await x.deps.mentoring.start(x.turn, x.session);
  return NEXT;
}

async function runSummary(_step: SummaryStep, x: StepContext): Promise<Outcome> {
  await say(x, `${render(x, 'closing.summary_intro')}\n${summarizeProfile(x.session.vars, localeOf(x), x.deps.texts)}`);
  // The diagnostic is done: with consent, a check-in is scheduled some days later. A failure never breaks the conversation.
  if (x.session.vars.consent === true && x.deps.checkins) {
    const a = x.turn.activity;
    await x.deps.checkins.scheduleAutoCheckin(conversationKey(a.channelId, a.conversation?.id ?? 'unknown')).catch((err: Error) => {
      x.deps.logger.warn({ err: { name: err.name, message: err.message } }, 'could not schedule the automatic check-in');
    });
  }
  return NEXT;
}

async function runErase(_step: EraseStep, x: StepContext): Promise<Outcome> {
  const locale = localeOf(x);
  await x.deps.privacy.eraseUser(x.turn);
  x.session.vars = { locale };
  x.session.suspended = undefined;
  await say(x, render(x, 'commands.erased'));
  return { kind: 'cancel' };
}

async function runEnd(_step: EndStep): Promise<Outcome> {
  return { kind: 'end' };
}

/** Runs one step: one executor per step type, exhaustively. */
export async function runStep(step: Step, x: StepContext): Promise<Outcome> {
  switch (step.type) {
    case 'text':
    case 'choice':
    case 'confirm':
    case 'number':
    case 'date':
    case 'email':
    case 'phone': {
      if (step.type === 'text' && step.format === 'commune') {
        const skip = await prepareCommune(step, x);
        if (skip) return skip;
      }
      // Already answered (e.g. kept in the profile from an earlier conversation): resume after it.
      const known = x.session.vars[step.var];
      if (step.skipIfSet && known !== undefined) return { kind: 'next', to: answeredNext(step, known) };
      await journeyOf(x)?.reached(x.session.contactKey, x.flow.id, step.id);
      await askPrompt(step, x);
      return WAIT;
    }
    case 'message':
      return runMessage(step, x);
    case 'set':
      return runSet(step, x);
    case 'append':
      return runAppend(step, x);
    case 'branch':
      return runBranch(step, x);
    case 'goto':
      return runGoto(step);
    case 'handoff':
      return runHandoff(step, x);
    case 'document':
      return runDocument(step, x);
    case 'structures':
      return runStructures(step, x);
    case 'orientation':
      return runOrientation(step, x);
    case 'consent':
      return runConsent(step, x);
    case 'locale':
      return runLocale(step, x);
    case 'mentoring':
      return runMentoring(step, x);
    case 'summary':
      return runSummary(step, x);
    case 'erase':
      return runErase(step, x);
    case 'end':
      return runEnd(step);
    default:
      return assertNever(step);
  }
}
