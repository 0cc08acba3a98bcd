import type { Contact } from '../contacts/contactStore';
import type { OpportunityTarget } from './opportunityStore';

/** The profile answer a young person gives when asked whether they want offers (dialogs/flows/cv.yaml, "stop offres"). */
export const OFFERS_OPT_IN_VAR = 'offers_optin';

/** Lower case, no accents, words only. */
function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 3);
}

/** One word's stem for job titles: "vendeur" / "vendeuse" / "vendeurs" → "vende"; short words whole. */
const stem = (w: string) => (w.length > 5 ? w.slice(0, 5) : w);
const GENERIC = new Set(['agent', 'agente', 'employe', 'employee', 'aide', 'assistant', 'assistante', 'chef', 'equipe', 'poste', 'job', 'metier', 'travail', 'dans', 'pour', 'les', 'des', 'une', 'avec']);

/** A CV's target job fits one of the opportunity's jobs when they share a meaningful word ("Vendeuse en boulangerie" ~ "vendeur"). */
export function jobFits(cvTarget: unknown, jobs: readonly string[]): boolean {
  if (typeof cvTarget !== 'string' || !cvTarget.trim()) return false;
  const have = new Set(words(cvTarget).filter((w) => !GENERIC.has(w)).map(stem));
  return jobs.some((job) => words(job).filter((w) => !GENERIC.has(w)).some((w) => have.has(stem(w))));
}

export interface AudienceFacts {
  contact: Pick<Contact, '_id' | 'consent' | 'paused' | 'profile'>;
  hasCv: boolean;
}

/** Why a young person is not in an opportunity's audience (the first criterion that fails), or undefined when they fit. */
export type Misfit = 'no_consent' | 'not_opted_in' | 'paused' | 'job' | 'departement' | 'age' | 'diploma' | 'cv' | 'car';

/** Whether a young person fits an opportunity: only those who agreed in the chat to receive offers are ever counted. */
export function misfitOf(target: OpportunityTarget, facts: AudienceFacts): Misfit | undefined {
  const { contact } = facts;
  const p = contact.profile ?? {};
  if (contact.consent !== true) return 'no_consent';
  if (p[OFFERS_OPT_IN_VAR] !== true) return 'not_opted_in';
  if (contact.paused) return 'paused';
  if (target.jobs.length || target.sectors.length) {
    const sectors = Array.isArray(p.orientation_sectors) ? (p.orientation_sectors as unknown[]) : [];
    const bySector = target.sectors.some((s) => sectors.includes(s));
    if (!bySector && !jobFits(p.cv_target, target.jobs)) return 'job';
  }
  if (target.departements.length && !target.departements.includes(String(p.departement ?? ''))) return 'departement';
  const age = typeof p.age === 'number' ? p.age : Number.NaN;
  if ((target.ageMin !== undefined || target.ageMax !== undefined) && (Number.isNaN(age) || (target.ageMin !== undefined && age < target.ageMin) || (target.ageMax !== undefined && age > target.ageMax))) return 'age';
  if (target.diplomas.length && !target.diplomas.includes(String(p.diploma ?? ''))) return 'diploma';
  if (target.cvReady && !facts.hasCv) return 'cv';
  if (target.needsCar && p.mobility !== 'car') return 'car';
  return undefined;
}

const PARIS = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', weekday: 'short' });

function parisParts(at: Date): { y: number; m: number; d: number; h: number; min: number; weekday: string } {
  const parts = Object.fromEntries(PARIS.formatToParts(at).map((p) => [p.type, p.value]));
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), h: Number(parts.hour), min: Number(parts.minute), weekday: parts.weekday };
}

/** Offers go out between 08:00 and 21:00, Paris time. */
export const QUIET_FROM_HOUR = 21;
export const QUIET_UNTIL_HOUR = 8;

/** `at` when it is daytime in Paris, else the next 08:00 Paris (offers never wake anyone up). */
export function nextDaytime(at: Date): Date {
  const { h, min } = parisParts(at);
  if (h >= QUIET_UNTIL_HOUR && h < QUIET_FROM_HOUR) return at;
  // Minutes until 08:00 Paris: from the evening, over midnight; from the night, the same day. DST changes happen
  // at 02:00-03:00, so a correction by the real Paris hour afterwards keeps it exact.
  const minutesNow = h * 60 + min;
  const wait = h >= QUIET_FROM_HOUR ? 24 * 60 - minutesNow + QUIET_UNTIL_HOUR * 60 : QUIET_UNTIL_HOUR * 60 - minutesNow;
  let next = new Date(Math.ceil((at.getTime() + wait * 60000) / 60000) * 60000);
  const check = parisParts(next);
  if (check.h !== QUIET_UNTIL_HOUR) next = new Date(next.getTime() + (QUIET_UNTIL_HOUR - check.h) * 3600000);
  return next;
}

/** The Paris calendar week of `at` (its Monday, YYYY-MM-DD): the period of the weekly cap. */
export function parisWeek(at: Date): string {
  const { y, m, d, weekday } = parisParts(at);
  const offset = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(weekday);
  const monday = new Date(Date.UTC(y, m - 1, d - offset));
  return monday.toISOString().slice(0, 10);
}
