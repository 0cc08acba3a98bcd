/**
 * One understanding layer for every question (issue 15): choice, confirm, number, date, and the text formats
 * name / postcode / email / phone. Reads the message through the barrier detector's normalisation
 * (src/understanding/text.ts), the per-option synonyms and the shared lexicon (dialogs/understanding/), numbers and
 * dates in words, "jsp / passer" (skip), "jamais" (never), "je te l'ai dit" (the stored value), emoji and option
 * numbers; and the facts a message gives ahead for later questions (`facts`). Pure and cheap: the date-time model
 * of recognizers-text is called only when the cheap parsers find nothing.
 */
import type { Texts } from '../i18n';
import type { Locale } from '../i18n';
import { recognizeDate, recognizeEmail, recognizePhone, recognizePostcode, recognizeYesNo, departementOf } from '../dialogs/recognizers';
import type { FlowRegistry } from '../dialogs/scripts/loader';
import { ChoiceStep, Flow, PromptStep, isPrompt } from '../dialogs/scripts/types';
import { loadUnderstandingData, UnderstandingData } from './data';
import { findDate } from './dates';
import { findAge, findNumbers } from './numbers';
import { TextNormaliser, distance, findPhrase } from './text';

export type Understood =
  /** `low`: a guess (typo, partial word): the engine confirms it before storing it. */
  | { kind: 'value'; value: unknown; next?: string; extra?: Record<string, unknown>; confidence: 'high' | 'low' }
  | { kind: 'skip' }
  | { kind: 'never' }
  /** "je te l'ai dit": `value` is the stored one (undefined when none is stored). */
  | { kind: 'already'; value: unknown }
  | { kind: 'none' };

export interface UnderstandContext {
  flowId: string;
  locale: Locale;
  now: Date;
  /** The answers known so far (for "je te l'ai dit"). */
  vars?: Record<string, unknown>;
}

interface CompiledOption {
  value: string;
  next?: string;
  match: string[][];
  not: string[][];
  ahead: string[][];
}

/** Flows in conversation order: a fact is "ahead" when its question comes later in this order. */
const CONVERSATION_ORDER = ['welcome', 'diagnostic', 'orientation', 'cv_identity', 'cv_contact', 'cv_target', 'cv_experiences', 'cv_education', 'cv_skills', 'letter'];

/** Choice steps whose `ahead` phrases are looked for in every message, with the variable they fill. */
const FACT_STEPS: Array<[flow: string, step: string]> = [
  ['diagnostic', 'ask_situation'],
  ['diagnostic', 'ask_diploma'],
  ['diagnostic', 'ask_need'],
  ['diagnostic', 'ask_cv_status'],
  ['diagnostic', 'ask_equipment'],
  ['diagnostic', 'ask_mobility'],
];

