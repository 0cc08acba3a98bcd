import { TurnContext } from 'botbuilder';
import { Dialog, DialogContext, DialogInstance, DialogReason, DialogTurnResult } from 'botbuilder-dialogs';
import { normalize, recognizeYesNo } from '../recognizers';
import { Flow, PromptStep, Step, isPrompt } from '../scripts/types';
import type { EngineDeps } from './deps';
import {
  journeyOf,
  answeredNext,
  askPrompt,
  assignAll,
  displayAnswer,
  factsAhead,
  render,
  repromptAfterFailure,
  runStep,
  say,
  StepContext,
  understandAnswer,
} from './executors';
import { countStep, getSession, Session, sessionLocale } from './session';

/** Turn-state key: this turn is "retour" / "je me suis trompé·e": the innermost flow goes back one question. */
export const BACK_TURN_KEY = Symbol('declic.back');

/** Session variable holding the facts given ahead (answers to later questions), kept for this conversation only. */
export const AHEAD_VAR = 'ahead';

export const flowDialogId = (flowId: string) => `flow:${flowId}`;

/** Where a flow is: the current step, whether it waits for an answer, and the failed attempts. */
interface FlowState {
  step?: string;
  waiting: boolean;
  failures: number;
  /** The offer to talk to a person was made after repeated failures. */
  offered: boolean;
  /** Step to continue with when a called flow ends (null: end of this flow). */
  afterCall?: string | null;
  /** The questions answered in this flow, in order ("retour" goes back to the last one). */
  history?: string[];
  /** A low-confidence answer waiting for the young person's yes ("Tu veux dire « Formation » ?"). */
  guess?: { value: unknown; next?: string; extra?: Record<string, unknown> };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const OFFER_BUTTONS = ['engine.offer_human_yes', 'engine.offer_human_no'];

/** The step that follows `step` when no branch says otherwise (undefined = end of the flow). */
function defaultNext(flow: Flow, step: Step): string | undefined {
  if (step.type !== 'end' && step.next) return step.next;
  const i = flow.steps.indexOf(step);
  return flow.steps[i + 1]?.id;
}

/**
 * One scripted flow as a botbuilder-dialogs Dialog. Steps run until a prompt
 * needs an answer (end of turn) or the flow ends; `goto` steps begin the
 * called flow as a child dialog and continue when it returns.
 */
export class FlowDialog extends Dialog<{ step?: string }> {
  constructor(private readonly flow: Flow, private readonly deps: EngineDeps) {
    super(flowDialogId(flow.id));
  }

  private state(dc: DialogContext): FlowState {
    return (dc.activeDialog!.state as { flow: FlowState }).flow;
  }

  private ctx(dc: DialogContext): StepContext {
    return { turn: dc.context, session: getSession(dc.context), deps: this.deps, flow: this.flow };
  }

  private stepById(id: string | undefined): Step | undefined {
    return id === undefined ? undefined : this.flow.steps.find((s) => s.id === id);
  }

  async beginDialog(dc: DialogContext, options?: { step?: string }): Promise<DialogTurnResult> {
    const session = getSession(dc.context);
    const resumed = await this.resumeSuspended(dc, session);
    if (resumed) return resumed;
    const st: FlowState = { step: options?.step ?? this.flow.steps[0]?.id, waiting: false, failures: 0, offered: false };
    (dc.activeDialog!.state as { flow: FlowState }).flow = st;
    return this.drive(dc, st);
  }

  /**
   * "menu" in the middle of this flow suspended it (MainDialog keeps the dialog stack in the session): choosing it again
   * in the menu resumes at the question the young person was at, instead of starting the flow over.
   */
  private async resumeSuspended(dc: DialogContext, session: Session): Promise<DialogTurnResult | undefined> {
    const suspended = session.suspended;
    if (!suspended || this.flow.id === 'main' || this.flow.id === 'menu') return undefined;
    const k = suspended.findIndex((i) => i.id === this.id);
    if (k < 0) return undefined;
    session.suspended = undefined;
    dc.activeDialog!.state = clone(suspended[k].state);
    // botbuilder keeps the stack bottom first: the flows this one had called come after it.
    for (let i = k + 1; i < suspended.length; i++) dc.stack.push(clone(suspended[i]));
    const top = dc.stack[dc.stack.length - 1];
    const x = this.ctx(dc);
    await say(x, render(x, 'engine.resumed_where'));
    const dialog = dc.findDialog(top.id);
    if (dialog) await dialog.repromptDialog(dc.context, top);
    return Dialog.EndOfTurn;
  }

