import { freeSlots, parisTime, weekOf } from '../../src/mentoring/availability';

const base = { weekly: [], dates: [], slotMinutes: 45, weeklyCap: 5 };
const iso = (d: Date[]) => d.map((x) => x.toISOString());

describe("a mentor's free slots (Paris time)", () => {
  test.each([
    ['Saturday 10:00, winter', 2026, 12, 5, 10, 0, '2026-12-05T09:00:00.000Z'],
    ['Saturday 10:00, summer', 2026, 7, 4, 10, 0, '2026-07-04T08:00:00.000Z'],
    ['the hour skipped in March becomes the next', 2027, 3, 28, 2, 30, '2027-03-28T01:30:00.000Z'],
  ])('%s', (_n, y, m, d, h, min, expected) => expect(parisTime(y, m, d, h, min).toISOString()).toBe(expected));

  test('weekly slots over three weeks, soonest first, at least 12 hours ahead', () => {
    const from = new Date('2026-12-04T23:00:00Z'); // Saturday 00:00 Paris
    const slots = freeSlots({ ...base, weekly: [{ day: 6, time: '10:00' }, { day: 3, time: '18:30' }] }, { from, days: 21, taken: [] });
    expect(iso(slots)).toEqual([
      // Saturday 5th at 10:00 is only 10 hours ahead: not offered.
      '2026-12-09T17:30:00.000Z',
      '2026-12-12T09:00:00.000Z',
      '2026-12-16T17:30:00.000Z',
      '2026-12-19T09:00:00.000Z',
      '2026-12-23T17:30:00.000Z',
    ]);
  });

  test('taken slots are not offered, and the weekly cap counts them', () => {
    const from = new Date('2026-12-01T08:00:00Z');
    const a = { ...base, weeklyCap: 1, weekly: [{ day: 3, time: '18:00' }, { day: 6, time: '10:00' }] };
    const taken = [new Date('2026-12-02T17:00:00Z')]; // Wednesday 2nd 18:00
    expect(iso(freeSlots(a, { from, days: 13, taken }))).toEqual(['2026-12-09T17:00:00.000Z']);
  });

  test('one-off dates (Paris wall clock) join the weekly ones; invalid ones are ignored', () => {
    const from = new Date('2026-12-01T08:00:00Z');
    const slots = freeSlots({ ...base, dates: ['2026-12-03T12:15', '2026-13-40T25:00'] }, { from, days: 7, taken: [] });
    expect(iso(slots)).toEqual(['2026-12-03T11:15:00.000Z']);
  });

  test('weeks start on Monday, Paris time', () => {
    expect(weekOf(new Date('2026-12-06T22:59:00Z'))).toBe('2026-11-30');
    expect(weekOf(new Date('2026-12-06T23:00:00Z'))).toBe('2026-12-07');
  });
});
