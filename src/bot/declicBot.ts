import { ActivityHandler, BotState, StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import { MENU_TURN_KEY, RESUME_TURN_KEY } from './barrierGate';
import { ERASED_TURN_KEY } from '../privacy/privacyService';

/** The scripted conversation (src/dialogs/mainDialog.ts MainDialog). */
export interface DialogRunner {
  run(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void>;
  /** Asks the pending question again instead of reading this message as its answer. */
  reprompt(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void>;
  /** Starts again with the menu (without it, the turn runs as usual). */
  menu?(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void>;
}

/**
 * The dialog bot: every message it owns runs the main dialog (welcome,
 * diagnostic, CV, letter, orientation, global commands). Conversation and
 * user state are saved at the end of each turn.
 */
export class DeclicBot extends ActivityHandler {
  private readonly dialogState: StatePropertyAccessor<DialogState>;

  constructor(private readonly conversationState: BotState, private readonly userState: BotState, private readonly dialog: DialogRunner) {
    super();
    this.dialogState = conversationState.createProperty<DialogState>('dialogState');
    this.onMessage(async (context, next) => {
      // Set by the barrier gate when the bot takes the conversation back (after a mediator, or a declined offer).
      if (context.turnState.get(MENU_TURN_KEY) && this.dialog.menu) await this.dialog.menu(context, this.dialogState);
      else if (context.turnState.get(RESUME_TURN_KEY)) await this.dialog.reprompt(context, this.dialogState);
      else await this.dialog.run(context, this.dialogState);
      await next();
    });
  }

  async run(context: TurnContext): Promise<void> {
    await super.run(context);
    if (context.turnState.get(ERASED_TURN_KEY)) {
      // The young person's data was just erased: write nothing of this turn back.
      await this.conversationState.delete(context);
      await this.userState.delete(context);
      return;
    }
    await this.conversationState.saveChanges(context, false);
    await this.userState.saveChanges(context, false);
  }
}
