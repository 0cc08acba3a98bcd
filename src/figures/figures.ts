import type { ConversationDoc } from '../handoff/conversationStore';
import type { EpisodeDoc } from '../handoff/episodeStore';
import { firstReplyFigures } from '../console/teamView';
import { BARRIER_LABELS } from '../barriers/types';
import type { Texts } from '../i18n';
import type { Origin } from './origin';
import { Campaign, campaignOf } from './campaignStore';
import { addMonths } from './journey';
import { AnonymousTally, JourneyEvent, monthOf, OUTCOME_CATEGORIES, OutcomeCategory, POSITIVE_OUTCOMES } from './journeyStore';

/** Cells counting fewer young people than this (but some) are hidden: nobody can be recognised in a figure. */
export const SMALL_CELL = 5;

export type Cell = { v: string | number | null; hidden?: true };
export interface Table {
  id: string;
  title: string;
  note?: string;
  columns: string[];
  rows: Cell[][];
}

export interface CohortContact {
  _id: string;
  channelId: string;
  firstSeenAt: Date;
  consent: boolean | null;
  origin?: Origin;
  profile?: Record<string, unknown>;
}

export interface FiguresInput {
  from: Date;
  to: Date;
  now: Date;
  /** Young people whose first contact is in the period. */
  cohort: CohortContact[];
  /** Their whole journey. */
  journey: JourneyEvent[];
  /** Erased young people first seen in the period (anonymous counts). */
  erased: AnonymousTally[];
  campaigns: Campaign[];
  /** The diagnostic's questions in script order (flow, step). */
  funnel: Array<{ flow: string; step: string }>;
  /** Handoffs begun in the period: finished episodes and conversations in progress. */
  episodes: EpisodeDoc[];
  active: ConversationDoc[];
  /** Detections in the period, per young person. */
  detections: Array<{ userKey: string; labels: string[]; severity: string }>;
  /** CVs, letters and mentoring sessions produced in the period (any young person). */
  produced: JourneyEvent[];
  /** Young people of the cohort a mediator answered (an accompaniment). */
  answeredByMediator: Set<string>;
  texts: Texts;
}

const count = (n: number): Cell => (n > 0 && n < SMALL_CELL ? { v: null, hidden: true } : { v: n });
const pct = (n: number, of: number): Cell => (of <= 0 ? { v: null } : (n > 0 && n < SMALL_CELL) || of < SMALL_CELL ? { v: null, hidden: true } : { v: Math.round((100 * n) / of) });
const text = (v: string): Cell => ({ v });

/** Months [from, to) as "YYYY-MM". */
export function monthsBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1)); d < to; d = addMonths(d, 1)) out.push(monthOf(d));
  return out;
}

