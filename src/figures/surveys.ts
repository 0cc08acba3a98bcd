import * as fs from 'fs';
import YAML from 'yaml';
import { z } from 'zod';
import type { SurveyKind } from '../contacts/contactStore';
import { findPhrase, TextNormaliser } from '../understanding/text';
import { OUTCOME_CATEGORIES, OutcomeCategory, ReferralAnswer } from './journeyStore';

/**
 * Reads the answers to the check-ins (dialogs/data/checkins.yaml): a button
 * tap gives the option id (`checkin:<option>`), a typed answer is matched on
 * its normalised words (longest phrase wins).
 */
export type SurveyAnswer = { kind: 'referral_check'; answer: ReferralAnswer } | { kind: 'outcome_3m' | 'outcome_6m'; category: OutcomeCategory };

export const REFERRAL_ANSWERS: readonly ReferralAnswer[] = ['went', 'not_yet', 'not_going'];
/** The outcome options the young person picks from (lost contact is the mediators' category, not an answer). */
export const SELF_OUTCOMES: readonly OutcomeCategory[] = OUTCOME_CATEGORIES.filter((c) => c !== 'lost_contact');

const phrases = z.object({ match: z.array(z.string().min(1).max(100)).min(1) }).strict();
const fileSchema = z
  .object({
    referral_check: z.object(Object.fromEntries(REFERRAL_ANSWERS.map((a) => [a, phrases])) as Record<ReferralAnswer, typeof phrases>).strict(),
    outcome: z.object(Object.fromEntries(SELF_OUTCOMES.map((c) => [c, phrases])) as Record<string, typeof phrases>).strict(),
  })
  .strict();

/** The payload of a check-in button. */
export const checkinPayload = (option: string) => `checkin:${option}`;
const PAYLOAD = /^checkin:([a-z_]{2,40})$/;
export const isCheckinPayload = (text: string) => PAYLOAD.test(text.trim());

export class SurveyReader {
  private readonly options: Record<'referral_check' | 'outcome', Array<{ value: string; words: string[] }>>;

  constructor(private readonly text: TextNormaliser, data: z.infer<typeof fileSchema>) {
    const compile = (group: Record<string, { match: string[] }>) =>
      Object.entries(group).flatMap(([value, p]) => p.match.map((m) => ({ value, words: text.words(m) })).filter((o) => o.words.length > 0));
    this.options = { referral_check: compile(data.referral_check), outcome: compile(data.outcome) };
  }

  /** Loads and validates the file: a broken one stops the service with the file and path of the error. */
  static load(file: string, text: TextNormaliser): SurveyReader {
    const r = fileSchema.safeParse(YAML.parse(fs.readFileSync(file, 'utf8')));
    if (!r.success) {
      const i = r.error.issues[0];
      throw new Error(`${file}#/${i.path.join('/')}: ${i.message}`);
    }
    return new SurveyReader(text, r.data);
  }

  /** The answer a message gives to a pending check-in, or undefined when it does not answer it. */
  read(kind: SurveyKind, raw: string): SurveyAnswer | undefined {
    const group = kind === 'referral_check' ? 'referral_check' : 'outcome';
    const tapped = PAYLOAD.exec(raw.trim());
    let value: string | undefined;
    if (tapped) value = this.options[group].some((o) => o.value === tapped[1]) ? tapped[1] : undefined;
    else {
      const w = this.text.words(raw);
      let best = 0;
      for (const o of this.options[group]) {
        if (o.words.length > best && findPhrase(w, o.words) >= 0) {
          best = o.words.length;
          value = o.value;
        }
      }
    }
    if (!value) return undefined;
    return kind === 'referral_check' ? { kind, answer: value as ReferralAnswer } : { kind, category: value as OutcomeCategory };
  }
}
