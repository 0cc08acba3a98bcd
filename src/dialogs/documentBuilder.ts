import type { Locale, Texts } from '../i18n';
import { capitalise, cleanChat, cleanPlace, de, field, frenchOf, isEnglishPhrase, jobForPhrase, languageItems, listItems, looksEnglish, normalisePeriod, pickGenderForm, que, sentence, taskBullets } from '../documents/clean';
import type { JobCatalog } from '../documents/jobs';
import type { CvData, CvEducation, CvExperience, LetterData } from '../documents/pdf';

/**
 * Maps script variables (the answers of dialogs/flows/cv*.yaml and letter.yaml) to documents. The variable names
 * below are the contract with those flows. Every answer is cleaned (src/documents/clean.ts) before it is printed.
 */

export interface DocContext {
  /** Language of the document: French for a job in France unless the young person asked otherwise (cv_lang). */
  locale: Locale;
  texts: Texts;
  now: Date;
  jobs?: JobCatalog;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);

/** The document's language: French unless the young person asked for English (cv_lang = "en"). */
export function documentLocale(vars: Record<string, unknown>): Locale {
  return vars.cv_lang === 'en' ? 'en' : 'fr';
}

/** "foot, cuisine et jeux vidéo / dessin" → ["Foot", "Cuisine", "Jeux vidéo", "Dessin"] (junk dropped). */
export function splitList(v: unknown): string[] {
  return listItems(v, 10);
}

function items<T>(v: unknown, map: (o: Record<string, unknown>) => T | undefined): T[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((o) => {
    if (!o || typeof o !== 'object') return [];
    const r = map(o as Record<string, unknown>);
    return r ? [r] : [];
  });
}

/** A company typed in lower case ("carrefour market") → "Carrefour Market"; a name typed with capitals is kept ("McDonald's Bondy"). */
export function properName(v: unknown): string | undefined {
  const f = field(v);
  if (!f) return undefined;
  const raw = cleanChat(v) ?? f;
  if (raw !== raw.toLowerCase()) return f;
  return raw
    .split(/\s+/)
    .map((w, i) => (i > 0 && /^(de|du|des|la|le|les|et|en|aux|au|d'|l')$/.test(w) ? w : capitalise(w)))
    .join(' ');
}

