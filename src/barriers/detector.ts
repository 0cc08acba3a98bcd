/**
 * BarrierDetector: finds "barriers" (housing, money, suicidal thoughts, ...) in
 * one message written by a young person, in French or English.
 *
 * Pipeline (everything is compiled once in the constructor):
 *  1. tokenise with offsets, fold case/accents, expand SMS spelling;
 *  2. fuzzy-correct longer unknown words towards lexicon words;
 *  3. at every word start, try the label's patterns that can start with that
 *     word (see dispatch.ts); the most severe matching entry wins;
 *  4. drop matches overlapping an exclusion (idiom, job sector, someone else's
 *     problem), matches right after a negation cue ("pas de souci de ..."),
 *     entries whose "requires" context is missing, and labels whose problem is
 *     said to be over ("maintenant j'ai un studio");
 *  5. severity = max of the evidence severities, raised by severity rules.
 * Every kept match is returned as evidence pointing into the original text.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BARRIER_LABELS, BarrierLabel, Detection, Evidence, Severity, SEVERITY_RANK, maxSeverity } from './types';
import { ConceptRule, Lexicon, validateLexicon } from './lexicon';
import { Normaliser, Token } from './normalise';
import { compilePattern, CompiledPattern } from './pattern';
import { FuzzyCorrector } from './fuzzy';
import { Dispatcher, DispatchMatch } from './dispatch';
import { BarrierModel, isLabelHead } from './model/classifier';
import type { ConceptFeature } from './model/features';

export { validateLexicon } from './lexicon';
export type { Lexicon } from './lexicon';

type ActiveSeverity = Exclude<Severity, 'none'>;

interface CompiledEntry {
  rule: string;
  label: BarrierLabel;
  severity: ActiveSeverity;
  negatable: boolean;
  requires: RegExp | null;
}

interface LabelMatcher {
  label: BarrierLabel;
  matcher: Dispatcher;
  /** entries[i] belongs to pattern i of the matcher. */
  entries: CompiledEntry[];
  resolution: RegExp | null;
}

interface ExclusionInfo {
  id: string;
  labels: Set<BarrierLabel> | null;
}

interface CompiledRule {
  labels: BarrierLabel[];
  context: RegExp;
  severity: ActiveSeverity;
}

/** What a conversation remembers of one earlier message for conversation-scope rules. */
export interface ConceptMemory {
  /** When the message was written (epoch ms). */
  at: number;
  concepts: string[];
  /** The message's urgent probability and lead label (Detection.risk). */
  risk?: { p: number; lead: BarrierLabel };
}

/** Below this, a message's urgent probability is not remembered. */
const RISK_MEMORY_MIN = 0.05;

interface CompiledConcept {
  id: string;
  matcher: Dispatcher;
  negatable: boolean;
}

interface Span {
  start: number; // token index, inclusive
  end: number; // token index, exclusive
  labels: Set<BarrierLabel> | null;
}

/** Messages longer than this are only analysed on their first MAX_CHARS characters. */
const MAX_CHARS = 20000;
/** Upper bound on the evidence returned per label (long messages may repeat a phrase). */
const MAX_EVIDENCE_PER_LABEL = 10;
/** A label only the learned model sees needs a message of at least this many words ("see you", "ok" never). */
const MODEL_ALONE_MIN_WORDS = 3;
/** How much normalised text before a match is searched for a negation cue. */
const NEGATION_LOOKBACK = 80;

function anyRegex(patterns: CompiledPattern[]): RegExp | null {
  return patterns.length ? new RegExp(patterns.map((p) => `(?:${p.source})`).join('|')) : null;
}

export class BarrierDetector {
  private readonly normaliser: Normaliser;
  private readonly fuzzy: FuzzyCorrector;
  private readonly labels: LabelMatcher[] = [];
  private readonly exclusionMatcher: Dispatcher | null;
  private readonly exclusions: ExclusionInfo[] = [];
  private readonly negation: RegExp;
  private readonly rules: CompiledRule[] = [];
  private readonly subsumptions: { label: BarrierLabel; drops: BarrierLabel[] }[];
  private readonly concepts: CompiledConcept[] = [];
  private readonly conceptRules: ConceptRule[] = [];
  /** Rules combining concepts over a conversation's recent messages, and for how long. */
  readonly conversationRules: ConceptRule[] = [];
  readonly conversationHours: number;
  private readonly memoryIgnores: Set<string>;
  private readonly conversationRisk?: { messageMin: number; threshold: number };

