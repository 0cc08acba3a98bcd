import type { SurveyKind } from '../contacts/contactStore';
import type { CheckinContent } from '../followups/followupService';
import type { Locale, Texts } from '../i18n';
import { checkinPayload, REFERRAL_ANSWERS, SELF_OUTCOMES } from './surveys';

/** The check-ins' questions and buttons, from locales (figures.checkins). */
export class CheckinQuestions implements CheckinContent {
  constructor(private readonly texts: Texts) {}

  question(kind: SurveyKind, locale: Locale, opts: { name?: string; about?: string; reminder: boolean }) {
    const t = (key: string, vars: Record<string, string> = {}) => this.texts.t(locale, `figures.checkins.${key}`, vars);
    const vars = { comma_name: opts.name ? ` ${opts.name}` : '', about: opts.about ?? t('about_fallback') };
    const key = kind === 'referral_check' ? (opts.reminder ? 'referral_check_reminder' : 'referral_check') : opts.reminder ? 'outcome_reminder' : kind;
    return { text: t(key, vars), choices: this.choices(kind, locale) };
  }

  choices(kind: SurveyKind, locale: Locale): Array<{ id: string; title: string }> {
    const options = kind === 'referral_check' ? REFERRAL_ANSWERS : SELF_OUTCOMES;
    return options.map((o) => ({ id: checkinPayload(o), title: this.texts.t(locale, `figures.checkins.options.${o}`) }));
  }
}
