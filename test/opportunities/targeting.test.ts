import { jobFits, misfitOf, nextDaytime, parisWeek } from '../../src/opportunities/targeting';
import type { OpportunityTarget } from '../../src/opportunities/opportunityStore';

const target = (t: Partial<OpportunityTarget> = {}): OpportunityTarget => ({ jobs: [], sectors: [], departements: [], diplomas: [], cvReady: false, needsCar: false, ...t });
const young = (profile: Record<string, unknown>, extra: { consent?: boolean | null; paused?: boolean } = {}) => ({
  contact: { _id: 'whatsapp:1', consent: extra.consent === undefined ? true : extra.consent, paused: extra.paused ?? false, profile: { offers_optin: true, ...profile } },
  hasCv: true,
});

describe('a CV target job fits the jobs an offer is for', () => {
  test.each([
    ['Vendeuse en boulangerie', ['vendeur'], true],
    ['vendeur', ['Vendeuse'], true],
    ['caissière', ['caissier', 'vendeur'], true],
    ['Équipier polyvalent', ['equipiere'], true],
    ['agent de sécurité', ['agent d’entretien'], false],
    ['aide-soignante', ['aide à domicile'], false],
    ['boulanger', ['vendeur'], false],
    ['', ['vendeur'], false],
    [undefined, ['vendeur'], false],
  ])('%p ~ %p → %p', (cv, jobs, fits) => expect(jobFits(cv, jobs as string[])).toBe(fits));
});

describe('who an offer reaches', () => {
  test.each([
    ['fits', target({ jobs: ['vendeur'], departements: ['93'] }), young({ cv_target: 'vendeuse', departement: '93' }), undefined],
    ['never asked about offers', target(), young({ offers_optin: undefined }), 'not_opted_in'],
    ['said no / "stop offres"', target(), young({ offers_optin: false }), 'not_opted_in'],
    ['no consent', target(), young({}, { consent: false }), 'no_consent'],
    ['"stop" (no proactive message at all)', target(), young({}, { paused: true }), 'paused'],
    ['another job, sector fits', target({ jobs: ['vendeur'], sectors: ['sales'] }), young({ cv_target: 'boulanger', orientation_sectors: ['sales', 'care'] }), undefined],
    ['another job, no sector', target({ jobs: ['vendeur'] }), young({ cv_target: 'boulanger' }), 'job'],
    ['another département', target({ departements: ['93', '94'] }), young({ departement: '75' }), 'departement'],
    ['too old', target({ ageMax: 25 }), young({ age: 28 }), 'age'],
    ['age unknown with a bound', target({ ageMin: 18 }), young({}), 'age'],
    ['diploma', target({ diplomas: ['bac', 'higher'] }), young({ diploma: 'cap_bep' }), 'diploma'],
    ['needs a car', target({ needsCar: true }), young({ mobility: 'transit' }), 'car'],
    ['drives', target({ needsCar: true }), young({ mobility: 'car' }), undefined],
  ])('%s', (_name, t, facts, misfit) => expect(misfitOf(t, facts as never)).toBe(misfit));

  test('CV required: only with a CV made with the bot', () => {
    expect(misfitOf(target({ cvReady: true }), { ...young({}), hasCv: false } as never)).toBe('cv');
  });
});

describe('quiet hours and weeks (Paris time)', () => {
  test.each([
    // [UTC instant, expected UTC instant]
    ['2026-12-03T10:00:00Z', '2026-12-03T10:00:00Z'], // 11:00 Paris: now
    ['2026-12-03T19:59:00Z', '2026-12-03T19:59:00Z'], // 20:59 Paris: still now
    ['2026-12-03T20:00:00Z', '2026-12-04T07:00:00Z'], // 21:00 Paris → 08:00 the next day (winter, UTC+1)
    ['2026-12-04T02:30:00Z', '2026-12-04T07:00:00Z'], // 03:30 Paris → 08:00 the same day
    ['2026-07-10T20:30:00Z', '2026-07-11T06:00:00Z'], // 22:30 Paris in summer (UTC+2) → 08:00
    ['2027-03-27T21:00:00Z', '2027-03-28T06:00:00Z'], // the night clocks go forward
    ['2026-10-24T20:00:00Z', '2026-10-25T07:00:00Z'], // the night clocks go back
  ])('%s → %s', (at, expected) => expect(nextDaytime(new Date(at)).toISOString()).toBe(new Date(expected).toISOString()));

  test.each([
    ['2026-12-03T10:00:00Z', '2026-11-30'], // Thursday
    ['2026-12-06T23:30:00Z', '2026-12-07'], // Sunday 23:30 UTC is Monday 00:30 Paris: the new week
    ['2026-12-06T21:00:00Z', '2026-11-30'], // Sunday 22:00 Paris
  ])('week of %s starts on %s', (at, monday) => expect(parisWeek(new Date(at))).toBe(monday));
});
