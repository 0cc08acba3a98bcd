/**
 * Lexicon data model and validation.
 *
 * The lexicon lives as JSON data under dialogs/barriers/ so that admins can
 * edit it through an editor (and maybe store it in MongoDB later). The format
 * therefore only uses arrays of objects and plain keys: no key starts with "$"
 * and no key contains ".".
 */
import { z } from 'zod';
import { BARRIER_LABELS, BarrierLabel } from './types';
import { compilePattern, PatternSyntaxError } from './pattern';
import { Normaliser } from './normalise';

const labelSchema = z.enum(BARRIER_LABELS);
const activeSeverity = z.enum(['urgent', 'high', 'normal']);
const patternList = z.array(z.string().min(1)).min(1);
const idSchema = z.string().regex(/^[a-z0-9_-]+$/, 'id must match [a-z0-9_-]+');

export const normalisationSchema = z
  .object({
    source: z.string().optional(),
    description: z.string().optional(),
    /** Token-level rewrites applied after lower-casing and accent stripping (SMS spelling). */
    sms: z.array(z.object({ from: z.string().regex(/^[a-z0-9]+$/, 'from must be one normalised token'), to: z.string().min(1), note: z.string().optional() }).strict()),
    /**
     * Elision without apostrophe: "jpense" -> "je pense". Applies when a token
     * starts with `prefix` followed by a consonant and is not in `exceptions`.
     */
    elisions: z.array(
      z
        .object({
          prefix: z.string().regex(/^[a-z]+$/),
          expandTo: z.string().min(1),
          minRestLength: z.number().int().min(1),
          exceptions: z.array(z.string()),
        })
        .strict(),
    ),
    /**
     * Word endings folded on both input and lexicon, for homophones that young
     * people mix up: "crever" / "crevé" / "crevez" are all written "creve".
     */
    endings: z.array(z.object({ from: z.string().regex(/^[a-z]+$/), to: z.string().regex(/^[a-z]*$/), minLength: z.number().int().min(2) }).strict()).optional(),
    fuzzy: z
      .object({
        /** Only tokens at least this long are fuzzy-matched (edit distance 1). */
        minLength: z.number().int().min(3),
        /** Tokens at least this long may be at distance 2. */
        longLength: z.number().int().min(4),
        /** Words that are real words and must never be "corrected". */
        protectedWords: z.array(z.string()),
        /** Silent final letters that are often dropped ("permi" = "permis", "envi" = "envie"). */
        silentEndings: z.array(z.string().regex(/^[a-z]+$/)).optional(),
      })
      .strict(),
  })
  .strict();

export const negationSchema = z
  .object({
    source: z.string().optional(),
    description: z.string().optional(),
    /** Patterns that, when they end right before a match, cancel it ("pas de", "aucun", "no"). */
    cues: patternList,
    /** Words allowed between the cue and the match ("pas de VRAI souci de ..."). */
    fillers: z.array(z.string()),
    maxFillers: z.number().int().min(0).max(5),
  })
  .strict();

export const exclusionSchema = z
  .object({
    id: idSchema,
    kind: z.enum(['idiom', 'sector', 'other_person', 'context']),
    patterns: patternList,
    /** Labels whose matches are cancelled when overlapping; all labels when absent. */
    labels: z.array(labelSchema).min(1).optional(),
    note: z.string().optional(),
  })
  .strict();

export const exclusionsSchema = z
  .object({
    source: z.string().optional(),
    description: z.string().optional(),
    entries: z.array(exclusionSchema),
  })
  .strict();

export const severityRuleSchema = z
  .object({
    id: idSchema,
    /** The rule applies when any of these labels was detected. */
    labels: z.array(labelSchema).min(1),
    /** ... and any of these patterns occurs somewhere in the message. */
    context: patternList,
    severity: activeSeverity,
    note: z.string().optional(),
  })
  .strict();

export const severitySchema = z
  .object({
    source: z.string().optional(),
    description: z.string().optional(),
    rules: z.array(severityRuleSchema),
    /** When `label` is detected, the labels in `drops` are not reported (e.g. suicidal implies psychological). */
    subsumptions: z
      .array(z.object({ label: labelSchema, drops: z.array(labelSchema).min(1), note: z.string().optional() }).strict())
      .optional(),
  })
  .strict();

