import { ActivityTypes, TurnContext } from 'botbuilder';
import type { BarrierGate } from './barrierGate';
import type { HandoffService } from '../handoff/handoffService';
import type { CheckinAnswerPort } from '../figures/checkinAnswers';

export interface TurnLogic {
  run(context: TurnContext): Promise<void>;
}

/**
 * What every channel runs for a turn: the barrier gate first (it decides
 * whether the bot may answer at all), then the dialog bot.
 */
export class GuardedBot implements TurnLogic {
  /** `hubChannels`: the channels of an external agent hub allowed to send `handoff.status` (HANDOFF_HUB_CHANNELS). */
  constructor(
    private readonly gate: BarrierGate,
    private readonly handoff: HandoffService,
    private readonly inner: TurnLogic,
    private readonly hubChannels: readonly string[] = [],
    /** Answers to a pending check-in in a message the gate took are recorded all the same. */
    private readonly checkins?: Pick<CheckinAnswerPort, 'recordSilently'>,
  ) {}

  async run(context: TurnContext): Promise<void> {
    const a = context.activity;
    if (a.type === ActivityTypes.Event && a.name === 'handoff.status') {
      // Only an agent hub's channel speaks for the hub; from anywhere else the event is dropped (never a dialog turn).
      if (this.hubChannels.includes(a.channelId)) await this.handoff.onHandoffStatus(context);
      return;
    }
    if (a.type === ActivityTypes.Message && (await this.gate.onMessage(context))) {
      await this.checkins?.recordSilently(context);
      return;
    }
    await this.inner.run(context);
  }
}
