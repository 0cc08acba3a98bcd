import type { Locale, Texts } from '../i18n';
import type { CvData, CvEducation, CvExperience, LetterData } from '../documents/pdf';

/**
 * Maps script variables (the answers of dialogs/flows/cv*.yaml and letter.yaml)
 * to documents. The variable names below are the contract with those flows.
 */

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);

/** "foot, cuisine et jeux vidéo / dessin" → ["foot", "cuisine", "jeux vidéo", "dessin"] */
export function splitList(v: unknown): string[] {
  const s = str(v);
  if (!s) return [];
  return s
    .split(/\s*(?:[,;/\n•]|\bet\b|\band\b|\s-\s)\s*/i)
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
    .map((x) => x.charAt(0).toUpperCase() + x.slice(1))
    .slice(0, 10);
}

function items<T>(v: unknown, map: (o: Record<string, unknown>) => T | undefined): T[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((o) => {
    if (!o || typeof o !== 'object') return [];
    const r = map(o as Record<string, unknown>);
    return r ? [r] : [];
  });
}

export function buildCv(vars: Record<string, unknown>): CvData {
  return {
    firstName: str(vars.prenom) ?? '',
    lastName: str(vars.cv_nom) ?? '',
    email: str(vars.cv_email) ?? str(vars.email),
    phone: str(vars.cv_phone),
    city: str(vars.cv_city),
    target: str(vars.cv_target),
    experiences: items<CvExperience>(vars.cv_experiences, (o) => {
      const title = str(o.title);
      return title ? { title, company: str(o.company), period: str(o.period), tasks: str(o.tasks) } : undefined;
    }),
    education: items<CvEducation>(vars.cv_education, (o) => {
      const title = str(o.title);
      return title ? { title, school: str(o.school), year: str(o.year) } : undefined;
    }),
    skills: splitList(vars.cv_skills),
    languages: splitList(vars.cv_languages),
    interests: splitList(vars.cv_interests),
  };
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

/** The CV as a short text message (for phones that cannot open PDFs). */
export function cvText(cv: CvData, locale: Locale, texts: Texts): string {
  const l = (k: string) => texts.t(locale, `cv.pdf.${k}`);
  const lines: string[] = [`*${`${cv.firstName} ${cv.lastName}`.trim()}*`];
  if (cv.target) lines.push(cv.target);
  const contact = [cv.phone, cv.email, cv.city].filter(Boolean).join(' | ');
  if (contact) lines.push(contact);
  if (cv.experiences.length) {
    lines.push('', `*${l('experience')}*`);
    for (const e of cv.experiences) lines.push(`- ${[e.title, e.company, e.period].filter(Boolean).join(' - ')}${e.tasks ? ` : ${e.tasks}` : ''}`);
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
  list('interests', cv.interests);
  return lines.join('\n').slice(0, 3500);
}

function sentence(s: string | undefined): string {
  const t = (s ?? '').replace(/\s+/g, ' ').trim().replace(/[.!…\s]+$/, '');
  return t ? t.charAt(0).toUpperCase() + t.slice(1) : '';
}

/** An answer inserted after a colon: lower-case start (unless it is an acronym), no final punctuation. */
function clause(s: string | undefined): string {
  const t = sentence(s);
  return /^\p{Lu}\p{Ll}/u.test(t) || /^\p{Lu}'/u.test(t) ? t.charAt(0).toLowerCase() + t.slice(1) : t;
}

export function buildLetter(vars: Record<string, unknown>, locale: Locale, texts: Texts, now: Date): LetterData {
  const cv = buildCv(vars);
  const company = str(vars.letter_company) ?? '';
  const position = str(vars.letter_position) ?? str(vars.cv_target) ?? '';
  const t = (k: string, v: Record<string, string> = {}) => texts.t(locale, `letter.pdf.${k}`, v);
  const date = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'fr-FR', { day: 'numeric', month: 'long', year: 'numeric' }).format(now);
  const paragraphs = [t('intro', { position, company })];
  const whyCompany = clause(str(vars.letter_why_company));
  if (whyCompany) paragraphs.push(t('why_company', { company, text: whyCompany }));
  const whyMe = clause(str(vars.letter_why_me));
  const exp = cv.experiences[0];
  const expText = exp ? ` ${t('experience', { title: exp.title, company: exp.company ?? '' }).replace(/\s*\(\)/, '')}` : '';
  if (whyMe || expText) paragraphs.push(`${whyMe ? t('why_me', { text: whyMe }) : ''}${expText}`.trim());
  const availability = clause(str(vars.letter_availability));
  if (availability) paragraphs.push(t('availability', { text: availability }));
  return {
    firstName: cv.firstName,
    lastName: cv.lastName,
    email: cv.email,
    phone: cv.phone,
    city: cv.city,
    company,
    date: cv.city ? t('date_place', { city: cv.city, date }) : date,
    subject: t('subject', { position }),
    greeting: t('greeting'),
    paragraphs,
    closing: t('closing'),
  };
}
