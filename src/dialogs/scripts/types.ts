/**
 * The data model of a scripted flow (dialogs/flows/*.yaml). A flow is an
 * ordered list of steps; a step without `next` continues with the following
 * step of the list, and the flow ends (returns to its caller) after the last.
 * Every user-facing text is a key into locales/<lang>.json.
 */

/** A literal value a variable can hold. */
export type Scalar = string | number | boolean | null;

/** A structured condition on variables (no expression language to parse). */
export type Condition =
  | { var: string; eq: Scalar }
  | { var: string; ne: Scalar }
  | { var: string; in: Scalar[] }
  | { var: string; lt: number }
  | { var: string; gte: number }
  | { var: string; exists: boolean }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

interface StepBase {
  id: string;
  /** Next step id; default: the following step of the list (or the end of the flow). */
  next?: string;
}

interface PromptBase extends StepBase {
  /** Text key of the question. */
  prompt: string;
  /** Text key sent when the answer is not understood; default "engine.reprompt.<type>". */
  reprompt?: string;
  /** Variable that receives the answer. */
  var: string;
  /** When true, "passer", "jsp", "skip"... set the variable to null instead of failing. */
  optional?: boolean;
  /** Failures before offering a person (default: the engine's setting, 3). */
  maxAttempts?: number;
  /** Skip the question when the variable is already known (answered in an earlier conversation): resuming where one stopped. */
  skipIfSet?: boolean;
  /** false: a working answer (menu pick, "another one?") kept for this conversation only, not in the profile. */
  save?: boolean;
}

export interface TextStep extends PromptBase {
  type: 'text';
  /** Stored answers are truncated to this many characters (default 300, at most 4000). */
  maxLength?: number;
  /** Minimum length of a valid answer (default 1). */
  minLength?: number;
  /** Normalisation: "name" capitalises words and refuses digits. */
  format?: 'free' | 'name' | 'postcode' | 'commune' | 'tasks';
  /** For format "postcode": the variable that receives the département code. */
  depVar?: string;
  /** For format "postcode": the variable that receives the commune (INSEE code, and its name in `<var>_name`) when the postcode has only one. */
  communeVar?: string;
  /**
   * For format "commune": the variable holding the postcode. The question is asked only when that postcode covers
   * several communes (buttons with their names); the answer is the commune's INSEE code, its name goes in `<var>_name`.
   */
  postcodeVar?: string;
  /**
   * For format "tasks": variables describing the job (title, company). When they name a common job of
   * dialogs/data/cv-jobs.yaml, its suggested tasks are listed with numbers; "1 et 3", "les 3" pick them.
   */
  jobVars?: string[];
}

export interface ChoiceOption {
  value: string;
  /** Text key of the button title (at most 20 characters in every language). */
  title: string;
  /** Extra words that select this option (any language, no accents needed). */
  match?: string[];
  /** Step to go to when this option is chosen (default: the step's next). */
  next?: string;
}

export interface ChoiceStep extends PromptBase {
  type: 'choice';
  options: ChoiceOption[];
}

export interface ConfirmStep extends PromptBase {
  type: 'confirm';
  /** Step when the answer is yes / no (default: the step's next). */
  yes?: string;
  no?: string;
}

export interface NumberStep extends PromptBase {
  type: 'number';
  min?: number;
  max?: number;
  integer?: boolean;
}

export interface DateStep extends PromptBase {
  type: 'date';
  /** "past": only dates up to today (default), "future": from today, "any". */
  range?: 'past' | 'future' | 'any';
  /** Keep the time of day (date/time answers such as "demain à 14h"). */
  withTime?: boolean;
}

export interface EmailStep extends PromptBase {
  type: 'email';
}

export interface PhoneStep extends PromptBase {
  type: 'phone';
}

export interface MessageStep extends StepBase {
  type: 'message';
  text: string;
  /** Channel-neutral buttons shown with the message (imBack of the title). */
  buttons?: string[];
}

export interface SetStep extends StepBase {
  type: 'set';
  var: string;
  /** A literal value, or `{ copy: var }` to copy another variable. */
  value: Scalar | { copy: string } | { list: [] };
}

