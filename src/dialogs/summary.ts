import * as path from 'path';
import { Locale, Texts } from '../i18n';
import { REPO_ROOT } from './paths';

/** Profile fields shown to mediators, in order (script variable names). */
export const SUMMARY_FIELDS = [
  'prenom',
  'age',
  'situation',
  'situation_since',
  'diploma',
  'postcode',
  'commune_name',
  'need',
  'cv_status',
  'last_application',
  'equipment',
  'has_email',
  'mobility',
  'orientation_sectors',
  'cv_target',
] as const;

let defaultTexts: Texts | undefined;
function repoTexts(): Texts {
  if (!defaultTexts) {
    defaultTexts = Texts.loadFromDir(path.join(REPO_ROOT, 'locales'));
  }
  return defaultTexts;
}

function formatValue(field: string, value: unknown, locale: Locale, texts: Texts): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === null) return texts.t(locale, 'summary.none');
  if (typeof value === 'boolean') return texts.t(locale, value ? 'engine.yes' : 'engine.no');
  if (Array.isArray(value)) {
    const parts = value.map((v) => (typeof v === 'string' && texts.has(locale, `orientation.sectors.${v}.title`) ? texts.t(locale, `orientation.sectors.${v}.title`) : String(v)));
    return parts.length ? parts.join(', ') : undefined;
  }
  const s = String(value);
  const optionKey = `diag.options.${field}.${s}`;
  if (texts.has(locale, optionKey)) return texts.t(locale, optionKey);
  const date = s.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (date) return locale === 'fr' ? `${date[3]}/${date[2]}/${date[1]}` : `${date[1]}-${date[2]}-${date[3]}`;
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

/**
 * A short summary of a diagnostic profile for mediators (and for the young
 * person at the end of the diagnostic): one "Label : value" line per known answer.
 */
export function summarizeProfile(profile: Record<string, unknown>, locale: Locale, texts: Texts = repoTexts()): string {
  const lines: string[] = [];
  for (const field of SUMMARY_FIELDS) {
    let value = formatValue(field, profile[field], locale, texts);
    if (value === undefined) continue;
    if (field === 'postcode' && typeof profile.departement === 'string') value = `${value} (${profile.departement})`;
    if (field === 'age') value = texts.t(locale, 'summary.age_value', { age: value });
    lines.push(texts.t(locale, 'summary.line', { label: texts.t(locale, `summary.labels.${field}`), value }));
  }
  return lines.length ? lines.join('\n') : texts.t(locale, 'summary.empty');
}