export const entrySchema = z
  .object({
    id: idSchema,
    patterns: patternList,
    /** Severity of this evidence; the label's defaultSeverity when absent. */
    severity: activeSeverity.optional(),
    /** When false, negation cues before the match are ignored. Default true. */
    negatable: z.boolean().optional(),
    /** The entry only counts if one of these patterns also occurs in the message. */
    requires: patternList.optional(),
    note: z.string().optional(),
  })
  .strict();

export const labelLexiconSchema = z
  .object({
    source: z.string().optional(),
    description: z.string().optional(),
    label: labelSchema,
    defaultSeverity: activeSeverity,
    entries: z.array(entrySchema).min(1),
    /** Patterns saying the problem is over ("maintenant j'ai un studio"): drop the label. */
    resolutions: z.array(z.string().min(1)).optional(),
  })
  .strict();

/**
 * Concept families (death, means, time frame, burden, coercion, ...) and rules
 * that combine them, so that a phrasing nobody wrote down is still caught when
 * its parts are known: "means + act", "hopelessness + time frame". A rule with
 * scope "conversation" also combines concepts seen in the conversation's recent
 * messages (see conversationRisk.ts).
 */
export const conceptSchema = z
  .object({
    id: idSchema,
    patterns: patternList,
    /** Concept matches right after a negation cue are ignored (default true). */
    negatable: z.boolean().optional(),
    note: z.string().optional(),
  })
  .strict();

export const conceptRuleSchema = z
  .object({
    id: idSchema,
    label: labelSchema,
    severity: activeSeverity,
    /** Every concept listed must be present... */
    all: z.array(idSchema).min(1),
    /** ...and, when given, at least one of these. */
    any: z.array(idSchema).min(1).optional(),
    /** "message": all in one message, within `window` words; "conversation": across recent messages. */
    scope: z.enum(['message', 'conversation']).optional(),
    window: z.number().int().min(1).max(200).optional(),
    note: z.string().optional(),
  })
  .strict();

export const conceptsSchema = z
  .object({
    source: z.string().optional(),
    description: z.string().optional(),
    /** How long concepts of earlier messages count for conversation-scope rules. */
    conversationHours: z.number().min(0.1).max(168),
    /** Concepts that alone are no signal worth remembering for conversation rules (self, life, time frame...). */
    memoryIgnores: z.array(idSchema).optional(),
    /**
     * Danger said a little in each of several messages: the learned layer's urgent probability of each message is
     * remembered; when this message has at least `messageMin`, an earlier one (within conversationHours) too, and
     * together (noisy-OR) they reach `threshold`, the conversation is urgent.
     */
    conversationRisk: z.object({ messageMin: z.number().min(0.01).max(1), threshold: z.number().min(0.05).max(1) }).strict().optional(),
    concepts: z.array(conceptSchema).min(1),
    rules: z.array(conceptRuleSchema),
  })
  .strict();

export const lexiconSchema = z
  .object({
    normalisation: normalisationSchema,
    negation: negationSchema,
    exclusions: exclusionsSchema,
    severity: severitySchema,
    concepts: conceptsSchema.optional(),
    labels: z.array(labelLexiconSchema).min(1),
  })
  .strict();

export type NormalisationConfig = z.infer<typeof normalisationSchema>;
export type NegationConfig = z.infer<typeof negationSchema>;
export type ExclusionEntry = z.infer<typeof exclusionSchema>;
export type ExclusionsConfig = z.infer<typeof exclusionsSchema>;
export type SeverityRule = z.infer<typeof severityRuleSchema>;
export type SeverityConfig = z.infer<typeof severitySchema>;
export type LexiconEntry = z.infer<typeof entrySchema>;
export type LabelLexicon = z.infer<typeof labelLexiconSchema>;
export type Lexicon = z.infer<typeof lexiconSchema>;
export type ConceptsConfig = z.infer<typeof conceptsSchema>;
export type ConceptRule = z.infer<typeof conceptRuleSchema>;

export type ValidationResult = { ok: true; lexicon: Lexicon } | { ok: false; errors: string[] };

type PathPart = string | number;