  /** The learned layer (model/classifier.ts); null = rules only. */
  readonly model: BarrierModel | null;
  private readonly labelSeverity = new Map<BarrierLabel, ActiveSeverity>();

  constructor(lexicon: Lexicon, options: { model?: BarrierModel | null } = {}) {
    this.model = options.model ?? null;
    for (const lab of lexicon.labels) this.labelSeverity.set(lab.label, lab.defaultSeverity);
    this.normaliser = new Normaliser(lexicon.normalisation);
    const compile = (p: string): CompiledPattern => compilePattern(p, this.normaliser);
    const fuzzyWords: string[] = [];
    const fuzzyStems: string[] = [];
    const known = new Set<string>();
    const remember = (c: CompiledPattern, asTarget: boolean): CompiledPattern => {
      for (const w of c.words) known.add(w);
      if (asTarget) {
        fuzzyWords.push(...c.words);
        fuzzyStems.push(...c.stems);
      }
      return c;
    };

    for (const lab of lexicon.labels) {
      const items: { compiled: CompiledPattern; entry: CompiledEntry }[] = [];
      for (const e of lab.entries) {
        const entry: CompiledEntry = {
          rule: `${lab.label}/${e.id}`,
          label: lab.label,
          severity: e.severity ?? lab.defaultSeverity,
          negatable: e.negatable ?? true,
          requires: e.requires ? anyRegex(e.requires.map((p) => remember(compile(p), false))) : null,
        };
        for (const p of e.patterns) items.push({ compiled: remember(compile(p), true), entry });
      }
      // At one position the first alternative wins: put the most severe first.
      items.sort((a, b) => SEVERITY_RANK[b.entry.severity] - SEVERITY_RANK[a.entry.severity]);
      if (this.labels.some((l) => l.label === lab.label)) throw new Error(`duplicate lexicon for label ${lab.label}`);
      const resolutions = (lab.resolutions ?? []).map((p) => remember(compile(p), false));
      this.labels.push({
        label: lab.label,
        matcher: new Dispatcher(items.map((i) => i.compiled)),
        entries: items.map((i) => i.entry),
        resolution: anyRegex(resolutions),
      });
    }
    this.labels.sort((a, b) => BARRIER_LABELS.indexOf(a.label) - BARRIER_LABELS.indexOf(b.label));

    // Only one exclusion is kept per position: try the longest (most specific) patterns first.
    const exclusionItems: { compiled: CompiledPattern; info: ExclusionInfo }[] = [];
    for (const ex of lexicon.exclusions.entries) {
      for (const p of ex.patterns) {
        exclusionItems.push({ compiled: remember(compile(p), false), info: { id: ex.id, labels: ex.labels ? new Set(ex.labels) : null } });
      }
    }
    exclusionItems.sort((a, b) => b.compiled.body.length - a.compiled.body.length);
    const exclusionPatterns = exclusionItems.map((x) => x.compiled);
    this.exclusions.push(...exclusionItems.map((x) => x.info));
    this.exclusionMatcher = exclusionPatterns.length ? new Dispatcher(exclusionPatterns) : null;

    const cues = lexicon.negation.cues.map((p) => remember(compile(p), false).source);
    const fillers = lexicon.negation.fillers.flatMap((f) => this.normaliser.normaliseLexiconWord(f));
    for (const f of fillers) known.add(f);
    const fillerRe = fillers.length ? `(?:(?:${fillers.join('|')}) ){0,${lexicon.negation.maxFillers}}` : '';
    this.negation = new RegExp(`(?:${cues.join('|')})${fillerRe}$`);

    for (const r of lexicon.severity.rules) {
      const context = anyRegex(r.context.map((p) => remember(compile(p), false)));
      if (context) this.rules.push({ labels: r.labels, context, severity: r.severity });
    }

    this.subsumptions = (lexicon.severity.subsumptions ?? []).map((s) => ({ label: s.label, drops: s.drops }));
    for (const c of lexicon.concepts?.concepts ?? []) {
      this.concepts.push({ id: c.id, negatable: c.negatable ?? true, matcher: new Dispatcher(c.patterns.map((p) => remember(compile(p), true))) });
    }
    for (const r of lexicon.concepts?.rules ?? []) (r.scope === 'conversation' ? this.conversationRules : this.conceptRules).push(r);
    this.conversationHours = lexicon.concepts?.conversationHours ?? 0;
    this.memoryIgnores = new Set(lexicon.concepts?.memoryIgnores ?? []);
    this.conversationRisk = lexicon.concepts?.conversationRisk;
    this.fuzzy = new FuzzyCorrector(fuzzyWords, fuzzyStems, known, lexicon.normalisation.fuzzy);
  }

