import { Activity, NullTelemetryClient, StatePropertyAccessor, TurnContext } from 'botbuilder';
import { ComponentDialog, Dialog, DialogContext, DialogEvent, DialogEvents, DialogInstance, DialogSet, DialogState, DialogTurnResult, DialogTurnStatus } from 'botbuilder-dialogs';
import { Contact, CONTACT_TURN_KEY, contactKey } from '../contacts/contactStore';
import { pickLocale } from '../i18n';
import { Command, detectCommand } from './commands';
import { DEFAULT_ENGINE_OPTIONS, EngineDeps, EngineOptions } from './engine/deps';
import { BACK_TURN_KEY, FlowDialog, flowDialogId } from './engine/flowDialog';
import { getSession, Session, sessionLocale, setSession } from './engine/session';
import { REPO_ROOT } from './paths';
import { loadUnderstanding, Understanding } from '../understanding/understanding';
import { originOf } from '../figures/origin';

/** The engine's collaborators; engine options may be partial (defaults fill the rest). */
export type MainDialogDeps = Omit<EngineDeps, 'options' | 'understanding'> & {
  options?: Partial<EngineOptions>;
  /** Default: dialogs/understanding/ of the checkout, read for these flows (synonyms of steps they lack are ignored). */
  understanding?: Understanding;
};

/** Flows the main dialog starts itself (they must exist in dialogs/flows). */
/** Turn-state key: this turn runs as the given global command, whatever the message says (see menu()). */
export const FORCED_COMMAND_TURN_KEY = Symbol('declic.forcedCommand');

export const ENTRY_FLOWS = { main: 'main', menu: 'menu', erase: 'erase', offer: 'offer' } as const;

export type NonTextKind = 'sticker' | 'image' | 'audio' | 'video' | 'location' | 'file' | 'empty';

/** What a message without text carries (stickers, photos, voice notes, locations...). */
export function nonTextKind(activity: Partial<Activity>): NonTextKind | undefined {
  if ((activity.text ?? '').trim()) return undefined;
  const atts = activity.attachments ?? [];
  const channelData = JSON.stringify(activity.channelData ?? {}).slice(0, 2000).toLowerCase();
  const entities = activity.entities ?? [];
  if (entities.some((e) => e.type === 'Place' || e.type === 'GeoCoordinates') || atts.some((a) => /location/i.test(a.contentType ?? ''))) return 'location';
  if (channelData.includes('sticker') || atts.some((a) => /sticker|image\/webp/i.test(`${a.contentType} ${a.name ?? ''}`))) return 'sticker';
  const first = atts[0]?.contentType ?? '';
  if (first.startsWith('image/')) return 'image';
  if (first.startsWith('audio/')) return 'audio';
  if (first.startsWith('video/')) return 'video';
  if (atts.length) return 'file';
  return 'empty';
}

/**
 * The Déclic conversation: runs the scripted flows (welcome → diagnostic →
 * orientation / CV / letter → closing → menu) and the global commands
 * (menu, aide, recommencer, conseiller, stop, supprimer mes données) at any
 * time. The bot pipeline calls `run()` for every message the bot owns.
 */
export class MainDialog extends ComponentDialog {
  static readonly ID = 'declicMain';
  private readonly deps: EngineDeps;

  constructor(deps: MainDialogDeps) {
    super(MainDialog.ID);
    this.deps = {
      ...deps,
      understanding: deps.understanding ?? loadUnderstanding(REPO_ROOT, deps.flows, deps.texts, false),
      options: { ...DEFAULT_ENGINE_OPTIONS, ...(deps.options ?? {}) },
    };
    for (const id of Object.values(ENTRY_FLOWS)) if (!deps.flows.get(id)) throw new Error(`MainDialog needs the flow "${id}" (dialogs/flows/${id}.yaml)`);
    for (const id of deps.flows.ids()) this.addDialog(new FlowDialog(deps.flows.get(id)!, this.deps));
    this.initialDialogId = flowDialogId(ENTRY_FLOWS.main);
  }