  /** "retour": back to the last question answered in this flow. */
  private async goBack(dc: DialogContext, st: FlowState): Promise<DialogTurnResult> {
    const x = this.ctx(dc);
    st.guess = undefined;
    st.offered = false;
    const prev = (st.history ??= []).pop();
    const prevStep = this.stepById(prev);
    if (!prevStep || !isPrompt(prevStep)) {
      await say(x, render(x, 'engine.back_none'));
      const current = this.stepById(st.step);
      if (st.waiting && current && isPrompt(current)) await askPrompt(current, x);
      return Dialog.EndOfTurn;
    }
    await say(x, render(x, 'engine.back'));
    st.step = prevStep.id;
    st.waiting = true;
    st.failures = 0;
    await askPrompt(prevStep, x);
    return Dialog.EndOfTurn;
  }

  /** Stores an answer (and its extra values: postcode → département, in one profile write) and moves on. */
  private async accept(dc: DialogContext, st: FlowState, step: PromptStep, value: unknown, next?: string, extra?: Record<string, unknown>): Promise<DialogTurnResult> {
    const x = this.ctx(dc);
    st.waiting = false;
    st.failures = 0;
    st.guess = undefined;
    await assignAll(x, [{ name: step.var, value, persist: step.save !== false }, ...Object.entries(extra ?? {}).map(([name, v]) => ({ name, value: v }))]);
    (st.history ??= []).push(step.id);
    st.step = next ?? defaultNext(this.flow, step);
    return this.drive(dc, st);
  }

  async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const st = this.state(dc);
    if (dc.context.turnState.get(BACK_TURN_KEY)) return this.goBack(dc, st);
    const step = this.stepById(st.step);
    if (!st.waiting || !step || !isPrompt(step)) return this.drive(dc, st);
    const x = this.ctx(dc);
    const input = (dc.context.activity.text ?? '').trim();
    const locale = sessionLocale(x.session);

    if (st.guess) {
      const guess = st.guess;
      st.guess = undefined;
      const w = normalize(input);
      const answer = w === normalize(this.deps.texts.t(locale, 'engine.yes')) ? true : w === normalize(this.deps.texts.t(locale, 'engine.no')) ? false : recognizeYesNo(input, locale);
      if (answer === true) return this.accept(dc, st, step, guess.value, guess.next, guess.extra);
      if (answer === false) {
        await repromptAfterFailure(step, x);
        return Dialog.EndOfTurn;
      }
      // Anything else is read as a new answer to the question.
    }

    if (st.offered) {
      st.offered = false;
      const n = normalize(input);
      const title = (k: string) => normalize(this.deps.texts.t(sessionLocale(x.session), k));
      const yesButton = n === title(OFFER_BUTTONS[0]);
      const noButton = n === title(OFFER_BUTTONS[1]);
      const answer = yesButton || noButton ? undefined : recognizeYesNo(input, sessionLocale(x.session));
      const yes = yesButton || answer === true;
      const no = noButton || answer === false;
      if (yes) {
        st.failures = 0;
        await this.deps.handoff.requestHuman(dc.context, 'reprompt_failures');
        return Dialog.EndOfTurn;
      }
      if (no) {
        st.failures = 0;
        await askPrompt(step, x);
        return Dialog.EndOfTurn;
      }
    }

    const understood = understandAnswer(step, input, x);
    // Facts given ahead, understood or not ("chômage depuis 6 mois, j'ai un CAP"): kept for the questions to come
    // (only with consent: without it nothing personal is kept).
    if (x.session.vars.consent === true) {
      const facts = factsAhead(step, input, x);
      if (Object.keys(facts).length) x.session.vars[AHEAD_VAR] = { ...((x.session.vars[AHEAD_VAR] as Record<string, unknown> | undefined) ?? {}), ...facts };
    }
    switch (understood.kind) {
      case 'value':
        if (understood.confidence === 'low') {
          st.guess = { value: understood.value, next: understood.next, extra: understood.extra };
          await say(x, render(x, 'engine.guess_q', { answer: displayAnswer(step, understood.value, x) }), ['engine.yes', 'engine.no']);
          return Dialog.EndOfTurn;
        }
        return this.accept(dc, st, step, understood.value, understood.next, understood.extra);
      case 'already':
        if (understood.value !== undefined) {
          await say(x, render(x, 'engine.already_used', { answer: displayAnswer(step, understood.value, x) }));
          return this.accept(dc, st, step, understood.value, answeredNext(step, understood.value));
        }
        await say(x, render(x, 'engine.already_unknown'));
        await repromptAfterFailure(step, x);
        return Dialog.EndOfTurn;
      case 'skip':
      case 'never':
        if (step.optional) return this.accept(dc, st, step, null);
        // A question that cannot be skipped: a gentle way forward (the options again, or a person); it counts
        // towards the offer of a person like an answer not understood.
        if (st.failures + 1 < (step.maxAttempts ?? this.deps.options.maxAttempts)) {
          st.failures += 1;
          await say(x, render(x, step.type === 'choice' ? 'engine.skip_required_choice' : 'engine.skip_required'));
          await repromptAfterFailure(step, x);
          return Dialog.EndOfTurn;
        }
        break;
      case 'none':
        break;
    }
    st.failures += 1;
    if (st.failures >= (step.maxAttempts ?? this.deps.options.maxAttempts)) {
      st.failures = 0;
      st.offered = true;
      await say(x, render(x, 'engine.offer_human'), OFFER_BUTTONS);
    } else {
      await repromptAfterFailure(step, x);
    }
    return Dialog.EndOfTurn;
  }