  /** The concept families found in a text, with the token each starts at: the model's concept features (training). */
  conceptsOf(text: string): ConceptFeature[] {
    return this.analyse(text, true).concepts;
  }

  /** Loads and validates every JSON file of a lexicon directory (see dialogs/barriers/README.md). */
  static loadFromDir(dir: string): BarrierDetector {
    const result = validateLexicon(loadLexiconData(dir));
    if (!result.ok) throw new Error(`Invalid barrier lexicon in ${dir}:\n  ${result.errors.join('\n  ')}`);
    return new BarrierDetector(result.lexicon, { model: loadModelFromLexiconDir(dir) });
  }

  detect(text: string): Detection {
    return this.analyse(text, false).detection;
  }

  /** The detection, and the concept families found (with `conceptsOnly`, only those: no labels, no model). */
  private analyse(text: string, conceptsOnly: boolean): { detection: Detection; concepts: ConceptFeature[] } {
    const input = typeof text === 'string' ? (text.length > MAX_CHARS ? text.slice(0, MAX_CHARS) : text) : '';
    const tokens = this.normaliser.tokenize(input);
    if (!tokens.length) return { detection: { labels: [], severity: 'none', evidence: [] }, concepts: [] };

    // Normalised string: every token followed by one space; offsets[i] = start of token i.
    const offsets: number[] = new Array<number>(tokens.length);
    let norm = '';
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      const form = t.norm.length > 1 ? this.fuzzy.correct(t.norm) : t.norm;
      offsets[i] = norm.length;
      norm += form + ' ';
    }
    const tokenAt = (charOffset: number): number => {
      let lo = 0;
      let hi = offsets.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (offsets[mid] <= charOffset) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    // Every word start (a corrected token may hold two words: "d angoisse").
    const starts: number[] = [];
    const words: string[] = [];
    const startToken: number[] = [];
    for (let p = 0, t = 0; p < norm.length; ) {
      const sp = norm.indexOf(' ', p);
      while (t + 1 < offsets.length && offsets[t + 1] <= p) t++;
      starts.push(p);
      words.push(norm.slice(p, sp));
      startToken.push(t);
      p = sp + 1;
    }
    const spanOf = (pos: number, m: DispatchMatch): { start: number; end: number } => ({
      start: tokenAt(pos),
      end: tokenAt(pos + Math.max(m.length - 2, 0)) + 1,
    });

    const excluded: Span[] = [];
    if (this.exclusionMatcher) {
      for (let i = 0; i < starts.length; i++) {
        const m = this.exclusionMatcher.matchAt(norm, starts[i], words[i]);
        if (m) excluded.push({ ...spanOf(starts[i], m), labels: this.exclusions[m.id].labels });
      }
    }

    const evidence: Evidence[] = [];
    const found = new Map<BarrierLabel, ActiveSeverity>();
    for (const lab of this.labels) {
      const kept: { entry: CompiledEntry; start: number; end: number }[] = [];
      // A match decides for its whole span: shorter matches inside it (e.g. "suicide"
      // inside a negated "pensé au suicide") are not considered again.
      let coveredUntil = 0;
      for (let i = 0; i < starts.length; i++) {
        const pos = starts[i];
        if (startToken[i] < coveredUntil) continue;
        const m = lab.matcher.matchAt(norm, pos, words[i]);
        if (!m) continue;
        const entry = lab.entries[m.id];
        const span = spanOf(pos, m);
        coveredUntil = span.end;
        if (excluded.some((x) => x.start < span.end && span.start < x.end && (!x.labels || x.labels.has(lab.label)))) continue;
        if (entry.negatable && this.isNegated(norm, pos)) continue;
        if (entry.requires && !entry.requires.test(norm)) continue;
        kept.push({ entry, ...span });
      }
      if (!kept.length) continue;
      if (lab.resolution && lab.resolution.test(norm)) continue;
      let severity: ActiveSeverity = 'normal';
      for (const k of kept) severity = maxSeverity(severity, k.entry.severity) as ActiveSeverity;
      // Evidence is for humans: keep the most severe pieces, at most MAX_EVIDENCE_PER_LABEL.
      const shown = kept.length > MAX_EVIDENCE_PER_LABEL
        ? [...kept].sort((a, b) => SEVERITY_RANK[b.entry.severity] - SEVERITY_RANK[a.entry.severity] || a.start - b.start).slice(0, MAX_EVIDENCE_PER_LABEL)
        : kept;
      for (const k of shown) evidence.push(toEvidence(input, tokens, lab.label, k.entry.rule, k.start, k.end));
      found.set(lab.label, severity);
    }

    // Concept families, and the rules that combine them within a message.
    const conceptHits = new Map<string, { start: number; end: number }[]>();
    for (const c of this.concepts) {
      const hits: { start: number; end: number }[] = [];
      for (let i = 0; i < starts.length && hits.length < MAX_EVIDENCE_PER_LABEL; i++) {
        const m = c.matcher.matchAt(norm, starts[i], words[i]);
        if (!m) continue;
        const span = spanOf(starts[i], m);
        if (excluded.some((x) => x.start < span.end && span.start < x.end)) continue;
        if (c.negatable && this.isNegated(norm, starts[i])) continue;
        hits.push(span);
      }
      if (hits.length) conceptHits.set(c.id, hits);
    }
    const conceptFeatures: ConceptFeature[] = [...conceptHits].map(([id, spans]) => ({ id, word: tokenAt(spans[0].start) }));
    if (conceptsOnly) return { detection: { labels: [], severity: 'none', evidence: [] }, concepts: conceptFeatures };
    const conceptSeverity = new Map<BarrierLabel, ActiveSeverity>();
    for (const rule of this.conceptRules) {
      const spans = matchConceptRule(rule, conceptHits);
      if (!spans) continue;
      const current = found.get(rule.label);
      if (!current || SEVERITY_RANK[rule.severity] > SEVERITY_RANK[current]) {
        found.set(rule.label, rule.severity);
        conceptSeverity.set(rule.label, rule.severity);
        const start = Math.min(...spans.map((x) => x.start));
        const end = Math.max(...spans.map((x) => x.end));
        evidence.push(toEvidence(input, tokens, rule.label, `concept/${rule.id}`, start, end));
      }
    }

    // The learned layer: a label the rules did not find needs the model's
    // "alone" confidence; the urgent head raises the severity of a message
    // whose labels can be urgent (danger to life), never of any barrier.
    let modelUrgent = false;
    let risk: Detection['risk'];
    /** The label the urgent head alone added (it raises the severity; it does not hide what the rules found). */
    let urgentAloneLabel: BarrierLabel | undefined;
    if (this.model) {
      const words = tokens.map((t) => t.norm);
      const { aloneThreshold, aloneThresholdByLabel, corroboration, urgentLabels } = this.model.combination;
      let wordCount = 0;
      for (const t of tokens) if (t.norm !== '.' && t.norm !== ',') wordCount++;
      const scores = this.model.score(words, conceptFeatures);
      const urgentScore = scores.find((sc) => !isLabelHead(sc.head));
      if (urgentScore && urgentScore.probability >= RISK_MEMORY_MIN) {
        let lead: BarrierLabel = 'suicidal';
        let best = -1;
        for (const sc of scores) {
          if (isLabelHead(sc.head) && urgentLabels.includes(sc.head) && sc.probability > best) {
            best = sc.probability;
            lead = sc.head;
          }
        }
        risk = { p: Math.round(urgentScore.probability * 100) / 100, lead };
      }
      for (const score of scores) {
        if (!isLabelHead(score.head)) {
          modelUrgent = score.fired;
          continue;
        }
        const label = score.head;
        if (found.has(label) || !score.fired || score.probability < (aloneThresholdByLabel?.[label] ?? aloneThreshold)) continue;
        if (wordCount < MODEL_ALONE_MIN_WORDS) continue;
        const needs = corroboration?.[label];
        if (needs && score.probability < needs.unlessAbove && !needs.concepts.some((c) => conceptHits.has(c))) continue;
        // Idioms and other exclusions decide for both layers: "dying to tell you" is not a death wish.
        const [from, to] = clauseAround(tokens, score.peakWord);
        if (excluded.some((x) => x.start < to && from < x.end && (!x.labels || x.labels.has(label)))) continue;
        found.set(label, this.labelSeverity.get(label) ?? 'normal');
        evidence.push(toEvidence(input, tokens, label, `model/${label}`, from, to));
      }
      const { urgentAlone } = this.model.combination;
      if (modelUrgent && risk && urgentAlone !== undefined && urgentScore && urgentScore.probability >= urgentAlone && wordCount >= MODEL_ALONE_MIN_WORDS && !urgentLabels.some((l) => found.has(l))) {
        const [from, to] = clauseAround(tokens, urgentScore.peakWord);
        const lead = risk.lead;
        // The same corroboration as the lead label alone: danger to life read by the model in a message where no
        // concept of it appears ("c'est toujours à 14 h ?") is not believed unless the model is very sure.
        const needs = corroboration?.[lead];
        const unlessAbove = this.model.combination.urgentUnlessAbove ?? needs?.unlessAbove ?? 1;
        const corroborated = !needs || urgentScore.probability >= unlessAbove || needs.concepts.some((c) => conceptHits.has(c));
        if (corroborated && !excluded.some((x) => x.start < to && from < x.end && (!x.labels || x.labels.has(lead)))) {
          found.set(lead, this.labelSeverity.get(lead) ?? 'normal');
          urgentAloneLabel = lead;
          evidence.push(toEvidence(input, tokens, lead, 'model/urgent', from, to));
        }
      }
      if (modelUrgent && !urgentLabels.some((l) => found.has(l))) modelUrgent = false;
    }

    const dropped = new Set<BarrierLabel>();
    for (const sub of this.subsumptions) if (found.has(sub.label) && sub.label !== urgentAloneLabel) for (const l of sub.drops) if (l !== sub.label) dropped.add(l);
    for (const l of dropped) found.delete(l);
    const kept = dropped.size ? evidence.filter((e) => !dropped.has(e.label)) : evidence;

    let severity: Severity = 'none';
    for (const s of found.values()) severity = maxSeverity(severity, s);
    // The urgent head raises a detected barrier to urgent (danger to life said in words no rule knows).
    if (modelUrgent) severity = 'urgent';
    for (const rule of this.rules) {
      if (SEVERITY_RANK[rule.severity] <= SEVERITY_RANK[severity]) continue;
      if (rule.labels.some((l) => found.has(l)) && rule.context.test(norm)) severity = rule.severity;
    }
    const labels = BARRIER_LABELS.filter((l) => found.has(l));
    kept.sort((a, b) => a.start - b.start || BARRIER_LABELS.indexOf(a.label) - BARRIER_LABELS.indexOf(b.label));
    const result: Detection = { labels, severity, evidence: kept };
    // Concepts travel with the detection (and are remembered by the conversation) only when one of them is a
    // signal: not for messages with only concepts that are no signal alone (concepts.json `memoryIgnores`).
    if ([...conceptHits.keys()].some((c) => !this.memoryIgnores.has(c))) result.concepts = [...conceptHits.keys()];
    if (risk) result.risk = risk;
    return { detection: result, concepts: conceptFeatures };
  }

