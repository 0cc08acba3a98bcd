import type { Logger } from 'pino';
import type { ContactStore } from '../../contacts/contactStore';
import type { DocumentService } from '../../documents/documentService';
import type { Texts } from '../../i18n';
import type { SectorCatalog, StructureDirectory } from '../data';
import type { CheckinPort, HandoffPort, PrivacyPort } from '../ports';
import type { FlowRegistry } from '../scripts/loader';
import type { Understanding } from '../../understanding/understanding';
import type { JourneyPort } from '../../figures/journey';
import type { CheckinAnswerPort } from '../../figures/checkinAnswers';
import type { OfferAnswerPort } from '../../opportunities/offerAnswers';
import type { MentoringPort } from '../../mentoring/bookingDialog';

export interface EngineOptions {
  /** Invalid answers before offering to talk to a person (default 3). */
  maxAttempts: number;
  /** Steps executed per turn before the engine stops a runaway script (default 60). */
  maxStepsPerTurn: number;
  /** A conversation resumed after this long is greeted again (default 30 minutes). */
  resumeAfterMs: number;
  /** Clock (tests). */
  now: () => Date;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxAttempts: 3,
  maxStepsPerTurn: 60,
  resumeAfterMs: 30 * 60 * 1000,
  now: () => new Date(),
};

/** Everything the step executors use; passed through constructors, no globals. */
export interface EngineDeps {
  flows: FlowRegistry;
  texts: Texts;
  contacts: ContactStore;
  documents: DocumentService;
  handoff: HandoffPort;
  privacy: PrivacyPort;
  /** Optional: without it no automatic check-in is scheduled. */
  checkins?: CheckinPort;
  structures: StructureDirectory;
  sectors: SectorCatalog;
  /** Optional: the young person's journey for the figures (questions reached, documents, referrals, consent). */
  journey?: JourneyPort;
  /** Optional: answers to the check-ins (referral check, situation at 3 / 6 months) read before anything else. */
  checkinAnswers?: CheckinAnswerPort;
  /** Optional: answers to the opportunities mediators push ("ça m'intéresse", "pas pour moi", the buttons). */
  offerAnswers?: OfferAnswerPort;
  /** Optional: appointments with volunteer mentors, booked from the chat (src/mentoring/bookingDialog.ts). */
  mentoring?: MentoringPort;
  /** The understanding layer (src/understanding/) every question reads its answers with. */
  understanding: Understanding;
  logger: Logger;
  options: EngineOptions;
}