  async resumeDialog(dc: DialogContext, _reason: DialogReason, _result?: unknown): Promise<DialogTurnResult> {
    const st = this.state(dc);
    if (st.waiting) {
      // An interruption (e.g. the erasure confirmation) ended: ask our question again.
      const step = this.stepById(st.step);
      if (step && isPrompt(step)) await askPrompt(step, this.ctx(dc));
      return Dialog.EndOfTurn;
    }
    st.step = st.afterCall ?? undefined;
    st.afterCall = undefined;
    return this.drive(dc, st);
  }

  async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    const st = (instance.state as { flow: FlowState }).flow;
    const step = this.stepById(st.step);
    if (st.waiting && step && isPrompt(step)) {
      await askPrompt(step, { turn: context, session: getSession(context), deps: this.deps, flow: this.flow });
    }
  }

  /** The prompt this flow waits on, if any (for the "welcome back" message). */
  static waitingStep(instance: DialogInstance | undefined, flow: Flow | undefined): PromptStep | undefined {
    const st = (instance?.state as { flow?: FlowState } | undefined)?.flow;
    const step = st?.waiting ? flow?.steps.find((s) => s.id === st.step) : undefined;
    return step && isPrompt(step) ? step : undefined;
  }

  /** Runs steps until one waits for an answer, the flow ends or calls another flow. */
  private async drive(dc: DialogContext, st: FlowState): Promise<DialogTurnResult> {
    for (;;) {
      const step = this.stepById(st.step);
      if (!step) {
        if (st.step !== undefined) this.deps.logger.error({ flow: this.flow.id, step: st.step }, 'unknown step: ending the flow');
        else await journeyOf(this.ctx(dc))?.completed(getSession(dc.context).contactKey, this.flow.id);
        return dc.endDialog();
      }
      if (!countStep(dc.context, this.deps.options.maxStepsPerTurn)) {
        this.deps.logger.error({ flow: this.flow.id, step: step.id }, 'too many steps in one turn: the script loops, stopping it');
        const x = this.ctx(dc);
        await say(x, render(x, 'engine.loop_guard'));
        return dc.cancelAllDialogs();
      }
      const x = this.ctx(dc);
      if (isPrompt(step)) {
        // Answered ahead: confirmed in one line instead of asked ("retour" goes back to ask it).
        const ahead = x.session.vars[AHEAD_VAR] as Record<string, unknown> | undefined;
        const known = x.session.vars[step.var];
        // A working answer (save: false, e.g. the employer of the experience being added) is replaced; a kept one only filled.
        if (ahead && ahead[step.var] !== undefined && (known === undefined || known === null || step.save === false)) {
          const raw = ahead[step.var];
          const value = raw === 'never' ? null : raw;
          const rest = { ...ahead };
          delete rest[step.var];
          const extra: Record<string, unknown> = {};
          if (step.type === 'text' && step.format === 'postcode' && step.depVar && rest.departement !== undefined) {
            extra[step.depVar] = rest.departement;
            delete rest.departement;
          }
          x.session.vars[AHEAD_VAR] = rest;
          await assignAll(x, [{ name: step.var, value, persist: step.save !== false }, ...Object.entries(extra).map(([name, v]) => ({ name, value: v }))]);
          const labelKey = `understanding.labels.${step.var}`;
          const label = this.deps.texts.has(sessionLocale(x.session), labelKey) ? render(x, labelKey) : '';
          const answer = raw === 'never' ? render(x, 'understanding.never') : displayAnswer(step, value, x);
          await say(x, render(x, label ? 'engine.ahead_noted' : 'engine.ahead_noted_plain', { label, answer }));
          (st.history ??= []).push(step.id);
          st.step = answeredNext(step, value) ?? defaultNext(this.flow, step);
          continue;
        }
      }
      const outcome = await runStep(step, x);
      switch (outcome.kind) {
        case 'next':
          st.step = outcome.kind === 'next' && outcome.to !== undefined ? outcome.to : defaultNext(this.flow, step);
          break;
        case 'wait':
          st.waiting = true;
          st.failures = 0;
          st.offered = false;
          return Dialog.EndOfTurn;
        case 'call':
          st.afterCall = defaultNext(this.flow, step) ?? null;
          return dc.beginDialog(flowDialogId(outcome.flow));
        case 'end':
          await journeyOf(x)?.completed(x.session.contactKey, this.flow.id);
          return dc.endDialog();
        case 'cancel':
          return dc.cancelAllDialogs();
      }
    }
  }
}
