import type { TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { Contact, CONTACT_TURN_KEY, ContactStore } from '../contacts/contactStore';
import type { Locale, Texts } from '../i18n';
import type { CheckinQuestions } from './checkinQuestions';
import type { Journey } from './journey';
import { POSITIVE_OUTCOMES } from './journeyStore';
import type { SurveyAnswer, SurveyReader } from './surveys';

/** An answer is expected for two weeks after a check-in; later messages are ordinary ones. */
const ANSWER_WINDOW_MS = 14 * 24 * 3600 * 1000;

/** What the main dialog asks before anything else when a check-in waits for its answer. */
export interface CheckinAnswerPort {
  /** True when the message answered the check-in (or was asked again once): the turn is over. */
  handle(context: TurnContext, contact: Contact, locale: Locale): Promise<boolean>;
  /** The barrier gate took this message (a mediator offered, crisis numbers): an answer in it is still recorded, silently. */
  recordSilently(context: TurnContext): Promise<void>;
}

/**
 * Reads the young person's answer to a pending check-in, records it in the
 * journey and thanks them. Not understood: asked again once with the buttons,
 * then the message goes on to the conversation.
 */
export class CheckinAnswers implements CheckinAnswerPort {
  constructor(private readonly deps: { reader: SurveyReader; journey: Journey; contacts: ContactStore; questions: CheckinQuestions; texts: Texts; logger: Logger; now?: () => Date }) {}

  async recordSilently(context: TurnContext): Promise<void> {
    const contact = context.turnState.get(CONTACT_TURN_KEY) as Contact | undefined;
    if (!contact?.survey || this.expired(contact)) return;
    const answer = this.deps.reader.read(contact.survey.kind, context.activity.text ?? '');
    if (answer) await this.record(contact, answer);
  }

  /** The answer goes into the journey and the contact waits for nothing any more. */
  private async record(contact: Contact, answer: SurveyAnswer): Promise<void> {
    await this.deps.journey.answered(contact, answer);
    await this.deps.contacts.setSurvey(contact._id, undefined);
  }

  private expired(contact: Contact): boolean {
    const now = this.deps.now ? this.deps.now() : new Date();
    return now.getTime() - new Date(contact.survey!.askedAt).getTime() > ANSWER_WINDOW_MS;
  }

  async handle(context: TurnContext, contact: Contact, locale: Locale): Promise<boolean> {
    const survey = contact.survey;
    if (!survey) return false;
    if (this.expired(contact)) {
      await this.deps.contacts.setSurvey(contact._id, undefined);
      return false;
    }
    const answer = this.deps.reader.read(survey.kind, context.activity.text ?? '');
    const t = (key: string) => this.deps.texts.t(locale, `figures.checkins.${key}`);
    if (!answer) {
      if (survey.tries >= 1) {
        await this.deps.contacts.setSurvey(contact._id, undefined);
        return false;
      }
      await this.deps.contacts.setSurvey(contact._id, { ...survey, tries: survey.tries + 1 });
      await context.sendActivity({ type: 'message', text: t('again'), suggestedActions: { to: [], actions: this.deps.questions.choices(survey.kind, locale).map((c) => ({ type: 'imBack', title: c.title, value: c.id })) } });
      return true;
    }
    await this.record(contact, answer);
    this.deps.logger.info({ kind: survey.kind }, 'check-in answered');
    const thanks = answer.kind === 'referral_check' ? answer.answer : POSITIVE_OUTCOMES.has(answer.category) ? 'positive' : 'other';
    await context.sendActivity(t(`thanks.${thanks}`));
    return true;
  }
}
