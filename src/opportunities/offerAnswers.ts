import type { Contact } from '../contacts/contactStore';
import type { Logger } from 'pino';
import { normalize } from '../dialogs/recognizers';
import type { OpportunityDoc } from './opportunityStore';
import { OFFER_PAYLOAD, OpportunityService } from './opportunityService';

/** Typed answers to an offer are read for a week after it was sent. */
const ANSWER_WINDOW_MS = 7 * 24 * 3600 * 1000;

/** What the young person types (normalised: lower case, no accents, apostrophes as spaces) to answer an offer. */
const INTERESTED = /^(?:oui |ouais |yes |ok |grave |trop )?(?:ca m interesse|ca m interesse grave|ca minteresse|sa m interesse|sa minteresse|je suis interesse|je suis interessee|jsuis interesse|jsuis interessee|interesse|interessee|interessé|ca m tente|ca me tente|je veux postuler|je postule|i m interested|im interested|interested|i want to apply)(?: !+| stp| svp| merci)?$/;
const DECLINED = /^(?:non |nan |no )?(?:merci )?(?:pas pour moi|c est pas pour moi|pas interesse|pas interessee|ca m interesse pas|ca minteresse pas|ca ne m interesse pas|non merci|not for me|not interested|no thanks)(?: merci)?$/;

export type OfferAnswer = { answer: 'interested' | 'declined'; opportunity: OpportunityDoc };

/** What the main dialog asks first (src/dialogs/mainDialog.ts): is this message an answer to an offer? */
export interface OfferAnswerPort {
  /** The answer, 'gone' for a button of an offer that no longer exists (erased, or never sent to them), or undefined. */
  read(contact: Contact, text: string | undefined): Promise<OfferAnswer | 'gone' | undefined>;
}

/**
 * The young person's answer to an offer: a button (`offer:interested:<id>`) or words about the last offer they got
 * ("ça m'intéresse", "pas pour moi") within a week. Anything else is not an answer (undefined).
 */
export class OfferAnswers implements OfferAnswerPort {
  constructor(private readonly deps: { service: OpportunityService; logger: Logger }) {}

  /** True for the offer buttons' payloads: our own words, which the barrier detector does not read. */
  static isPayload(text: string | undefined): boolean {
    return OFFER_PAYLOAD.test((text ?? '').trim());
  }

  async read(contact: Contact, text: string | undefined): Promise<OfferAnswer | 'gone' | undefined> {
    const raw = (text ?? '').trim();
    if (!raw || raw.length > 80) return undefined;
    const payload = OFFER_PAYLOAD.exec(raw);
    let answer: 'interested' | 'declined' | undefined;
    let id: string | undefined;
    if (payload) {
      answer = payload[1] as 'interested' | 'declined';
      id = payload[2];
    } else {
      const n = normalize(raw).replace(/'/g, ' ').replace(/[!?.]+$/g, '').replace(/\s+/g, ' ').trim();
      answer = INTERESTED.test(n) ? 'interested' : DECLINED.test(n) ? 'declined' : undefined;
      if (!answer) return undefined;
      const recent = await this.deps.service.recentOffer(contact._id, ANSWER_WINDOW_MS);
      if (!recent) return undefined;
      id = recent.opportunityId;
    }
    const opportunity = await this.deps.service.respond(contact, id, answer);
    if (opportunity) return { answer, opportunity };
    return payload ? 'gone' : undefined;
  }
}
