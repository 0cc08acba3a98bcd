/**
 * A mentor's availability, in Paris time: weekly slots ("Saturdays at 10:00") and one-off dates, a slot length and a
 * weekly cap. Pure functions: the free slots a young person is offered are computed from it and the bookings taken.
 */
export const HELPS_WITH = ['cv_letter', 'interview', 'discover_job', 'alternance'] as const;
export type HelpKind = (typeof HELPS_WITH)[number];
export const SLOT_MINUTES = [30, 45, 60] as const;
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

export interface WeeklySlot {
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  day: number;
  /** "HH:MM", Paris time. */
  time: string;
}

export interface Availability {
  weekly: WeeklySlot[];
  /** One-off slots, "YYYY-MM-DDTHH:MM" Paris time. */
  dates: string[];
  slotMinutes: number;
  /** Meetings per Paris calendar week at most. */
  weeklyCap: number;
}

const PARIS = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', weekday: 'short' });
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function parisParts(at: Date): { y: number; m: number; d: number; h: number; min: number; isoDay: number } {
  const p = Object.fromEntries(PARIS.formatToParts(at).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour), min: Number(p.minute), isoDay: DAYS.indexOf(p.weekday) + 1 };
}

/** The instant of a Paris wall-clock time (the offset is +1 or +2 hours; the right one is the one that reads back). */
export function parisTime(y: number, m: number, d: number, h: number, min: number): Date {
  const wall = Date.UTC(y, m - 1, d, h, min);
  for (const offset of [1, 2]) {
    const at = new Date(wall - offset * 3600000);
    const p = parisParts(at);
    if (p.h === h && p.min === min && p.d === d) return at;
  }
  // A wall time that does not exist (the hour skipped when clocks go forward): the hour after.
  return new Date(wall - 3600000);
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;

export function parseTime(t: string): { h: number; min: number } | undefined {
  const m = TIME.exec(t);
  return m ? { h: Number(m[1]), min: Number(m[2]) } : undefined;
}

export function parseParisDateTime(s: string): Date | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const at = parisTime(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The Paris week (its Monday, YYYY-MM-DD) of an instant. */
export function weekOf(at: Date): string {
  const p = parisParts(at);
  return new Date(Date.UTC(p.y, p.m - 1, p.d - (p.isoDay - 1))).toISOString().slice(0, 10);
}

/**
 * The mentor's free slots from `from` (at least `minNoticeMs` ahead) over `days` days, soonest first: weekly slots
 * and one-off dates, without those taken, and never more in a week than the weekly cap (taken ones count).
 */
export function freeSlots(a: Availability, opts: { from: Date; days: number; taken: readonly Date[]; minNoticeMs?: number; limit?: number }): Date[] {
  const earliest = opts.from.getTime() + (opts.minNoticeMs ?? 12 * 3600000);
  const until = opts.from.getTime() + opts.days * 86400000;
  const candidates = new Map<number, Date>();
  const start = parisParts(opts.from);
  for (let i = 0; i <= opts.days; i++) {
    const day = new Date(Date.UTC(start.y, start.m - 1, start.d + i, 12));
    const isoDay = ((day.getUTCDay() + 6) % 7) + 1;
    for (const w of a.weekly) {
      const t = parseTime(w.time);
      if (w.day !== isoDay || !t) continue;
      const at = parisTime(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), t.h, t.min);
      candidates.set(at.getTime(), at);
    }
  }
  for (const s of a.dates) {
    const at = parseParisDateTime(s);
    if (at) candidates.set(at.getTime(), at);
  }
  const taken = new Set(opts.taken.map((d) => d.getTime()));
  const perWeek = new Map<string, number>();
  for (const t of opts.taken) perWeek.set(weekOf(t), (perWeek.get(weekOf(t)) ?? 0) + 1);
  const out: Date[] = [];
  for (const at of [...candidates.values()].sort((x, y) => x.getTime() - y.getTime())) {
    if (at.getTime() < earliest || at.getTime() > until || taken.has(at.getTime())) continue;
    const week = weekOf(at);
    if ((perWeek.get(week) ?? 0) >= a.weeklyCap) continue;
    // Offered slots count too: a young person is never offered more than the cap allows in that week.
    perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
    out.push(at);
    if (opts.limit && out.length >= opts.limit) break;
  }
  return out;
}
