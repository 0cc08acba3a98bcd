/**
 * The learned layer of the barrier detector: one logistic regression per label
 * (one-vs-rest) plus one for "danger to life" (urgent), over hashed word and
 * character n-grams (features.ts). Trained by `npm run train:barriers`
 * (scripts/train-barriers.ts) on the team's labelled corpus under
 * dialogs/barriers/corpus/; the weights are a data file in the repository
 * (dialogs/barriers/model/), loaded once; inference is in-process and pure.
 *
 * Weights are stored as int8 with one scale per head (head-major), so that
 * the file stays small: weights.bin holds heads.length * 2^bits bytes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { BARRIER_LABELS, BarrierLabel } from '../types';
import { ConceptFeature, extractFeatures, FeatureVector } from './features';

export const MODEL_HEADS = [...BARRIER_LABELS, 'urgent'] as const;
export type ModelHead = typeof MODEL_HEADS[number];

const headSchema = z
  .object({
    name: z.enum(MODEL_HEADS),
    bias: z.number(),
    scale: z.number().positive(),
    /** Probability at or above which the head fires (chosen by cross-validation). */
    threshold: z.number().min(0).max(1),
  })
  .strict();

export const modelMetaSchema = z
  .object({
    description: z.string().optional(),
    format: z.literal('declic-barrier-lr-1'),
    bits: z.number().int().min(10).max(22),
    /** `concepts`: the concept families the rules found are features too (extractFeatures' `concepts`). */
    features: z.object({ concepts: z.boolean() }).strict().optional(),
    heads: z.array(headSchema).min(1),
    /** How the model's scores combine with the rules (see BarrierDetector.detect). */
    combination: z
      .object({
        /** A label no rule found is added only at or above this probability (and its head's threshold). */
        aloneThreshold: z.number().min(0).max(1),
        /** Per-label exceptions to aloneThreshold (e.g. suicidal lower: missing danger to life is the worst failure). */
        aloneThresholdByLabel: z.record(z.enum(BARRIER_LABELS), z.number().min(0).max(1)).optional(),
        /**
         * A label only the model sees needs one of these concepts in the message (concepts.json), unless its
         * probability reaches `unlessAbove`: short neutral messages ("see you", "ok") must never get crisis numbers.
         */
        corroboration: z.record(z.enum(BARRIER_LABELS), z.object({ concepts: z.array(z.string()).min(1), unlessAbove: z.number().min(0).max(1) }).strict()).optional(),
        /** The urgent head raises the severity only when one of these labels is detected. */
        urgentLabels: z.array(z.enum(BARRIER_LABELS)).min(1),
        /**
         * At or above this urgent probability, a message with no urgent-capable label still gets one (the urgent label
         * head that scores highest) and is urgent: danger to life said in words no rule and no label head knows well
         * ("climbed over the railing"). Idioms still veto it.
         */
        urgentAlone: z.number().min(0).max(1).optional(),
        /** The urgent head alone is believed without a corroborating concept above this (default: the lead label's unlessAbove). */
        urgentUnlessAbove: z.number().min(0).max(1).optional(),
      })
      .strict(),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ModelMeta = z.infer<typeof modelMetaSchema>;

export interface HeadScore {
  head: ModelHead;
  probability: number;
  fired: boolean;
  /** Index of the word that contributed most to this head (for evidence). */
  peakWord: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export class BarrierModel {
  private readonly weights: Int8Array;
  private readonly size: number;

  get combination(): ModelMeta['combination'] {
    return this.meta.combination;
  }

  constructor(readonly meta: ModelMeta, weights: Int8Array) {
    this.size = 1 << meta.bits;
    if (weights.length !== meta.heads.length * this.size) {
      throw new Error(`barrier model: weights.bin has ${weights.length} bytes, expected ${meta.heads.length * this.size}`);
    }
    this.weights = weights;
  }

  static loadFromDir(dir: string): BarrierModel {
    const metaFile = path.join(dir, 'model.json');
    const meta = modelMetaSchema.safeParse(JSON.parse(fs.readFileSync(metaFile, 'utf8')));
    if (!meta.success) throw new Error(`barrier model ${metaFile}: ${meta.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const buf = fs.readFileSync(path.join(dir, 'weights.bin'));
    return new BarrierModel(meta.data, new Int8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }

  /** Scores normalised words (see features.ts). */
  /** `concepts` are used only by a model trained with them (meta.features.concepts). */
  score(words: readonly string[], concepts: readonly ConceptFeature[] = []): HeadScore[] {
    return this.scoreFeatures(extractFeatures(words, this.meta.bits, this.meta.features?.concepts ? concepts : []));
  }

  scoreFeatures(f: FeatureVector): HeadScore[] {
    const out: HeadScore[] = [];
    for (let h = 0; h < this.meta.heads.length; h++) {
      const head = this.meta.heads[h];
      const base = h * this.size;
      let z = 0;
      for (let k = 0; k < f.index.length; k++) z += this.weights[base + f.index[k]];
      const probability = sigmoid(head.bias + z * head.scale * f.value);
      const fired = probability >= head.threshold;
      out.push({ head: head.name, probability, fired, peakWord: fired ? this.peakWord(base, f) : 0 });
    }
    return out;
  }

  /** The word whose features weigh most for a head (evidence points at it); only computed for heads that fire. */
  private peakWord(base: number, f: FeatureVector): number {
    const perWord = new Map<number, number>();
    let peak = -Infinity;
    let at = 0;
    for (let k = 0; k < f.index.length; k++) {
      const p = f.position[k];
      const acc = (perWord.get(p) ?? 0) + this.weights[base + f.index[k]];
      perWord.set(p, acc);
      if (acc > peak) {
        peak = acc;
        at = p;
      }
    }
    return at;
  }
}

export function isLabelHead(h: ModelHead): h is BarrierLabel {
  return h !== 'urgent';
}

/** Default model directory of this repository. */
export const DEFAULT_MODEL_DIR = path.resolve(__dirname, '..', '..', '..', 'dialogs', 'barriers', 'model');