  /**
   * Risk over the conversation: the concepts of the conversation's recent
   * messages (within `conversationHours`) and of this one add up, so that a
   * hopeless message followed by a means or a time frame is urgent even if
   * neither is alone. A rule only fires when this message brings one of its
   * concepts (the conversation is not re-alerted by old messages alone) and
   * needs at least one of them from an earlier message.
   * Returns the detection raised by the first rule that holds, or the
   * detection unchanged.
   */
  assessConversation(current: Detection, recent: readonly ConceptMemory[], now: number): Detection {
    const byRules = this.conversationByRules(current, recent, now);
    return byRules === current ? this.conversationByRisk(current, recent, now) : byRules;
  }

  /**
   * Danger said a little in each message: this message's urgent probability and those of recent messages add up
   * (noisy-OR, concepts.json `conversationRisk`). Only when this message brings some (no re-alert from old ones) and an
   * earlier one does too. The label raised is the lead label of the riskiest message.
   */
  private conversationByRisk(current: Detection, recent: readonly ConceptMemory[], now: number): Detection {
    const cfg = this.conversationRisk;
    if (!cfg || current.severity === 'urgent' || !current.risk || current.risk.p < cfg.messageMin) return current;
    // A message with no label and no concept says nothing the model could ground its probability in ("ok see you
    // then" scores near the prior): it does not add to the conversation's risk.
    if (!current.labels.length && !current.concepts?.length) return current;
    const since = now - this.conversationHours * 3600_000;
    const earlier = recent.filter((m) => m.at >= since && m.at <= now && m.risk && m.risk.p >= cfg.messageMin);
    if (!earlier.length) return current;
    let calm = 1 - current.risk.p;
    let top = current.risk;
    for (const m of earlier) {
      calm *= 1 - m.risk!.p;
      if (m.risk!.p > top.p) top = m.risk!;
    }
    if (1 - calm < cfg.threshold) return current;
    const labels = BARRIER_LABELS.filter((l) => l === top.lead || current.labels.includes(l));
    const evidence: Evidence[] = [...current.evidence, { label: top.lead, text: '', start: 0, end: 0, rule: 'conversation/accumulated-risk' }];
    return { ...current, labels, severity: 'urgent', evidence };
  }