function formatPath(parts: readonly PathPart[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

/** Name of the file a path points into (the part's "source"), for readable errors. */
function sourceOf(data: unknown, parts: readonly PathPart[]): string {
  if (!data || typeof data !== 'object') return 'lexicon';
  const root = data as Record<string, unknown>;
  const part = parts[0];
  if (part === 'labels' && typeof parts[1] === 'number' && Array.isArray(root.labels)) {
    const item: unknown = root.labels[parts[1]];
    if (item && typeof item === 'object' && typeof (item as { source?: unknown }).source === 'string') {
      return (item as { source: string }).source;
    }
    return `labels[${parts[1]}]`;
  }
  if (typeof part === 'string') {
    const item = root[part];
    if (item && typeof item === 'object' && typeof (item as { source?: unknown }).source === 'string') {
      return (item as { source: string }).source;
    }
    return part;
  }
  return 'lexicon';
}

function errorAt(data: unknown, parts: readonly PathPart[], message: string): string {
  return `${sourceOf(data, parts)}: ${formatPath(parts)}: ${message}`;
}

/** Keys must be storable in MongoDB: never start with "$", never contain ".". */
function checkKeys(value: unknown, parts: PathPart[], data: unknown, errors: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkKeys(v, [...parts, i], data, errors));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k.startsWith('$') || k.includes('.')) errors.push(errorAt(data, [...parts, k], 'keys must not start with "$" nor contain "."'));
      checkKeys(v, [...parts, k], data, errors);
    }
  }
}

/**
 * Validates a whole lexicon (the object assembled by loadLexiconDir, or the
 * same shape coming from a database/editor). Checks the shape, the key rules,
 * pattern syntax, duplicate ids and that every label has data.
 */
export function validateLexicon(data: unknown): ValidationResult {
  const errors: string[] = [];
  checkKeys(data, [], data, errors);
  const parsed = lexiconSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push(errorAt(data, issue.path, issue.message));
    return { ok: false, errors };
  }
  const lexicon = parsed.data;
  const normaliser = new Normaliser(lexicon.normalisation);
  const checkPattern = (pattern: string, parts: PathPart[]): void => {
    try {
      compilePattern(pattern, normaliser);
    } catch (e) {
      const msg = e instanceof PatternSyntaxError ? e.message : String(e);
      errors.push(errorAt(data, parts, `invalid pattern ${JSON.stringify(pattern)}: ${msg}`));
    }
  };
  lexicon.negation.cues.forEach((p, i) => checkPattern(p, ['negation', 'cues', i]));
  lexicon.exclusions.entries.forEach((e, i) => e.patterns.forEach((p, j) => checkPattern(p, ['exclusions', 'entries', i, 'patterns', j])));
  lexicon.severity.rules.forEach((r, i) => r.context.forEach((p, j) => checkPattern(p, ['severity', 'rules', i, 'context', j])));
  if (lexicon.concepts) {
    const ids = new Set<string>();
    lexicon.concepts.concepts.forEach((c, i) => {
      if (ids.has(c.id)) errors.push(errorAt(data, ['concepts', 'concepts', i, 'id'], `duplicate concept ${c.id}`));
      ids.add(c.id);
      c.patterns.forEach((p, j) => checkPattern(p, ['concepts', 'concepts', i, 'patterns', j]));
    });
    lexicon.concepts.rules.forEach((r, i) => {
      for (const key of ['all', 'any'] as const) {
        (r[key] ?? []).forEach((c, j) => {
          if (!ids.has(c)) errors.push(errorAt(data, ['concepts', 'rules', i, key, j], `unknown concept "${c}"`));
        });
      }
    });
  }
  const seenIds = new Set<string>();
  const seenLabels = new Set<BarrierLabel>();
  lexicon.labels.forEach((lab, li) => {
    if (seenLabels.has(lab.label)) errors.push(errorAt(data, ['labels', li, 'label'], `label "${lab.label}" is defined twice`));
    seenLabels.add(lab.label);
    lab.entries.forEach((entry, ei) => {
      const rule = `${lab.label}/${entry.id}`;
      if (seenIds.has(rule)) errors.push(errorAt(data, ['labels', li, 'entries', ei, 'id'], `duplicate id ${rule}`));
      seenIds.add(rule);
      entry.patterns.forEach((p, pi) => checkPattern(p, ['labels', li, 'entries', ei, 'patterns', pi]));
      (entry.requires ?? []).forEach((p, pi) => checkPattern(p, ['labels', li, 'entries', ei, 'requires', pi]));
    });
    (lab.resolutions ?? []).forEach((p, pi) => checkPattern(p, ['labels', li, 'resolutions', pi]));
  });
  for (const label of BARRIER_LABELS) {
    if (!seenLabels.has(label)) errors.push(`lexicon: labels: no lexicon for label "${label}"`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, lexicon };
}