  /** Entry point for every message: continues the active flow or starts the conversation. */
  async run(context: TurnContext, accessor: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialogSet = new DialogSet(accessor);
    dialogSet.telemetryClient = new NullTelemetryClient();
    dialogSet.add(this);
    const dc = await dialogSet.createContext(context);
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(this.id);
  }

  /** Starts again with the menu (the bot takes the conversation back after a mediator closed it). */
  async menu(context: TurnContext, accessor: StatePropertyAccessor<DialogState>): Promise<void> {
    context.turnState.set(FORCED_COMMAND_TURN_KEY, 'menu');
    await this.run(context, accessor);
  }

  /** Asks the pending question again (the bot takes the conversation back from a mediator, or after an interruption). */
  async reprompt(context: TurnContext, accessor: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialogSet = new DialogSet(accessor);
    dialogSet.telemetryClient = new NullTelemetryClient();
    dialogSet.add(this);
    const dc = await dialogSet.createContext(context);
    if (dc.activeDialog) await dc.repromptDialog();
    else await dc.beginDialog(this.id);
  }

  // ------------------------------------------------------------- session

  private async newSession(context: TurnContext): Promise<Session> {
    const a = context.activity;
    const key = contactKey(a.channelId ?? 'unknown', a.from?.id ?? 'unknown');
    let contact = await this.deps.contacts.get(key);
    if (!contact) contact = await this.deps.contacts.touchInbound(TurnContext.getConversationReference(a), { locale: pickLocale(a.locale), origin: originOf(a) });
    const vars: Record<string, unknown> = contact.consent === true ? { ...(contact.profile ?? {}) } : {};
    vars.locale = contact.locale ?? pickLocale(a.locale);
    vars.consent = contact.consent ?? null;
    return { contactKey: key, vars };
  }

  private bind(context: TurnContext, instance: DialogInstance): Session {
    const state = instance.state as { session: Session };
    setSession(context, state.session);
    return state.session;
  }

  async beginDialog(outerDC: DialogContext, options?: object): Promise<DialogTurnResult> {
    const session = await this.newSession(outerDC.context);
    (outerDC.activeDialog!.state as { session: Session }).session = session;
    setSession(outerDC.context, session);
    const result = await super.beginDialog(outerDC, options);
    session.lastTurnAt = this.deps.options.now().getTime();
    return result;
  }

  async continueDialog(outerDC: DialogContext): Promise<DialogTurnResult> {
    const state = outerDC.activeDialog!.state as { session?: Session };
    state.session ??= await this.newSession(outerDC.context);
    const session = this.bind(outerDC.context, outerDC.activeDialog!);
    const result = await super.continueDialog(outerDC);
    session.lastTurnAt = this.deps.options.now().getTime();
    return result;
  }

