/**
 * Mediators' opening hours, e.g. "mon-fri 09:00-18:00" or
 * "mon-thu 09:00-18:00; fri 09:00-17:00", in a given IANA time zone.
 */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Slot {
  day: number;
  from: number; // minutes since midnight, local time
  to: number;
}

export class OpeningHoursError extends Error {}

function minutes(hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new OpeningHoursError(`bad time "${hhmm}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function parseOpeningHours(spec: string): Slot[] {
  const slots: Slot[] = [];
  for (const part of spec.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/i.exec(part);
    if (!m) throw new OpeningHoursError(`cannot read "${part}" (expected like "mon-fri 09:00-18:00")`);
    const first = DAYS.indexOf(m[1].toLowerCase());
    const last = DAYS.indexOf((m[2] ?? m[1]).toLowerCase());
    if (first < 0 || last < 0) throw new OpeningHoursError(`unknown day in "${part}"`);
    const from = minutes(m[3]);
    const to = minutes(m[4]);
    if (to <= from) throw new OpeningHoursError(`closing time before opening time in "${part}"`);
    for (let d = first; ; d = (d + 1) % 7) {
      slots.push({ day: d, from, to });
      if (d === last) break;
    }
  }
  if (!slots.length) throw new OpeningHoursError('no opening hours given');
  return slots;
}

export class OpeningHours {
  private readonly slots: Slot[];
  private readonly fmt: Intl.DateTimeFormat;

  constructor(spec: string, readonly timeZone = 'Europe/Paris') {
    this.slots = parseOpeningHours(spec);
    this.fmt = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }

  /** Day of week and minutes since midnight in the configured time zone. */
  private local(date: Date): { day: number; min: number } {
    const parts = Object.fromEntries(this.fmt.formatToParts(date).map((p) => [p.type, p.value]));
    return { day: DAYS.indexOf(String(parts.weekday).toLowerCase().slice(0, 3)), min: Number(parts.hour) * 60 + Number(parts.minute) };
  }

  isOpen(date = new Date()): boolean {
    const { day, min } = this.local(date);
    return this.slots.some((s) => s.day === day && min >= s.from && min < s.to);
  }

  /** The next time the team is open (minute precision), or `date` itself when open now. */
  nextOpening(date = new Date()): Date {
    if (this.isOpen(date)) return date;
    const start = new Date(Math.ceil(date.getTime() / 60000) * 60000);
    for (let step = 0; step < 8 * 24 * 4; step++) {
      const t = new Date(start.getTime() + step * 15 * 60000);
      if (this.isOpen(t)) {
        // Walk back minute by minute to the exact opening.
        let exact = t;
        for (let back = 1; back <= 15; back++) {
          const prev = new Date(t.getTime() - back * 60000);
          if (prev < date || !this.isOpen(prev)) break;
          exact = prev;
        }
        return exact;
      }
    }
    return date;
  }

  /** "lundi à 09:00" / "Monday at 09:00", in the configured time zone. */
  describe(date: Date, locale: 'fr' | 'en'): string {
    const day = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: this.timeZone, weekday: 'long' }).format(date);
    const time = new Intl.DateTimeFormat('fr-FR', { timeZone: this.timeZone, hour: '2-digit', minute: '2-digit' }).format(date);
    return locale === 'fr' ? `${day} à ${time.replace(':', 'h')}` : `${day} at ${time}`;
  }
}
