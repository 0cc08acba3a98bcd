import { TurnContext } from 'botbuilder';
import { Dialog, DialogContext, DialogInstance, DialogReason, DialogTurnResult } from 'botbuilder-dialogs';
import { normalize, recognizeYesNo } from '../recognizers';
import { Flow, PromptStep, Step, isPrompt } from '../scripts/types';
import type { EngineDeps } from './deps';
import { askPrompt, assignAll, recognizeAnswer, render, repromptAfterFailure, runStep, say, StepContext } from './executors';
import { countStep, getSession, sessionLocale } from './session';

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
}

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
    const st: FlowState = { step: options?.step ?? this.flow.steps[0]?.id, waiting: false, failures: 0, offered: false };
    (dc.activeDialog!.state as { flow: FlowState }).flow = st;
    return this.drive(dc, st);
  }

  async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const st = this.state(dc);
    const step = this.stepById(st.step);
    if (!st.waiting || !step || !isPrompt(step)) return this.drive(dc, st);
    const x = this.ctx(dc);
    const input = (dc.context.activity.text ?? '').trim();

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

    const rec = recognizeAnswer(step, input, x);
    if (!rec.ok) {
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
    st.waiting = false;
    st.failures = 0;
    // The answer and its extra values (postcode → département): one profile write.
    await assignAll(x, [{ name: step.var, value: rec.value, persist: step.save !== false }, ...Object.entries(rec.extra ?? {}).map(([name, value]) => ({ name, value }))]);
    st.step = rec.next ?? defaultNext(this.flow, step);
    return this.drive(dc, st);
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
        return dc.endDialog();
      }
      if (!countStep(dc.context, this.deps.options.maxStepsPerTurn)) {
        this.deps.logger.error({ flow: this.flow.id, step: step.id }, 'too many steps in one turn: the script loops, stopping it');
        const x = this.ctx(dc);
        await say(x, render(x, 'engine.loop_guard'));
        return dc.cancelAllDialogs();
      }
      const x = this.ctx(dc);
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
          return dc.endDialog();
        case 'cancel':
          return dc.cancelAllDialogs();
      }
    }
  }
}