function tally<K>(items: K[], key: (k: K) => string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** The situation of a young person k months after the first contact: their own answer to that check-in, else the latest mediator record dated by then (+ 30 days). */
export function outcomeAt(first: Date, events: JourneyEvent[], months: 3 | 6): OutcomeCategory | undefined {
  const tag = months === 3 ? '3m' : '6m';
  const limit = addMonths(first, months).getTime() + 30 * 24 * 3600 * 1000;
  const candidates = events.filter((e) => e.type === 'outcome' && e.category && (e.checkpoint === tag || (e.by === 'mediator' && new Date(e.date ?? e.at).getTime() <= limit)));
  candidates.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
  return candidates.at(-1)?.category;
}

/** Accompanied directly (CV, letter, mentoring, a mediator's answers) or referred to a structure, as the association counts. */
export function supportOf(userKey: string, events: JourneyEvent[], answered: Set<string>): 'accompanied' | 'referred' | 'none' {
  if (answered.has(userKey) || events.some((e) => e.type === 'cv' || e.type === 'letter' || e.type === 'mentoring')) return 'accompanied';
  if (events.some((e) => e.type === 'referral')) return 'referred';
  return 'none';
}

/** Every table of the dashboard (pure: the same input gives the same figures, the CSV export reads these). */
export function buildFigures(input: FiguresInput): Table[] {
  const t = (key: string, vars: Record<string, string | number> = {}) => input.texts.t('fr', `figures.dashboard.${key}`, vars);
  const byUser = new Map<string, JourneyEvent[]>();
  for (const e of input.journey) (byUser.get(e.userKey) ?? byUser.set(e.userKey, []).get(e.userKey)!).push(e);
  const eventsOf = (k: string) => byUser.get(k) ?? [];
  const consented = input.cohort.filter((c) => c.consent === true);
  const support = new Map(input.cohort.map((c) => [c._id, supportOf(c._id, eventsOf(c._id), input.answeredByMediator)]));
  const completed = (k: string) => eventsOf(k).some((e) => e.type === 'completed' && e.flow === 'diagnostic');

  const tables: Table[] = [];
  // Reach by month (erased young people as anonymous counts).
  const months = monthsBetween(input.from, input.to);
  const reachedByMonth = tally(input.cohort, (c) => monthOf(new Date(c.firstSeenAt)));
  const consentByMonth = tally(consented, (c) => monthOf(new Date(c.firstSeenAt)));
  const erasedByMonth = tally(input.erased, (e) => e.month);
  tables.push({
    id: 'reach_month',
    title: t('reach_month'),
    note: t('erased_note'),
    columns: [t('col.month'), t('col.reached'), t('col.consented'), t('col.erased')],
    rows: months.map((m) => [text(m), count((reachedByMonth.get(m) ?? 0) + (erasedByMonth.get(m) ?? 0)), count(consentByMonth.get(m) ?? 0), count(erasedByMonth.get(m) ?? 0)]),
  });
  const channels = tally(input.cohort, (c) => c.channelId);
  for (const e of input.erased) channels.set(e.channelId, (channels.get(e.channelId) ?? 0) + 1);
  tables.push({ id: 'reach_channel', title: t('reach_channel'), columns: [t('col.channel'), t('col.reached')], rows: [...channels].sort((a, b) => b[1] - a[1]).map(([ch, n]) => [text(ch), count(n)]) });

  // Campaigns: reached, diagnostic completed, accompanied, referred.
  const groups = new Map<string, { name: string; source: string; members: CohortContact[] }>();
  for (const c of input.cohort) {
    const camp = campaignOf(c.origin, input.campaigns);
    const o = c.origin ?? { source: 'direct' as const };
    const id = camp ? `c:${camp._id}` : o.code ? `code:${o.code}` : o.adId ? `ad:${o.adId}` : `src:${o.source}`;
    const name = camp ? camp.name : o.code ? t('campaign_unnamed_code', { code: o.code }) : o.adId ? t('campaign_unnamed_ad', { id: o.adId, headline: o.headline ?? '' }).trim() : t(`source.${o.source}`);
    const g = groups.get(id) ?? groups.set(id, { name, source: t(`source.${o.source}`), members: [] }).get(id)!;
    g.members.push(c);
  }
  tables.push({
    id: 'reach_campaign',
    title: t('reach_campaign'),
    columns: [t('col.campaign'), t('col.source'), t('col.reached'), t('col.diagnostic'), t('col.accompanied'), t('col.referred')],
    rows: [...groups.values()]
      .sort((a, b) => b.members.length - a.members.length)
      .map((g) => [text(g.name), text(g.source), count(g.members.length), count(g.members.filter((c) => completed(c._id)).length), count(g.members.filter((c) => support.get(c._id) === 'accompanied').length), count(g.members.filter((c) => support.get(c._id) === 'referred').length)]),
  });
  const deps = tally(consented, (c) => (typeof c.profile?.departement === 'string' ? (c.profile.departement as string) : t('unknown')));
  tables.push({ id: 'reach_departement', title: t('reach_departement'), columns: [t('col.departement'), t('col.reached')], rows: [...deps].sort((a, b) => b[1] - a[1]).map(([d, n]) => [text(d), count(n)]) });

  // Funnel of the diagnostic: how many young people (who consented) reached each question.
  const reached = tally(input.journey.filter((e) => e.type === 'step'), (e) => `${e.flow}/${e.step}`);
  const base = consented.length;
  tables.push({
    id: 'funnel',
    title: t('funnel'),
    note: t('funnel_note'),
    columns: [t('col.question'), t('col.young_people'), t('col.percent')],
    rows: [
      [text(t('consented_row')), count(base), pct(base, base)],
      ...input.funnel.map((q) => {
        const n = reached.get(`${q.flow}/${q.step}`) ?? 0;
        return [text(`${q.flow} · ${q.step}`), count(n), pct(n, base)];
      }),
      (() => {
        const n = consented.filter((c) => completed(c._id)).length;
        return [text(t('completed_row')), count(n), pct(n, base)];
      })(),
    ],
  });

  // Accompanied directly vs referred.
  const supportCounts = tally([...support.values()], (s) => s);
  const cohortSize = input.cohort.length;
  tables.push({
    id: 'support',
    title: t('support'),
    note: t('support_note'),
    columns: [t('col.support'), t('col.young_people'), t('col.percent')],
    rows: (['accompanied', 'referred', 'none'] as const).map((s) => [text(t(`support_${s}`)), count(supportCounts.get(s) ?? 0), pct(supportCounts.get(s) ?? 0, cohortSize)]),
  });

  // Documents and mentoring in the period.
  const produced = tally(input.produced, (e) => e.type);
  const withCv = new Set(input.produced.filter((e) => e.type === 'cv').map((e) => e.userKey)).size;
  tables.push({
    id: 'documents',
    title: t('documents'),
    columns: [t('col.what'), t('col.number')],
    rows: [
      [text(t('cvs')), count(produced.get('cv') ?? 0)],
      [text(t('young_with_cv')), count(withCv)],
      [text(t('letters')), count(produced.get('letter') ?? 0)],
      [text(t('mentoring')), count(produced.get('mentoring') ?? 0)],
    ],
  });

  // Barriers by label and severity (young people, their highest severity for that label in the period).
  const rank: Record<string, number> = { normal: 1, high: 2, urgent: 3 };
  const worst = new Map<string, number>();
  for (const d of input.detections) for (const l of d.labels) worst.set(`${l}|${d.userKey}`, Math.max(worst.get(`${l}|${d.userKey}`) ?? 0, rank[d.severity] ?? 0));
  tables.push({
    id: 'barriers',
    title: t('barriers'),
    columns: [t('col.barrier'), t('col.urgent'), t('col.high'), t('col.normal')],
    rows: BARRIER_LABELS.map((label) => {
      const sev = [...worst].filter(([k]) => k.startsWith(`${label}|`)).map(([, r]) => r);
      return [text(t(`labels.${label}`)), count(sev.filter((r) => r === 3).length), count(sev.filter((r) => r === 2).length), count(sev.filter((r) => r === 1).length)];
    }),
  });

  // Handoffs and time to first mediator reply.
  const reply = firstReplyFigures(input.episodes, input.active, input.now);
  const minutes = (s: number | null) => (s === null ? null : Math.round((s / 60) * 10) / 10);
  tables.push({
    id: 'handoffs',
    title: t('handoffs'),
    columns: [t('col.what'), t('col.value')],
    rows: [
      [text(t('handoffs_count')), count(input.episodes.length + input.active.length)],
      [text(t('handoffs_answered')), count(reply.replies)],
      [text(t('reply_median')), reply.replies >= SMALL_CELL ? { v: minutes(reply.medianSeconds) } : { v: null, hidden: true }],
      [text(t('reply_p90')), reply.replies >= SMALL_CELL ? { v: minutes(reply.p90Seconds) } : { v: null, hidden: true }],
      [text(t('urgent_count')), count(reply.urgent)],
      [text(t('urgent_within')), pct(reply.urgentWithin5Min, reply.urgent)],
    ],
  });

  // Referrals and their two-week check.
  const referrals = input.journey.filter((e) => e.type === 'referral');
  const checks = input.journey.filter((e) => e.type === 'referral_check');
  const answerOf = (k: string) => checks.filter((e) => e.userKey === k).sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime()).at(-1)?.answer;
  const referredUsers = [...new Set(referrals.map((e) => e.userKey))];
  tables.push({
    id: 'referrals',
    title: t('referrals'),
    columns: [t('col.what'), t('col.young_people')],
    rows: [
      [text(t('referred_by_bot')), count(new Set(referrals.filter((e) => e.by === 'bot').map((e) => e.userKey)).size)],
      [text(t('referred_by_mediator')), count(new Set(referrals.filter((e) => e.by === 'mediator').map((e) => e.userKey)).size)],
      [text(t('check_went')), count(referredUsers.filter((k) => answerOf(k) === 'went').length)],
      [text(t('check_not_yet')), count(referredUsers.filter((k) => answerOf(k) === 'not_yet').length)],
      [text(t('check_not_going')), count(referredUsers.filter((k) => answerOf(k) === 'not_going').length)],
      [text(t('check_no_answer')), count(referredUsers.filter((k) => !answerOf(k)).length)],
    ],
  });

  // Outcomes at 3 and 6 months: the young people whose 3 / 6 months have passed, or whose situation at that point is known already.
  const due = (c: CohortContact, m: 3 | 6) => addMonths(new Date(c.firstSeenAt), m).getTime() <= input.now.getTime();
  const at = (m: 3 | 6) => {
    const known = new Map(consented.map((c) => [c._id, outcomeAt(new Date(c.firstSeenAt), eventsOf(c._id), m)]));
    const group = consented.filter((c) => due(c, m) || known.get(c._id));
    const outcomes = group.map((c) => known.get(c._id));
    return { size: group.length, by: tally(outcomes, (o) => o ?? 'unknown'), positive: outcomes.filter((o) => o && POSITIVE_OUTCOMES.has(o)).length, known: outcomes.filter(Boolean).length };
  };
  const m3 = at(3);
  const m6 = at(6);
  tables.push({
    id: 'outcomes',
    title: t('outcomes'),
    note: t('outcomes_note'),
    columns: [t('col.situation'), t('col.at3'), t('col.at6')],
    rows: [
      [text(t('cohort_row')), count(m3.size), count(m6.size)],
      ...[...OUTCOME_CATEGORIES, 'unknown'].map((c) => [text(t(`outcome.${c}`)), count(m3.by.get(c) ?? 0), count(m6.by.get(c) ?? 0)]),
      [text(t('positive_row')), count(m3.positive), count(m6.positive)],
      [text(t('positive_rate')), pct(m3.positive, m3.known), pct(m6.positive, m6.known)],
    ],
  });
  return tables;
}

/** A table as CSV for a funder's report (semicolons, UTF-8 with BOM for spreadsheets; hidden cells "<5"). */
export function tableCsv(table: Table): string {
  const esc = (v: string) => (/[;"\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const cell = (c: Cell) => (c.hidden ? `<${SMALL_CELL}` : c.v === null ? '' : esc(String(c.v)));
  return `\ufeff${[table.columns.map(esc).join(';'), ...table.rows.map((r) => r.map(cell).join(';'))].join('\r\n')}\r\n`;
}