/** "caissière chez Carrefour": the job and the employer in one answer to "Quel poste ?" (the employer is then not asked). */
const JOB_AT = /^(.{2,60}?)\s+(?:(?:chez|at|pour|for|aux|au|[àa] la)\s+|[àa] l['’]\s*)(.{2,60})$/i;
/** Working answers of repeatable sections: a fact ahead replaces the previous entry's value. */
const TRANSIENT_FACTS = new Set(['exp_company']);

/** Words that are never part of a first or last name (a question or a sentence instead of a name). */
const NOT_NAME = new Set([
  'pourquoi', 'comment', 'quoi', 'savoir', 'veux', 'peux', 'sais', 'suis', 'es', 'est', 'ai', 'as', 'tu', 'vous', 'je', 'pas', 'non', 'oui', 'ouais', 'nan',
  'cherche', 'travail', 'taf', 'boulot', 'ans', 'mon', 'ton', 'mes', 'tes', 'the', 'what', 'why', 'you', 'your', 'do', 'dont', 'know', 'need', 'want',
  'faire', 'fais', 'fait', 'dire', 'dis', 'dit', 'rien', 'aucun', 'aucune', 'personne', 'question', 'comprends', 'comprend', 'besoin', 'aide', 'cv',
]);

const NEGATORS = new Set(['pas', 'sans', 'jamais', 'plus', 'no', 'not', 'aucun', 'aucune', 'ni']);
const SINCE_WORDS = /\b(depuis|ca fait|cela fait|il y a|y a|since|for|ago|en|from)\b/;
const NAME_STOP = new Set([
  'au', 'a', 'en', 'le', 'la', 'les', 'un', 'une', 'pas', 'trop', 'dans', 'chez', 'de', 'du', 'des', 'sur', 'tres', 'super', 'grave', 'la', 'ici', 'perdu',
  'perdue', 'motive', 'motivee', 'chomage', 'etudiant', 'etudiante', 'nul', 'nulle', 'fatigue', 'fatiguee', 'desole', 'desolee', 'content', 'contente',
  'pret', 'prete', 'interesse', 'interessee', 'sur', 'bien', 'mal', 'ne', 'nee', 'inscrit', 'inscrite', 'en', 'the', 'an', 'from', 'looking', 'not', 'ok',
  'jeune', 'seul', 'seule', 'mineur', 'mineure', 'majeur', 'majeure', 'francais', 'francaise', 'vendeur', 'vendeuse', 'livreur', 'apprenti', 'apprentie',
  'dispo', 'disponible', 'libre', 'occupe', 'occupee', 'malade', 'enceinte', 'mere', 'pere', 'maman', 'papa', 'sans', 'toujours', 'encore', 'deja', 'ton',
  'ta', 'tes', 'mon', 'ma', 'mes', 'quoi', 'qui', 'bloque', 'bloquee', 'nouveau', 'nouvelle', 'ce', 'cet', 'cette', 'tout', 'toute', 'mais', 'et', 'ou',
  'oui', 'non', 'nan', 'ouais', 'je', 'tu', 'il', 'elle', 'on', 'nous', 'vous', 'ils', 'elles', 'moi', 'toi', 'lui', 'pour', 'par', 'avec', 'comme', 'que',
  'si', 'est', 'suis', 'es', 'ai', 'as', 'l', 'd', 'j', 'm', 't', 's', 'c', 'n', 'y', 'qu',
]);

export class Understanding {
  private readonly options = new Map<string, CompiledOption[]>();
  private readonly skip: Set<string>;
  private readonly never: Set<string>;
  private readonly yes: Set<string>;
  private readonly no: Set<string>;
  private readonly alreadySaid: string[][];
  private readonly chatWords: string[][];
  private readonly fillers: string[][];
  private readonly accented = new Map<string, string>();
  private readonly order = new Map<string, number>();
  /** Prompt steps by "flow/step". */
  private readonly steps = new Map<string, PromptStep>();

  constructor(private readonly text: TextNormaliser, data: UnderstandingData, private readonly flows: FlowRegistry, private readonly texts: Texts) {
    const compile = (list: string[] | undefined) => (list ?? []).map((p) => text.words(p)).filter((w) => w.length > 0);
    const set = (list: string[]) => new Set(list.map((p) => text.norm(p)).filter(Boolean));
    this.skip = set(data.lexicon.skip);
    this.never = set(data.lexicon.never);
    this.yes = set(data.lexicon.yes);
    this.no = set(data.lexicon.no);
    this.alreadySaid = compile(data.lexicon.alreadySaid).sort((a, b) => b.length - a.length);
    this.chatWords = compile(data.lexicon.nameChatWords).sort((a, b) => b.length - a.length);
    this.fillers = compile(data.lexicon.fillers).sort((a, b) => b.length - a.length);
    for (const n of data.lexicon.accentedNames) {
      const k = text.norm(n);
      if (!this.accented.has(k)) this.accented.set(k, n);
    }
    for (const id of flows.ids()) {
      const flow = flows.get(id)!;
      for (const step of flow.steps) {
        if (!isPrompt(step)) continue;
        this.steps.set(`${id}/${step.id}`, step);
        if (step.type !== 'choice') continue;
        const syn = data.synonyms[id]?.[step.id] ?? {};
        this.options.set(
          `${id}/${step.id}`,
          step.options.map((o) => {
            const titles = (['fr', 'en'] as const).filter((l) => texts.has(l, o.title)).map((l) => texts.t(l, o.title));
            return {
              value: o.value,
              next: o.next,
              match: compile([o.value.replace(/_/g, ' '), ...titles, ...(o.match ?? []), ...(syn[o.value]?.match ?? [])]),
              not: compile(syn[o.value]?.not),
              ahead: compile(syn[o.value]?.ahead),
            };
          }),
        );
      }
    }
    let i = 0;
    for (const id of CONVERSATION_ORDER) {
      const flow = flows.get(id);
      for (const step of flow?.steps ?? []) if (isPrompt(step) && !this.order.has(step.var)) this.order.set(step.var, i++);
    }
  }

  /** The prompt step `flow/step`, if it exists. */
  step(flowId: string, stepId: string): PromptStep | undefined {
    return this.steps.get(`${flowId}/${stepId}`);
  }

  // ------------------------------------------------------------------ helpers

  private stripPhrases(w: string[], list: string[][]): string[] {
    let out = [...w];
    for (const p of list) {
      for (let at = findPhrase(out, p); at >= 0; at = findPhrase(out, p)) out = [...out.slice(0, at), ...out.slice(at + p.length)];
    }
    return out;
  }

  private withoutFillers(w: string[]): string[] {
    return this.stripPhrases(w, this.fillers);
  }

  isSkip(w: string[], raw: string): boolean {
    if (/^\s*\?+\s*$/.test(raw) || /^\s*(\.\.\.|…)\s*$/.test(raw)) return true;
    const n = w.join(' ');
    if (this.skip.has(n)) return true;
    const core = this.withoutFillers(w).join(' ');
    return core.length > 0 && this.skip.has(core);
  }

  isNever(w: string[]): boolean {
    const core = this.withoutFillers(w);
    const n = core.join(' ');
    if (this.never.has(n) || this.never.has(w.join(' '))) return true;
    if (!core.length) return false;
    if ((core[0] === 'jamais' || core[0] === 'never') && core.length <= 4) return true;
    return /\b(jamais postule|jamais candidate|jamais envoye|jamais fait de candidature|never applied|pas encore postule|aucune candidature)\b/.test(n);
  }

  private already(w: string[]): { at: number; rest: string[] } | undefined {
    for (const p of this.alreadySaid) {
      const at = findPhrase(w, p);
      if (at >= 0) return { at, rest: [...w.slice(0, at), ...w.slice(at + p.length)] };
    }
    return undefined;
  }

  // ------------------------------------------------------------------ choices

  private matchOptions(options: CompiledOption[], w: string[], useAhead: boolean): { index: number; confidence: 'high' | 'low' } | undefined {
    if (!w.length) return undefined;
    const n = w.join(' ');
    if (!useAhead) {
      for (let i = 0; i < options.length; i++) {
        if (options[i].not.some((p) => findPhrase(w, p) >= 0)) continue;
        if (options[i].match.some((p) => p.join(' ') === n)) return { index: i, confidence: 'high' };
      }
    }
    let best: { index: number; score: number; at: number } | undefined;
    let tie = false;
    for (let i = 0; i < options.length; i++) {
      const o = options[i];
      if (o.not.some((p) => findPhrase(w, p) >= 0)) continue;
      const list = useAhead ? o.ahead : o.match;
      for (const p of list) {
        const at = findPhrase(w, p);
        if (at < 0) continue;
        // "pas de cap", "sans permis": a negated mention is not this option (unless the phrase is itself negative).
        if (!NEGATORS.has(p[0]) && (NEGATORS.has(w[at - 1] ?? '') || ((w[at - 1] === 'de' || w[at - 1] === 'd') && NEGATORS.has(w[at - 2] ?? '')))) continue;
        const score = p.join(' ').length;
        if (!best || score > best.score || (score === best.score && at < best.at)) {
          tie = Boolean(best && score === best.score && at === best.at && best.index !== i);
          best = { index: i, score, at };
        } else if (score === best.score && at === best.at && best.index !== i) tie = true;
      }
    }
    if (best && !tie) return { index: best.index, confidence: 'high' };
    if (useAhead || best) return undefined;
    // Typos: one word of the answer close to a one-word option phrase ("formaton", "chomge"), or the start of a title ("modif").
    let guess: { index: number; d: number } | undefined;
    for (let i = 0; i < options.length; i++) {
      for (const p of options[i].match) {
        if (p.length === 1 && p[0].length >= 4) {
          for (const word of w) {
            if (word.length < 4) continue;
            const d = distance(word, p[0], p[0].length >= 7 ? 2 : 1);
            if (d <= (p[0].length >= 7 ? 2 : 1) && (!guess || d < guess.d)) guess = { index: i, d };
          }
        }
        if (n.length >= 4 && p.join(' ').startsWith(n) && (!guess || guess.d > 1)) guess = { index: i, d: 1 };
      }
    }
    return guess ? { index: guess.index, confidence: 'low' } : undefined;
  }

  private choice(step: ChoiceStep, flowId: string, w: string[]): Understood {
    const options = this.options.get(`${flowId}/${step.id}`) ?? [];
    if (w.length === 1 && /^\d{1,2}$/.test(w[0])) {
      const k = Number(w[0]);
      if (k >= 1 && k <= options.length) return { kind: 'value', value: options[k - 1].value, next: options[k - 1].next, confidence: 'high' };
    }
    const m = this.matchOptions(options, w, false) ?? this.matchOptions(options, this.withoutFillers(w), false);
    if (!m) return { kind: 'none' };
    const o = options[m.index];
    return { kind: 'value', value: o.value, next: o.next, confidence: m.confidence };
  }

  // ------------------------------------------------------------------ yes / no

  yesNo(w: string[], raw: string, locale: Locale): boolean | undefined {
    const core = this.withoutFillers(w);
    const n = core.join(' ');
    if (!n) return undefined;
    if (this.yes.has(n) || this.yes.has(w.join(' '))) return true;
    if (this.no.has(n) || this.no.has(w.join(' '))) return false;
    const first = core[0];
    if (['non', 'nan', 'no', 'nope', 'nah', 'jamais', 'never'].includes(first)) return false;
    if (['oui', 'ouais', 'ouai', 'yes', 'yep', 'yeah', 'ok', 'okay', 'oki', 'dac', 'daccord', 'grave', 'carrement', 'evidemment', 'volontiers', 'sure'].includes(first))
      return true;
    if (core.length <= 6) {
      for (const p of this.no) if (p.includes(' ') && ` ${n} `.includes(` ${p} `)) return false;
      for (const p of this.yes) if (p.includes(' ') && ` ${n} `.includes(` ${p} `)) return true;
    }
    return recognizeYesNo(n, locale) ?? recognizeYesNo(raw, locale);
  }

  /** The original text without its "je te l'ai dit" ("Bobigny jtai dit" → "Bobigny"). */
  private withoutAlreadySaid(raw: string): string {
    const toks = this.text.tokens(raw);
    const w = toks.map((t) => t.norm);
    for (const p of this.alreadySaid) {
      const at = findPhrase(w, p);
      if (at < 0) continue;
      const start = toks[at].start;
      const end = toks[at + p.length - 1].end;
      return `${raw.slice(0, start)} ${raw.slice(end)}`.replace(/\s+([,.!?])/g, '$1').replace(/^[\s,.!?-]+|[\s,.!?-]+$/g, '');
    }
    return raw;
  }

  // ------------------------------------------------------------------ names

  /** A first name out of the chat words ("jsuis Yanis", "moi c'est Inès", "ines jte lai dit"), capitalised, accents restored. */
  name(raw: string): string | undefined {
    const toks = this.text.tokens(raw);
    const w = toks.map((t) => t.norm);
    const removed = new Array<boolean>(w.length).fill(false);
    for (const list of [this.alreadySaid, this.chatWords]) {
      for (const p of list) {
        for (let from = 0; from < w.length; ) {
          const sub = w.map((x, i) => (removed[i] ? '\u0000' : x));
          const at = findPhrase(sub.slice(from), p);
          if (at < 0) break;
          for (let k = 0; k < p.length; k++) removed[from + at + k] = true;
          from = from + at + p.length;
        }
      }
    }
    // What follows a number ("Yanis 19 ans, 93") is not the name.
    const firstDigit = toks.findIndex((t, i) => !removed[i] && /\d/.test(t.norm));
    if (firstDigit > 0) for (let i = firstDigit; i < toks.length; i++) removed[i] = true;
    const spans: Array<[number, number]> = [];
    for (let i = 0; i < toks.length; i++) {
      if (removed[i]) continue;
      const last = spans[spans.length - 1];
      if (!last || last[0] !== toks[i].start) spans.push([toks[i].start, toks[i].end]);
    }
    if (!spans.length || spans.length > 4) return undefined;
    // Words joined by a hyphen in the message stay joined ("Jean-Baptiste").
    const merged: Array<[number, number]> = [];
    for (const sp of spans) {
      const last = merged[merged.length - 1];
      if (last && raw.slice(last[1], sp[0]) === '-') last[1] = sp[1];
      else merged.push([sp[0], sp[1]]);
    }
    const parts = merged.map(([s, e]) => raw.slice(s, e));
    if (parts.some((p) => /\d|@/.test(p))) return undefined;
    if (parts.length > 1 && parts.every((p) => NAME_STOP.has(this.text.norm(p)))) return undefined;
    if (parts.some((p) => this.text.words(p).some((x) => NOT_NAME.has(x)))) return undefined;
    return parts
      .map((p) => {
        const k = this.text.norm(p);
        const accented = this.accented.get(k);
        if (accented && !/[^\x00-\x7f]/.test(p)) return accented;
        return p
          .toLowerCase()
          .split(/(-)/)
          .map((x) => (x === '-' ? x : x.charAt(0).toUpperCase() + x.slice(1)))
          .join('');
      })
      .join(' ');
  }

  // ------------------------------------------------------------------ one answer

  /** Understands the answer to `step` (of flow `ctx.flowId`). */
  understand(step: PromptStep, raw: string, ctx: UnderstandContext): Understood {
    const text = raw.slice(0, 600);
    let w = this.text.words(text);
    // "je te l'ai dit": the stored value, else what remains of the message ("ines jte lai dit").
    const said = this.already(w);
    if (said) {
      const known = ctx.vars?.[step.var];
      if (known !== undefined && known !== null) return { kind: 'already', value: known };
      if (!said.rest.length || this.withoutFillers(said.rest).length === 0) return { kind: 'already', value: undefined };
      w = said.rest;
    }
    if (!w.length && !text.trim()) return { kind: 'none' };
    const skip = this.isSkip(w, text);
    switch (step.type) {
      case 'choice': {
        const r = this.choice(step, ctx.flowId, w);
        // An option that IS a skip phrase ("je sais pas quoi faire" is an orientation need) wins; a bare "jsp" skips.
        if (skip && !(r.kind === 'value' && r.confidence === 'high' && w.length > 3)) return { kind: 'skip' };
        return r;
      }
      case 'confirm': {
        if (skip) return { kind: 'skip' };
        const v = this.yesNo(w, text, ctx.locale);
        if (v !== undefined) return { kind: 'value', value: v, next: v ? step.yes : step.no, confidence: 'high' };
        return skip ? { kind: 'skip' } : { kind: 'none' };
      }
      case 'number': {
        if (skip) return { kind: 'skip' };
        const core = this.withoutFillers(w);
        const born = step.var === 'age' ? /\b(?:ne|nee|born|naissance)\b(?: \w+){0,2} ((?:19|20)\d\d)\b/.exec(core.join(' ')) : null;
        const n = born ? ctx.now.getUTCFullYear() - Number(born[1]) : step.var === 'age' ? findAge(core, true) : findNumbers(core)[0]?.value;
        if (n === undefined) return { kind: 'none' };
        if ((step.integer && !Number.isInteger(n)) || (step.min !== undefined && n < step.min) || (step.max !== undefined && n > step.max)) return { kind: 'none' };
        return { kind: 'value', value: n, confidence: 'high' };
      }
      case 'date': {
        if (this.isNever(w)) return { kind: 'never' };
        if (skip) return { kind: 'skip' };
        const range = step.range ?? 'past';
        // "pas à jour", "pas de date": not dates (the model reads "jour" as today).
        if (/\bpas a jour\b|\bpas de date\b|\ba jour\b|\b(mes|my) \d+\b/.test(w.join(' '))) return { kind: 'none' };
        const hit = findDate(w, ctx.now, range);
        if (hit) return { kind: 'value', value: hit.value, confidence: 'high' };
        const model = recognizeDate(text, ctx.locale, { now: ctx.now, range, withTime: step.withTime });
        return model ? { kind: 'value', value: model.value, confidence: 'high' } : { kind: 'none' };
      }
      case 'email': {
        const e = recognizeEmail(text);
        if (e) return { kind: 'value', value: e, confidence: 'high' };
        if (skip || this.yesNo(w, text, ctx.locale) === false) return { kind: 'skip' };
        return { kind: 'none' };
      }
      case 'phone': {
        const p = recognizePhone(text);
        if (p) return { kind: 'value', value: p, confidence: 'high' };
        return skip ? { kind: 'skip' } : { kind: 'none' };
      }
      case 'text': {
        const format = step.format ?? 'free';
        if (format === 'name') {
          if (skip) return { kind: 'skip' };
          const name = this.name(said ? said.rest.join(' ') : text) ?? this.nameAhead(text);
          return name ? { kind: 'value', value: name, confidence: 'high' } : { kind: 'none' };
        }
        if (format === 'postcode') {
          const pc = recognizePostcode(text);
          if (pc) return { kind: 'value', value: pc.postcode, extra: step.depVar ? { [step.depVar]: pc.departement } : undefined, confidence: 'high' };
          return skip ? { kind: 'skip' } : { kind: 'none' };
        }
        if (skip && step.optional) return { kind: 'skip' };
        let t = (said ? this.withoutAlreadySaid(raw) : raw).replace(/\s+/g, ' ').trim();
        const jobAt = step.var === 'exp_title' ? JOB_AT.exec(t) : null;
        if (jobAt) t = jobAt[1].trim();
        if (t.length < (step.minLength ?? 1)) return { kind: 'none' };
        if (skip) return { kind: 'skip' };
        const max = step.maxLength ?? 300;
        return { kind: 'value', value: t.length > max ? `${t.slice(0, max - 1).trimEnd()}…` : t, confidence: 'high' };
      }
      default:
        return { kind: 'none' };
    }
  }

  // ------------------------------------------------------------------ facts ahead

  /**
   * The facts a message gives for questions that come after `stepVar` in the conversation (answers ahead):
   * situation, since when, diploma, postcode (and département), age, first name, need, CV, equipment, email, mobility.
   */
  facts(raw: string, ctx: UnderstandContext & { stepVar?: string }): Record<string, unknown> {
    const text = raw.slice(0, 600);
    const w = this.text.words(text);
    const out: Record<string, unknown> = {};
    if (w.length < 2 && !/\d{5}|@/.test(text)) return out;
    const n = ` ${w.join(' ')} `;
    for (const [flowId, stepId] of FACT_STEPS) {
      const step = this.steps.get(`${flowId}/${stepId}`);
      const options = this.options.get(`${flowId}/${stepId}`);
      if (!step || !options) continue;
      const m = this.matchOptions(options, w, true);
      if (m) out[step.var] = options[m.index].value;
    }
    // Since when: a date with "depuis / il y a / ca fait / since" in a message that speaks of the situation.
    if ((out.situation !== undefined || ctx.stepVar === 'situation') && (SINCE_WORDS.test(n) || /\b(dernier|derniere|dernie|passe|passee|last)\b/.test(n))) {
      const d = findDate(w, ctx.now, 'past');
      if (d) out.situation_since = d.value;
    }
    // The last application: "j'ai postulé il y a 2 semaines", "jamais postulé".
    if (/\b(postule|candidate|candidature|applied)\b/.test(n)) {
      if (/\b(jamais postule|jamais candidate|never applied|pas encore postule|aucune candidature)\b/.test(n)) out.last_application = 'never';
      else if (/\b(j ai postule|ma derniere candidature|j ai envoye|i applied|last applied)\b/.test(n)) {
        const d = findDate(w.slice(w.findIndex((x) => x === 'postule' || x === 'candidature' || x === 'applied' || x === 'envoye')), ctx.now, 'past');
        if (d) out.last_application = d.value;
      }
    }
    const pc = /(?:^|[^\d])(\d{5})(?!\d)/.test(text) && !/\d{6,}|\d{2}[ .]\d{2}[ .]\d{2}[ .]\d{2}/.test(text) ? recognizePostcode(text) : undefined;
    if (pc) {
      out.postcode = pc.postcode;
      out.departement = departementOf(pc.postcode);
    }
    const age = findAge(w, false);
    if (age !== undefined && age >= 14 && age <= 35) out.age = age;
    const name = this.nameAhead(text);
    if (name) out.prenom = name;
    const email = recognizeEmail(text);
    if (email) {
      out.email = email;
      out.has_email = true;
    }
    if (ctx.stepVar === 'exp_title') {
      const m = JOB_AT.exec(raw.replace(/\s+/g, ' ').trim());
      if (m) out.exp_company = m[2].trim().replace(/[.!]+$/, '');
    }
    // Only what comes later than the question being answered (and never that question's own variable).
    const here = ctx.stepVar !== undefined ? this.order.get(ctx.stepVar) : undefined;
    for (const k of Object.keys(out)) {
      const base = k === 'departement' ? 'postcode' : k;
      const at = this.order.get(base);
      if (k === ctx.stepVar || (ctx.stepVar === 'postcode' && k === 'departement') || (here !== undefined && at !== undefined && at <= here)) delete out[k];
      else if (ctx.vars && ctx.vars[base] !== undefined && ctx.vars[base] !== null && k !== 'departement' && !TRANSIENT_FACTS.has(k)) delete out[k];
    }
    if (out.postcode === undefined) delete out.departement;
    return out;
  }

  /** A first name stated in a sentence: "moi c'est Inès", "je m'appelle Yanis", "jsuis Yanis, 19 ans", "my name is Sam". */
  private nameAhead(raw: string): string | undefined {
    const toks = this.text.tokens(raw);
    const w = toks.map((t) => t.norm);
    const intros: string[][] = [
      ['moi', 'c', 'est'], ['je', 'm', 'appelle'], ['je', 'm', 'apelle'], ['mon', 'prenom', 'c', 'est'], ['mon', 'prenom', 'est'], ['my', 'name', 'is'],
      ['je', 'suis'], ['i', 'm'], ['c', 'est'], ['call', 'me'], ['on', 'm', 'appelle'],
    ];
    for (const p of intros) {
      const at = findPhrase(w, p);
      if (at < 0) continue;
      const i = at + p.length;
      const tok = toks[i];
      if (!tok) continue;
      const original = raw.slice(tok.start, tok.end);
      const k = tok.norm;
      if (NAME_STOP.has(k) || /\d/.test(original) || k.length < 2) continue;
      const strong = p[0] !== 'je' && p[0] !== 'i' && p[0] !== 'c';
      const known = this.accented.has(k);
      const capitalised = /^\p{Lu}\p{Ll}+$/u.test(original);
      if (!(strong || known || capitalised)) continue;
      // "je suis Yanis" but not "je suis vendeur" / "je suis perdu": weak intros need a name-looking word.
      if (!strong && !known && (this.isWordOfOptions(k) || k.length > 12)) continue;
      return this.name(original);
    }
    return undefined;
  }

  private isWordOfOptions(word: string): boolean {
    for (const list of this.options.values()) for (const o of list) if (o.match.some((p) => p.includes(word))) return true;
    return false;
  }

  /** The flow a step belongs to (for callers that only know the step id, e.g. the eval script). */
  flowOf(flowId: string): Flow | undefined {
    return this.flows.get(flowId);
  }
}

/** The understanding layer of a checkout: the barrier normalisation, dialogs/understanding/*, the flows and texts. */
export function loadUnderstanding(root: string, flows: FlowRegistry, texts: Texts, strict = true): Understanding {
  return new Understanding(TextNormaliser.fromRoot(root), loadUnderstandingData(root, flows, strict), flows, texts);
}

/** The JSONL output value of an understanding: the option / boolean / integer / date, "skip", "never" or null. */
export function outputValue(u: Understood): unknown {
  if (u.kind === 'value') return u.value;
  if (u.kind === 'skip') return 'skip';
  if (u.kind === 'never') return 'never';
  if (u.kind === 'already') return u.value ?? null;
  return null;
}
