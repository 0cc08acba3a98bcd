/**
 * The editable data of the understanding layer: dialogs/understanding/lexicon.yaml (skip / never / "je te l'ai dit" /
 * chat words / yes-no / fillers / accented first names) and dialogs/understanding/synonyms.yaml (per flow, step and
 * option: match, not, ahead). Validated at load against the flows: an error names the file and the path.
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { z } from 'zod';
import type { FlowRegistry } from '../dialogs/scripts/loader';

const phrases = z.array(z.string().min(1));

export const lexiconSchema = z
  .object({
    skip: phrases,
    never: phrases,
    alreadySaid: phrases,
    nameChatWords: phrases,
    yes: phrases,
    no: phrases,
    fillers: phrases,
    accentedNames: phrases,
  })
  .strict();
export type UnderstandingLexicon = z.infer<typeof lexiconSchema>;

export const optionSynonymsSchema = z.object({ match: phrases.optional(), not: phrases.optional(), ahead: phrases.optional() }).strict();
export type OptionSynonyms = z.infer<typeof optionSynonymsSchema>;
/** flow → step → option value → synonyms. */
export type SynonymsData = Record<string, Record<string, Record<string, OptionSynonyms>>>;

export interface UnderstandingData {
  lexicon: UnderstandingLexicon;
  synonyms: SynonymsData;
}

export class UnderstandingDataError extends Error {
  constructor(public readonly errors: string[]) {
    super(`Invalid understanding data:\n${errors.map((e) => `  ${e}`).join('\n')}`);
    this.name = 'UnderstandingDataError';
  }
}

const LEXICON_FILE = 'dialogs/understanding/lexicon.yaml';
const SYNONYMS_FILE = 'dialogs/understanding/synonyms.yaml';

function parse(file: string, content: string, errors: string[]): unknown {
  try {
    return YAML.parse(content, { uniqueKeys: true }) as unknown;
  } catch (err) {
    errors.push(`${file}#/: cannot parse: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** Validates the two files' contents against the flows; returns the data or throws with every error (file#path: message). */
export function validateUnderstandingData(lexiconText: string, synonymsText: string, flows: FlowRegistry, strict = true): UnderstandingData {
  const errors: string[] = [];
  // Not strict (a draft or an older script version): synonyms of steps that version does not have are dropped, not errors.
  const drift: string[] = [];
  const lexRaw = parse(LEXICON_FILE, lexiconText, errors);
  const synRaw = parse(SYNONYMS_FILE, synonymsText, errors);
  let lexicon: UnderstandingLexicon | undefined;
  if (lexRaw !== undefined) {
    const r = lexiconSchema.safeParse(lexRaw);
    if (r.success) lexicon = r.data;
    else for (const i of r.error.issues) errors.push(`${LEXICON_FILE}#/${i.path.join('/')}: ${i.message}`);
  }
  const synonyms: SynonymsData = {};
  if (synRaw !== undefined && synRaw !== null) {
    if (typeof synRaw !== 'object' || Array.isArray(synRaw)) errors.push(`${SYNONYMS_FILE}#/: expected a map of flows`);
    else {
      for (const [flowId, steps] of Object.entries(synRaw as Record<string, unknown>)) {
        const flow = flows.get(flowId);
        if (!flow) {
          (strict ? errors : drift).push(`${SYNONYMS_FILE}#/${flowId}: unknown flow "${flowId}"`);
          continue;
        }
        if (!steps || typeof steps !== 'object' || Array.isArray(steps)) {
          errors.push(`${SYNONYMS_FILE}#/${flowId}: expected a map of steps`);
          continue;
        }
        synonyms[flowId] = {};
        for (const [stepId, options] of Object.entries(steps as Record<string, unknown>)) {
          const step = flow.steps.find((s) => s.id === stepId);
          if (!step) {
            (strict ? errors : drift).push(`${SYNONYMS_FILE}#/${flowId}/${stepId}: unknown step "${stepId}" in flow ${flowId}`);
            continue;
          }
          if (options === null || typeof options !== 'object' || Array.isArray(options)) {
            errors.push(`${SYNONYMS_FILE}#/${flowId}/${stepId}: expected a map of option values`);
            continue;
          }
          synonyms[flowId][stepId] = {};
          for (const [value, syn] of Object.entries(options as Record<string, unknown>)) {
            if (step.type !== 'choice' || !step.options.some((o) => o.value === value)) {
              (strict ? errors : drift).push(`${SYNONYMS_FILE}#/${flowId}/${stepId}/${value}: "${value}" is not an option of ${flowId}/${stepId}`);
              continue;
            }
            const r = optionSynonymsSchema.safeParse(syn);
            if (!r.success) {
              for (const i of r.error.issues) errors.push(`${SYNONYMS_FILE}#/${flowId}/${stepId}/${value}/${i.path.join('/')}: ${i.message}`);
              continue;
            }
            synonyms[flowId][stepId][value] = r.data;
          }
        }
      }
    }
  }
  if (errors.length || !lexicon) throw new UnderstandingDataError(errors.length ? errors : [`${LEXICON_FILE}#/: missing`]);
  return { lexicon, synonyms };
}

export function loadUnderstandingData(root: string, flows: FlowRegistry, strict = true): UnderstandingData {
  return validateUnderstandingData(fs.readFileSync(path.join(root, LEXICON_FILE), 'utf8'), fs.readFileSync(path.join(root, SYNONYMS_FILE), 'utf8'), flows, strict);
}