  async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    this.bind(context, instance);
    await super.repromptDialog(context, instance);
  }

  // ------------------------------------------------------------- turns

  /**
   * The flows changed since this conversation started (a script update):
   * keep going. Steps and flows that disappeared are handled by the engine
   * (the flow ends, or the conversation restarts cleanly).
   */
  protected async onPreBubbleEvent(dc: DialogContext, e: DialogEvent): Promise<boolean> {
    if (e.name === DialogEvents.versionChanged) {
      this.deps.logger.info('dialog scripts changed since this conversation started');
      return true;
    }
    return super.onPreBubbleEvent(dc, e);
  }

  protected async onBeginDialog(innerDC: DialogContext, options?: object): Promise<DialogTurnResult> {
    const handled = await this.interrupt(innerDC);
    if (handled) return handled;
    const kind = nonTextKind(innerDC.context.activity);
    if (kind && kind !== 'empty') await this.say(innerDC.context, `commands.non_text.${kind}`);
    return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.main), options);
  }

  protected async onContinueDialog(innerDC: DialogContext): Promise<DialogTurnResult> {
    const context = innerDC.context;
    const session = this.bind(context, innerDC.parent!.activeDialog!);
    const handled = await this.interrupt(innerDC);
    if (handled) return handled;

    if (!innerDC.activeDialog) return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.main));

    // A flow removed by a script update while someone was in it: start again cleanly instead of failing every turn.
    if (innerDC.stack.some((instance) => !this.findDialog(instance.id))) {
      this.deps.logger.warn({ stack: innerDC.stack.map((i) => i.id) }, 'dialog stack refers to a flow that no longer exists: restarting');
      await innerDC.cancelAllDialogs();
      return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.main));
    }

    const kind = nonTextKind(context.activity);
    if (kind) {
      await this.say(context, `commands.non_text.${kind}`);
      await innerDC.repromptDialog();
      return Dialog.EndOfTurn;
    }

    const gap = session.lastTurnAt ? this.deps.options.now().getTime() - session.lastTurnAt : 0;
    if (gap > this.deps.options.resumeAfterMs) {
      const prenom = typeof session.vars.prenom === 'string' ? session.vars.prenom : undefined;
      await this.say(context, prenom ? 'commands.welcome_back' : 'commands.welcome_back_anon', { prenom: prenom ?? '' });
      await innerDC.repromptDialog();
      return Dialog.EndOfTurn;
    }

    const result = await innerDC.continueDialog();
    if (result.status === DialogTurnStatus.empty) return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.main));
    return result;
  }

  private async say(context: TurnContext, key: string, vars: Record<string, string> = {}): Promise<void> {
    await context.sendActivity(this.deps.texts.t(sessionLocale(getSession(context)), key, vars));
  }

  /** Global commands, available at any time. Returns a turn result when the message was one. */
  private async interrupt(innerDC: DialogContext): Promise<DialogTurnResult | undefined> {
    const context = innerDC.context;
    const command: Command | undefined = (context.turnState.get(FORCED_COMMAND_TURN_KEY) as Command | undefined) ?? detectCommand(context.activity.text);
    const session = getSession(context);
    if (!command) {
      // An appointment with a mentor being booked, or one that took place: this message may answer its question.
      if (this.deps.mentoring && (await this.deps.mentoring.handle(context, session))) return Dialog.EndOfTurn;
      const contact = context.turnState.get(CONTACT_TURN_KEY) as Contact | undefined;
      // An answer to an offer a mediator sent (a button, or "ça m'intéresse" about the last one).
      const offer = contact && this.deps.offerAnswers ? await this.deps.offerAnswers.read(contact, context.activity.text) : undefined;
      if (offer === 'gone') {
        await this.say(context, 'opportunities.gone');
        if (innerDC.activeDialog) await innerDC.repromptDialog();
        return Dialog.EndOfTurn;
      }
      if (offer?.answer === 'declined') {
        await this.say(context, 'opportunities.declined_ack');
        if (innerDC.activeDialog) await innerDC.repromptDialog();
        return Dialog.EndOfTurn;
      }
      if (offer?.answer === 'interested') {
        const o = offer.opportunity;
        const description = o.link ? `${o.description}\n${o.link}` : o.description;
        Object.assign(session.vars, {
          offer_title: o.title,
          offer_employer: o.employer,
          offer_mediator: o.createdBy.name,
          letter_company: o.employer,
          letter_position: o.title,
          letter_offer: description.slice(0, 3000),
          letter_from_offer: true,
        });
        // What the young person was doing is kept, as for "menu" (resumed when they choose it again).
        const inFlow = innerDC.stack.some((i) => i.id !== flowDialogId(ENTRY_FLOWS.main) && i.id !== flowDialogId(ENTRY_FLOWS.menu));
        if (inFlow) session.suspended = JSON.parse(JSON.stringify(innerDC.stack)) as Session['suspended'];
        await innerDC.cancelAllDialogs();
        return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.offer));
      }
      // A check-in (referral, situation at 3 / 6 months) waits for its answer: this message may be it.
      if (contact?.survey && this.deps.checkinAnswers && (await this.deps.checkinAnswers.handle(context, contact, sessionLocale(session)))) return Dialog.EndOfTurn;
      return undefined;
    }
    this.deps.logger.debug({ command }, 'global command');
    switch (command) {
      case 'human':
        await this.deps.handoff.requestHuman(context, 'human_request');
        return Dialog.EndOfTurn;
      case 'stop':
        await this.deps.contacts.setPaused(session.contactKey, true);
        await this.say(context, 'commands.stopped');
        return Dialog.EndOfTurn;
      case 'resume':
        await this.deps.contacts.setPaused(session.contactKey, false);
        await this.say(context, 'commands.resumed');
        if (innerDC.activeDialog) await innerDC.repromptDialog();
        return Dialog.EndOfTurn;
      case 'help':
        await this.say(context, 'commands.help');
        if (innerDC.activeDialog) await innerDC.repromptDialog();
        return Dialog.EndOfTurn;
      case 'menu': {
        // What the young person was doing is kept: choosing it again in the menu resumes there (FlowDialog.resumeSuspended).
        const inFlow = innerDC.stack.some((i) => i.id !== flowDialogId(ENTRY_FLOWS.main) && i.id !== flowDialogId(ENTRY_FLOWS.menu));
        if (inFlow) session.suspended = JSON.parse(JSON.stringify(innerDC.stack)) as Session['suspended'];
        await innerDC.cancelAllDialogs();
        return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.menu));
      }
      case 'back':
        if (!innerDC.activeDialog) return undefined;
        context.turnState.set(BACK_TURN_KEY, true);
        return innerDC.continueDialog();
      case 'restart': {
        session.suspended = undefined;
        await innerDC.cancelAllDialogs();
        // A refused consent can be given this time: the welcome asks for it again (an accepted one is kept).
        session.vars = { locale: session.vars.locale, consent: session.vars.consent === true ? true : null };
        await this.say(context, 'commands.restarted');
        return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.main));
      }
      case 'erase':
        return innerDC.beginDialog(flowDialogId(ENTRY_FLOWS.erase));
      case 'mentor':
      case 'cancelBooking':
      case 'moveBooking':
        if (!this.deps.mentoring) {
          await this.say(context, 'mentoring.unavailable');
        } else if (command === 'mentor') {
          await this.deps.mentoring.start(context, session);
        } else {
          await this.deps.mentoring.cancel(context, session, command === 'moveBooking' ? 'move' : 'done');
        }
        return Dialog.EndOfTurn;
      case 'stopOffers':
      case 'startOffers': {
        const wants = command === 'startOffers';
        // Without consent nothing about them is kept, so there is nothing to send them either.
        if (wants && session.vars.consent !== true) {
          await this.say(context, 'commands.offers_need_consent');
          return Dialog.EndOfTurn;
        }
        session.vars.offers_optin = wants;
        if (session.vars.consent === true) await this.deps.contacts.saveProfile(session.contactKey, { offers_optin: wants });
        await this.say(context, wants ? 'commands.offers_started' : 'commands.offers_stopped');
        if (innerDC.activeDialog) await innerDC.repromptDialog();
        return Dialog.EndOfTurn;
      }
      case 'resendCv':
      case 'resendLetter': {
        const kind = command === 'resendCv' ? 'cv' : 'letter';
        const att = await this.deps.documents.latest(session.contactKey, kind);
        // Without a document yet it is no command: "mon cv" then goes to the dialog (e.g. the menu's CV choice).
        if (!att) return undefined;
        const text = this.deps.texts.t(sessionLocale(session), `documents.resent_${kind}`, { days: String(this.deps.documents.linkDays) });
        await context.sendActivity({ type: 'message', text, attachments: [{ contentType: att.contentType, contentUrl: att.contentUrl, name: att.name }] });
        if (innerDC.activeDialog) await innerDC.repromptDialog();
        return Dialog.EndOfTurn;
      }
      default: {
        const never: never = command;
        throw new Error(`Unhandled command ${String(never)}`);
      }
    }
  }
}
