import { ActivityTypes, TurnContext } from 'botbuilder';
import type { BarrierGate } from './barrierGate';
import type { HandoffService } from '../handoff/handoffService';

export interface TurnLogic {
  run(context: TurnContext): Promise<void>;
}

/**
 * What every channel runs for a turn: the barrier gate first (it decides
 * whether the bot may answer at all), then the dialog bot.
 */
export class GuardedBot implements TurnLogic {
  constructor(private readonly gate: BarrierGate, private readonly handoff: HandoffService, private readonly inner: TurnLogic) {}

  async run(context: TurnContext): Promise<void> {
    const a = context.activity;
    if (a.type === ActivityTypes.Event && a.name === 'handoff.status') {
      await this.handoff.onHandoffStatus(context);
      return;
    }
    if (a.type === ActivityTypes.Message && (await this.gate.onMessage(context))) return;
    await this.inner.run(context);
  }
}
