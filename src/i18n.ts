import * as fs from 'fs';
import * as path from 'path';

/** Supported user-facing languages. French first. */
export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'fr';

/** A locale bundle as stored in locales/<lang>.json: nested objects of strings. */
export interface Bundle {
  [key: string]: string | Bundle;
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** Picks a supported locale from a Bot Framework locale string such as "en-US". */
export function pickLocale(raw: string | undefined | null): Locale {
  const short = (raw ?? '').toLowerCase().slice(0, 2);
  return isLocale(short) ? short : DEFAULT_LOCALE;
}

/** Flattens a nested bundle into dotted keys ("welcome.hello"). */
export function flatten(bundle: Bundle, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(bundle)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[key] = v;
    else flatten(v, key, out);
  }
  return out;
}

/**
 * All user-facing text. Keys are dotted paths into locales/<lang>.json;
 * `{name}` placeholders are filled from `vars`. A key missing in the asked
 * locale falls back to French; a key missing everywhere throws (scripts are
 * validated at load so this only happens on a programming error).
 */
export class Texts {
  private readonly flat: Record<Locale, Record<string, string>>;

  constructor(bundles: Record<Locale, Bundle>) {
    this.flat = { fr: flatten(bundles.fr), en: flatten(bundles.en) };
  }

  static loadFromDir(dir: string): Texts {
    const read = (l: Locale): Bundle => JSON.parse(fs.readFileSync(path.join(dir, `${l}.json`), 'utf8')) as Bundle;
    return new Texts({ fr: read('fr'), en: read('en') });
  }

  has(locale: Locale, key: string): boolean {
    return key in this.flat[locale];
  }

  keys(locale: Locale): string[] {
    return Object.keys(this.flat[locale]);
  }

  t(locale: Locale, key: string, vars: Record<string, string | number> = {}): string {
    const template = this.flat[locale][key] ?? this.flat[DEFAULT_LOCALE][key];
    if (template === undefined) throw new Error(`Missing text key "${key}"`);
    return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  }
}