/** Appends an object built from variables to a list variable (repeatable sections: experiences...). */
export interface AppendStep extends StepBase {
  type: 'append';
  list: string;
  /** Field name → variable name. */
  fields: Record<string, string>;
}

export interface BranchCase {
  when: Condition;
  next: string;
}

export interface BranchStep extends StepBase {
  type: 'branch';
  cases: BranchCase[];
  /** Step when no case matches (default: the step's next). */
  else?: string;
}

/** Runs another flow; when it ends, continues with `next`. */
export interface GotoStep extends StepBase {
  type: 'goto';
  flow: string;
}

export interface HandoffStep extends StepBase {
  type: 'handoff';
  /** Text key sent before handing off (optional). */
  text?: string;
}

export interface DocumentStep extends StepBase {
  type: 'document';
  kind: 'cv' | 'letter';
}

/** Shows the nearest structures (Missions Locales...) for the département in `depVar`. */
export interface StructuresStep extends StepBase {
  type: 'structures';
  depVar?: string;
}

/** Suggests 2–3 sectors from the answers (dialogs/data/sectors.yaml) and stores their ids. */
export interface OrientationStep extends StepBase {
  type: 'orientation';
  /** Variables whose values are interest / strength tags. */
  from: string[];
  var: string;
}

/** Records the consent given in a variable (true/false) on the contact. */
export interface ConsentStep extends StepBase {
  type: 'consent';
  from: string;
}

/** Switches the conversation language to the value of a variable ("fr" | "en"). */
export interface LocaleStep extends StepBase {
  type: 'locale';
  from: string;
}

/** Sends the summary of the diagnostic (summarizeProfile). */
export interface SummaryStep extends StepBase {
  type: 'summary';
}

/** Offers an appointment with a volunteer mentor (what for, then free slots): the next messages answer it (src/mentoring). */
export interface MentoringStep extends StepBase {
  type: 'mentoring';
}

/** Erases the young person's data (PrivacyPort) and forgets the session. */
export interface EraseStep extends StepBase {
  type: 'erase';
}

export interface EndStep {
  id: string;
  type: 'end';
}

export type PromptStep = TextStep | ChoiceStep | ConfirmStep | NumberStep | DateStep | EmailStep | PhoneStep;

export type Step =
  | PromptStep
  | MessageStep
  | SetStep
  | AppendStep
  | BranchStep
  | GotoStep
  | HandoffStep
  | DocumentStep
  | StructuresStep
  | OrientationStep
  | ConsentStep
  | LocaleStep
  | SummaryStep
  | MentoringStep
  | EraseStep
  | EndStep;

export type StepType = Step['type'];

export const PROMPT_TYPES = ['text', 'choice', 'confirm', 'number', 'date', 'email', 'phone'] as const;

export function isPrompt(step: Step): step is PromptStep {
  return (PROMPT_TYPES as readonly string[]).includes(step.type);
}

export interface Flow {
  id: string;
  /** Variables this flow may read that other flows (or the stored profile) set. */
  inputs?: string[];
  steps: Step[];
}

/** A parsed script file, before validation. */
export interface ScriptFile {
  /** Path shown in errors (relative to the repository, e.g. "dialogs/flows/cv.yaml"). */
  file: string;
  data: unknown;
}

export interface ScriptError {
  file: string;
  /** JSON pointer into the file ("/steps/3/next"). */
  path: string;
  code:
    | 'parse'
    | 'schema'
    | 'unsafe_key'
    | 'unknown_step_type'
    | 'duplicate_flow'
    | 'duplicate_step'
    | 'missing_text'
    | 'button_too_long'
    | 'unknown_step'
    | 'unknown_flow'
    | 'unreachable_step'
    | 'var_before_set'
    | 'loop_without_exit';
  message: string;
}

export function assertNever(x: never): never {
  throw new Error(`Unexpected value ${JSON.stringify(x)}`);
}

/** Variables every flow may read: kept by the engine itself. */
export const SESSION_VARS = ['locale', 'consent'] as const;