/** "je cherche un poste de vendeuse" → "Vendeuse"; "passer" → undefined. */
export function targetTitle(v: unknown, jobs?: JobCatalog, locale: Locale = 'fr'): string | undefined {
  let t = field(v);
  if (!t) return undefined;
  t = t
    .replace(/^(?:je (?:cherche|veux|voudrais|souhaite)(?: faire| être| etre| devenir| travailler comme| bosser comme)?|i(?:'m| am)? looking for|i want(?: to be)?)\s+/i, '')
    .replace(/^(?:un|une|du|le|la|a|an)\s+/i, '')
    .replace(/^(?:poste|job|taf|boulot|travail|emploi|contrat|position)\s+(?:de\s+|d'\s*|d\s+|comme\s+|en tant que\s+|as\s+|of\s+)/i, '')
    .trim();
  if (!t) return undefined;
  if (locale === 'fr' && looksEnglishTitle(t) && jobs) {
    const job = jobs.find(t);
    if (job) return job.fr;
  }
  return capitalise(t);
}

const looksEnglishTitle = (t: string) => /\b(assistant|cashier|waiter|waitress|driver|cleaner|crew|member|worker|sales|shop|receptionist|babysitter|volunteer|picker|cook|kitchen)\b/i.test(t) && !/[éèàç]/.test(t);
const toFrench = (xs: string[], locale: Locale) => (locale === 'fr' ? xs.map(frenchOf) : xs);

function experienceOf(o: Record<string, unknown>, ctx: DocContext | undefined): (CvExperience & { sortKey: number; index: number }) | undefined {
  let rawTitle = cleanChat(o.title);
  let company = properName(o.company);
  // "équipier chez McDo" in one answer: the company comes out of the title.
  const at = rawTitle?.match(/^(.+?)\s+(?:chez|à|au|aux|at|for|with)\s+(?:the\s+)?(.+)$/i);
  if (at && !/^stage$/i.test(at[1].trim())) {
    rawTitle = at[1];
    company = company ?? capitalise(at[2]);
  } else if (at) {
    company = company ?? capitalise(at[2]);
    rawTitle = at[1];
  }
  let title = targetTitle(rawTitle, ctx?.jobs, ctx?.locale);
  if (!title) return undefined;
  const period = ctx ? normalisePeriod(o.period, ctx.now) : undefined;
  const french = (ctx?.locale ?? 'fr') === 'fr';
  const englishTasks = french && typeof o.tasks === 'string' && isEnglishPhrase(o.tasks);
  let tasks = englishTasks ? [] : taskBullets(o.tasks);
  const job = ctx?.jobs?.find(title, company, rawTitle);
  if (job && french && looksEnglishTitle(title)) title = pickGenderForm(job.fr, rawTitle ?? '');
  if (!tasks.length && job) tasks = job.tasks.slice(0, 3).map((t) => (french ? t.fr : t.en));
  if (company && french) company = frenchOf(company);
  return { title, company, period: period?.text, tasks, sortKey: period?.sortKey ?? 0, index: 0 };
}

/** Licence and mobility lines from the diagnostic's mobility and the skills typed ("permis B"). */
function mobilityItems(vars: Record<string, unknown>, skillsText: string, texts: Texts | undefined, locale: Locale): string[] {
  const out: string[] = [];
  const f = skillsText.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const licence = f.match(/\bpermis\s*(b|am|a1|a2|a|c|bsr)\b/);
  if (licence) out.push(`${texts ? texts.t(locale, 'cv.licence') : 'Permis'} ${licence[1].toUpperCase()}`);
  else if (/\bpermis\b/.test(f) && !/\bpas (de|le) permis\b|\bsans permis\b/.test(f)) out.push(texts ? texts.t(locale, 'cv.licence_b') : 'Permis B');
  const m = str(vars.mobility);
  if (m && texts && texts.has(locale, `cv.mobility_value.${m}`)) out.push(texts.t(locale, `cv.mobility_value.${m}`));
  return out;
}

export function buildCv(vars: Record<string, unknown>, ctx?: DocContext): CvData {
  const locale = ctx?.locale ?? 'fr';
  const rawSkills = str(vars.cv_skills) ?? '';
  const experiences = items(vars.cv_experiences, (o) => experienceOf(o, ctx))
    .map((e, index) => ({ ...e, index }))
    // Most recent first; undated ones keep their order, after the dated ones.
    .sort((a, b) => b.sortKey - a.sortKey || a.index - b.index)
    .map(({ title, company, period, tasks }) => ({ title, company, period, tasks }));
  const education = items<CvEducation>(vars.cv_education, (o) => {
    const t0 = field(o.title);
    if (!t0) return undefined;
    const title = locale === 'fr' ? frenchOf(t0) : t0;
    const year = cleanChat(o.year);
    return { title, school: field(o.school), year: year ? (/^en cours|^in progress|^current/i.test(year) ? (locale === 'en' ? 'In progress' : 'En cours') : field(year)) : undefined };
  });
  const skills = toFrench(listItems(rawSkills.replace(/\b(?:permis\s*(?:b|am|a1|a2|a|c|bsr)?|bsr)\b/gi, ''), 8), locale);
  const strength = str(vars.strength);
  if (ctx && strength && ctx.texts.has(locale, `cv.strength_skill.${strength}`)) {
    const s = ctx.texts.t(locale, `cv.strength_skill.${strength}`);
    if (!skills.some((x) => x.toLowerCase() === s.toLowerCase())) skills.push(s);
  }
  const target = targetTitle(vars.cv_target, ctx?.jobs, locale);
  const cv: CvData = {
    firstName: field(vars.prenom) ?? '',
    lastName: field(vars.cv_nom) ?? '',
    email: str(vars.cv_email) ?? str(vars.email),
    phone: str(vars.cv_phone),
    // The town typed for the CV, else the commune chosen in the diagnostic.
    city: cleanPlace(vars.cv_city) ?? (typeof vars.commune_name === 'string' ? vars.commune_name : undefined),
    target,
    experiences,
    education,
    skills,
    languages: languageItems(vars.cv_languages),
    mobility: mobilityItems(vars, rawSkills, ctx?.texts, locale),
    interests: toFrench(listItems(vars.cv_interests, 6), locale),
  };
  if (ctx) cv.accroche = accroche(cv, vars, ctx);
  return cv;
}

/** The job as it reads inside a sentence: "poste de vendeuse", "poste d'employé polyvalent", "contrat en alternance comme apprenti boulanger". */
export function jobPhrase(title: string, locale: Locale): string {
  const t = jobForPhrase(title);
  if (locale === 'en') return `${/^[aeiou]/i.test(t) ? 'an' : 'a'} ${t} position`;
  if (/\b(apprenti|apprentie|alternance|apprentissage|alternant|alternante)\b/i.test(t)) return `contrat en alternance en tant ${que(t.replace(/^(?:une? )?(?:alternance|apprentissage)\s+(?:en|comme|de)\s+/i, ''))}`;
  if (/^stage\b/i.test(t)) return t;
  if (/^formation\b/i.test(t)) return t;
  return `poste ${de(t)}`;
}

const NOUN_ENDING = /(té|tion|sion|ence|ance|isme|ment|ude|ise)$/i;
const ADJECTIVE = /(e|é|ée|if|ive|el|elle|eux|euse|ant|ante|able|ible|iste|ile|ier|ière|ux|al|ale|eur|ide)$/i;

/** "a, b et c" (or "a, b and c"). */
function listText(xs: string[], locale: Locale): string {
  return xs.length === 1 ? xs[0] : `${xs.slice(0, -1).join(', ')} ${locale === 'en' ? 'and' : 'et'} ${xs[xs.length - 1]}`;
}

/** Qualities typed as adjectives ("souriante, ponctuelle") read "Je suis …"; the others ("travail en équipe") "Mes atouts : …". */
function qualitiesSentence(skills: string[], ctx: DocContext): string | undefined {
  const q = skills.slice(0, 3).map((s) => s.charAt(0).toLowerCase() + s.slice(1));
  if (!q.length) return undefined;
  const adjectives = q.filter((s) => !/\s/.test(s) && ADJECTIVE.test(s) && !NOUN_ENDING.test(s));
  const others = q.filter((s) => !adjectives.includes(s));
  return [
    adjectives.length ? ctx.texts.t(ctx.locale, 'cv.accroche.qualities_adj', { list: listText(adjectives, ctx.locale) }) : '',
    others.length ? ctx.texts.t(ctx.locale, 'cv.accroche.qualities', { list: listText(others, ctx.locale) }) : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** The profile paragraph, from templates (never free generation). */
export function accroche(cv: CvData, vars: Record<string, unknown>, ctx: DocContext): string | undefined {
  if (!cv.target) return undefined;
  const t = (k: string, v: Record<string, string> = {}) => ctx.texts.t(ctx.locale, `cv.accroche.${k}`, v);
  const parts: string[] = [];
  const job = jobPhrase(cv.target, ctx.locale);
  const exp = cv.experiences[0];
  const edu = cv.education[0];
  const internship = exp && /^stage\b/i.test(exp.title);
  if (exp && internship && cv.experiences.length === 1) parts.push(t('with_internship', { job, last: `${jobForPhrase(exp.title)}${exp.company ? ` ${ctx.locale === 'en' ? 'at' : 'chez'} ${exp.company}` : ''}` }));
  else if (exp) parts.push(t(cv.experiences.length > 1 ? 'with_experiences' : 'with_experience', { job, last: jobForPhrase(exp.title), n: String(cv.experiences.length) }));
  else if (edu && /en cours|in progress/i.test(edu.year ?? '')) parts.push(t('in_training', { job, diploma: jobForPhrase(edu.title) }));
  else if (edu) parts.push(t('with_diploma', { job, diploma: jobForPhrase(edu.title) }));
  else parts.push(t('first_job', { job }));
  const q = qualitiesSentence(cv.skills.filter((s) => !/\(/.test(s)), ctx);
  if (q) parts.push(q);
  parts.push(t(exp ? 'closing_exp' : 'closing_first'));
  return parts.join(' ');
}

const fileSafe = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);

/** "CV-Ines-Martin.pdf" */
export function cvFileName(cv: { firstName: string; lastName: string }): string {
  const who = [fileSafe(cv.firstName), fileSafe(cv.lastName)].filter(Boolean).join('-');
  return `CV${who ? `-${who}` : ''}.pdf`;
}

export function letterFileName(letter: { firstName: string; lastName: string }): string {
  const who = [fileSafe(letter.firstName), fileSafe(letter.lastName)].filter(Boolean).join('-');
  return `Lettre-motivation${who ? `-${who}` : ''}.pdf`;
}

/** The CV as a chat message, section by section (shown before the PDF; each section can be changed with "modifier"). */
export function cvText(cv: CvData, locale: Locale, texts: Texts): string {
  const l = (k: string) => texts.t(locale, `cv.pdf.${k}`);
  const lines: string[] = [`*${`${cv.firstName} ${cv.lastName}`.trim()}*`];
  if (cv.target) lines.push(cv.target);
  const contact = [cv.phone, cv.email, cv.city].filter(Boolean).join(' | ');
  if (contact) lines.push(contact);
  if (cv.accroche) lines.push('', cv.accroche);
  if (cv.experiences.length) {
    lines.push('', `*${l('experience')}*`);
    for (const e of cv.experiences) {
      lines.push(`- ${[e.title, e.company].filter(Boolean).join(' - ')}${e.period ? ` | ${e.period}` : ''}`);
      for (const task of e.tasks) lines.push(`   • ${task}`);
    }
  }
  if (cv.education.length) {
    lines.push('', `*${l('education')}*`);
    for (const e of cv.education) lines.push(`- ${[e.title, e.school, e.year].filter(Boolean).join(' - ')}`);
  }
  const list = (k: string, xs: string[]) => {
    if (xs.length) lines.push('', `*${l(k)}* : ${xs.join(', ')}`);
  };
  list('skills', cv.skills);
  list('languages', cv.languages);
  list('mobility', cv.mobility);
  list('interests', cv.interests);
  return lines.join('\n').slice(0, 3500);
}

// ---------------------------------------------------------------- letter

/** What the young person said about the company, recognised by theme (any language): each theme is a sentence template. */
const MOTIVES: Array<[string, RegExp]> = [
  ['near', /\b(pres|proche|a cote|quartier|loin|close|near|next to|home)\b/],
  ['products', /\b(produits?|marque|enseigne|magasin|products?|brand|store|shop)\b/],
  ['team', /\b(equipe|ambiance|collegues|team|atmosphere|people)\b/],
  ['learn', /\b(apprendre|formation|evoluer|progresser|learn|grow|train)\b/],
  ['clients', /\b(clients?|contact|public|gens|customers?|people)\b/],
  ['passion', /\b(passion|passionne|j'?aime|adore|love|like)\b/],
  ['known', /\b(client|connais|deja venu|souvent|regular)\b/],
];

/** Qualities an offer asks for, recognised in the pasted text. */
const OFFER_TERMS: Array<[string, RegExp]> = [
  ['team', /\b(travail|esprit) (en |d'?)equipe|\bteam\b/],
  ['punctual', /\bponctu|\bassidu|\bpunctual/],
  ['customer', /\bclient|\bcustomer|\baccueil/],
  ['dynamic', /\bdynami|\benergi/],
  ['rigour', /\brigueur|\brigoureu|\borganis/],
  ['flexible', /\bpolyvalen|\bflexib|\bweek-?end|\bhoraires/],
  ['motivated', /\bmotiv|\bsouriant|\bbonne humeur/],
];

const foldAll = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[’]/g, "'");

/** "tout de suite" → "dès maintenant", "septembre" → "à partir de septembre". */
export function availabilityPhrase(v: unknown, locale: Locale, texts: Texts): string {
  const s = cleanChat(v);
  if (!s) return texts.t(locale, 'letter.prose.available_now');
  const f = foldAll(s);
  if (/\b(tout de suite|maintenant|immediatement|des que possible|asap|now|right away|immediately|quand vous voulez|n'importe quand)\b/.test(f)) return texts.t(locale, 'letter.prose.available_now');
  const month = f.match(/\b(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|la rentree|january|february|march|april|may|june|july|august|september|october|november|december|monday)\b/);
  if (month) {
    const names: Record<string, string> = { fevrier: 'février', aout: 'août', decembre: 'décembre', 'la rentree': 'la rentrée' };
    const word = names[month[1]] ?? month[1];
    return texts.t(locale, 'letter.prose.available_from', { when: locale === 'fr' ? (word === 'la rentrée' ? word : word) : capitalise(word) });
  }
  return texts.t(locale, 'letter.prose.available_now');
}

export function buildLetter(vars: Record<string, unknown>, locale: Locale, texts: Texts, now: Date, jobs?: JobCatalog): LetterData {
  const ctx: DocContext = { locale, texts, now, jobs };
  const cv = buildCv(vars, ctx);
  const t = (k: string, v: Record<string, string> = {}) => texts.t(locale, `letter.prose.${k}`, v);
  const company = properName(vars.letter_company) ?? '';
  const position = targetTitle(vars.letter_position, jobs, locale) ?? cv.target ?? '';
  const job = position ? jobPhrase(position, locale) : '';
  const offer = cleanChat(vars.letter_offer);
  const date = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' }).format(now);

  // 1. The company (vous): why this company, from the themes of the answer (and the offer when pasted).
  const p1: string[] = [offer ? t('offer_intro', { job, company }) : t('spontaneous_intro', { job, company })];
  const why = cleanChat(vars.letter_why_company) ?? '';
  // The young person's own sentence when it is one ("j'adore le pain et le contact avec les clients"), else sentences by theme.
  const own = locale === 'fr' && !looksEnglish(why) && /^(j'|je )/i.test(why) && why.split(/\s+/).length >= 4 ? sentence(why) : undefined;
  const themes = own ? [] : MOTIVES.filter(([, re]) => re.test(foldAll(why))).map(([k]) => k).slice(0, 2);
  if (own) p1.push(own);
  for (const k of themes) p1.push(t(`motive.${k}`, { company }));
  if (!own && !themes.length) p1.push(t('motive.default', { company }));

  // 2. Me (moi): experience, formation, qualities, what the offer asks for.
  const p2: string[] = [];
  const exp = cv.experiences[0];
  if (exp) {
    const firstTask = exp.tasks[0] ? exp.tasks[0].charAt(0).toLowerCase() + exp.tasks[0].slice(1) : '';
    const key = /^stage\b/i.test(exp.title) ? 'me_internship' : /^b[ée]n[ée]vole\b|^volunteer/i.test(exp.title) ? 'me_volunteer' : 'me_experience';
    p2.push(t(exp.company ? `${key}_at` : key, { title: jobForPhrase(exp.title), company: exp.company ?? '' }) + (firstTask ? t('me_task', { task: firstTask }) : '.'));
  }
  const edu = cv.education[0];
  if (edu) p2.push(t(/en cours|in progress/i.test(edu.year ?? '') ? 'me_training' : 'me_diploma', { diploma: jobForPhrase(edu.title) }));
  const whyMe = cleanChat(vars.letter_why_me);
  const english = Boolean(whyMe && looksEnglish(whyMe) && locale === 'fr');
  const typed = whyMe ? listItems(whyMe.replace(/^(?:je suis|i am|i'm)\s+/i, ''), 3) : cv.skills.filter((x) => !/\(/.test(x)).slice(0, 3);
  // English qualities: their French nouns when we know them (else none: never English words in a French letter).
  const qualities = (english ? typed.map(frenchOf).filter((q) => !isEnglishPhrase(q)) : typed).map((q) => q.charAt(0).toLowerCase() + q.slice(1));
  if (qualities.length) {
    const list = qualities.length === 1 ? qualities[0] : `${qualities.slice(0, -1).join(', ')} ${locale === 'en' ? 'and' : 'et'} ${qualities[qualities.length - 1]}`;
    const adjectives = !english && qualities.every((s) => !/\s/.test(s) && !NOUN_ENDING.test(s));
    p2.push(t(adjectives ? 'me_qualities_adj' : 'me_qualities', { list }));
  }
  const asked = offer ? OFFER_TERMS.filter(([, re]) => re.test(foldAll(offer))).map(([k]) => t(`offer_term.${k}`)).slice(0, 3) : [];
  const and = locale === 'en' ? 'and' : 'et';
  if (asked.length) p2.push(t('me_offer', { terms: asked.length === 1 ? asked[0] : `${asked.slice(0, -1).join(', ')} ${and} ${asked[asked.length - 1]}` }));
  if (!p2.length) p2.push(t('me_default'));

  // 3. Us (nous): availability and the interview.
  const p3 = t('us', { availability: availabilityPhrase(vars.letter_availability, locale, texts), company });

  return {
    firstName: cv.firstName,
    lastName: cv.lastName,
    email: cv.email,
    phone: cv.phone,
    city: cv.city,
    company,
    recipient: company ? t('recipient') : undefined,
    // The place of the date line is the town, without a district ("Paris 18e" → "Paris").
    date: cv.city ? t('date_place', { city: cv.city.replace(/\s+\d{1,2}\s*(e|er|ème|eme)?$/i, ''), date }) : date,
    subject: t('subject', { job }),
    greeting: t('greeting'),
    paragraphs: [p1.join(' '), p2.join(' '), p3],
    closing: t('closing'),
  };
}