  private conversationByRules(current: Detection, recent: readonly ConceptMemory[], now: number): Detection {
    const mine = new Set(current.concepts ?? []);
    if (!mine.size || !this.conversationRules.length) return current;
    const since = now - this.conversationHours * 3600_000;
    const seen = new Set(mine);
    for (const m of recent) if (m.at >= since && m.at <= now) for (const c of m.concepts) seen.add(c);
    for (const rule of this.conversationRules) {
      const involved = [...rule.all, ...(rule.any ?? [])];
      if (!rule.all.every((c) => seen.has(c))) continue;
      if (rule.any && !rule.any.some((c) => seen.has(c))) continue;
      if (!involved.some((c) => mine.has(c))) continue;
      // A conversation rule is about signals spread over messages: it does not fire on this message alone.
      if (rule.all.every((c) => mine.has(c)) && (!rule.any || rule.any.some((c) => mine.has(c)))) continue;
      if (SEVERITY_RANK[rule.severity] <= SEVERITY_RANK[current.severity] && current.labels.includes(rule.label)) return current;
      const labels = BARRIER_LABELS.filter((l) => l === rule.label || current.labels.includes(l));
      const severity = maxSeverity(current.severity, rule.severity);
      const evidence: Evidence[] = [...current.evidence, { label: rule.label, text: '', start: 0, end: 0, rule: `conversation/${rule.id}` }];
      return { ...current, labels, severity, evidence };
    }
    return current;
  }

  private isNegated(norm: string, matchIndex: number): boolean {
    const from = Math.max(0, matchIndex - NEGATION_LOOKBACK);
    let before = norm.slice(from, matchIndex);
    if (from > 0) before = before.slice(before.indexOf(' ') + 1); // drop a partial token
    return this.negation.test(before);
  }
}

/**
 * Whether a concept rule holds: every `all` concept and one `any` concept,
 * all within `window` words of the first `all` concept's hit. Returns the spans used.
 */
function matchConceptRule(rule: ConceptRule, hits: Map<string, { start: number; end: number }[]>): { start: number; end: number }[] | null {
  if (!rule.all.every((c) => hits.has(c))) return null;
  if (rule.any && !rule.any.some((c) => hits.has(c))) return null;
  const window = rule.window ?? 20;
  for (const anchor of hits.get(rule.all[0])!) {
    const near = (c: string): { start: number; end: number } | undefined =>
      hits.get(c)!.find((h) => Math.abs(h.start - anchor.start) <= window || Math.abs(h.end - anchor.end) <= window);
    const used = [anchor];
    let ok = true;
    for (const c of rule.all.slice(1)) {
      const h = near(c);
      if (!h) {
        ok = false;
        break;
      }
      used.push(h);
    }
    if (!ok) continue;
    if (rule.any) {
      const h = rule.any.filter((c) => hits.has(c)).map(near).find(Boolean);
      if (!h) continue;
      used.push(h);
    }
    return used;
  }
  return null;
}

/** The clause (between punctuation tokens) around a word, at most 12 words each side. */
function clauseAround(tokens: Token[], at: number): [number, number] {
  const i = Math.min(Math.max(at, 0), tokens.length - 1);
  const isPunct = (t: Token): boolean => t.norm === '.' || t.norm === ',';
  let start = i;
  while (start > 0 && i - start < 12 && !isPunct(tokens[start - 1])) start--;
  let end = i + 1;
  while (end < tokens.length && end - i < 12 && !isPunct(tokens[end])) end++;
  return [start, end];
}

function toEvidence(text: string, tokens: Token[], label: BarrierLabel, rule: string, start: number, end: number): Evidence {
  const s = tokens[start].start;
  const e = tokens[end - 1].end;
  return { label, text: text.slice(s, e), start: s, end: e, rule };
}

/**
 * Reads a lexicon directory: normalisation.json, negation.json, exclusions.json,
 * severity.json and labels/*.json. Each part gets a "source" (its file name) so
 * validation errors can name the file. Unreadable JSON is reported as an error
 * object that fails validation with the file name.
 */
export function loadLexiconData(dir: string): unknown {
  const read = (rel: string): unknown => {
    const file = path.join(dir, rel);
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      throw new Error(`${rel}: cannot read ${file}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch (e) {
      throw new Error(`${rel}: invalid JSON: ${(e as Error).message}`);
    }
    if (data && typeof data === 'object' && !Array.isArray(data)) return { ...(data as Record<string, unknown>), source: rel };
    return data;
  };
  const labelDir = path.join(dir, 'labels');
  const labelFiles = fs.existsSync(labelDir)
    ? fs.readdirSync(labelDir).filter((f) => f.endsWith('.json')).sort()
    : [];
  return {
    normalisation: read('normalisation.json'),
    negation: read('negation.json'),
    exclusions: read('exclusions.json'),
    severity: read('severity.json'),
    ...(fs.existsSync(path.join(dir, 'concepts.json')) ? { concepts: read('concepts.json') } : {}),
    labels: labelFiles.map((f) => read(`labels/${f}`)),
  };
}

/** The learned model shipped with a lexicon directory (<dir>/model), or null when there is none. */
export function loadModelFromLexiconDir(dir: string): BarrierModel | null {
  return fs.existsSync(path.join(dir, 'model', 'model.json')) ? BarrierModel.loadFromDir(path.join(dir, 'model')) : null;
}

/** Default lexicon directory of this repository. */
export const DEFAULT_LEXICON_DIR = path.resolve(__dirname, '..', '..', 'dialogs', 'barriers');
