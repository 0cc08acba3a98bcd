/**
 * Issue 15 end to end over /api/messages with expectReplies (the real service, the real database engine): answers
 * given ahead confirmed in one line instead of asked, "retour" / "je me suis trompée", a low-confidence answer
 * confirmed, a skip on a required question, commands in any wording and in every state (bot, waiting for a mediator,
 * with a mediator, who sees them in the transcript), the menu resuming the CV where it was.
 */
import type { RunningService } from '../../src/index';
import { BotClient, ReplyActivity } from '../support/botClient';
import { FakeConnector } from '../support/fakeConnector';
import { startService } from '../support/env';
import { ConsoleClient, conv } from '../console/helpers';
import fr from '../../locales/fr.json';

jest.setTimeout(180000);

const PASSWORD = 'correct horse battery staple 42';
const text = (replies: ReplyActivity[]) =>
  replies
    .filter((r) => r.type === 'message')
    .map((r) => r.text ?? '')
    .join('\n');
const buttons = (replies: ReplyActivity[]) => replies.flatMap((r) => r.suggestedActions?.actions ?? []).map((a) => String(a.title));

let service: RunningService;
let connector: FakeConnector;
const client = () => new BotClient(service.url, { serviceUrl: connector.url });
const key = (c: BotClient) => `emulator:${c.conversationId}`;

beforeAll(async () => {
  connector = await new FakeConnector().start();
  service = await startService({ MEDIATOR_HOURS: 'mon-sun 00:00-24:00' });
  await service.console.accounts.create({ email: 'lucie@declic.test', displayName: 'Lucie', role: 'mediator', password: PASSWORD });
});
afterAll(async () => {
  await service?.close();
  await connector?.stop();
});

/** Plays messages; each row: what the young person writes, then patterns the joined replies must (or, with `!`, must not) hold. */
async function play(c: BotClient, rows: Array<[string, ...Array<RegExp | string>]>): Promise<string> {
  let last = '';
  for (const [i, [input, ...expected]] of rows.entries()) {
    last = text(await c.say(input));
    for (const e of expected) {
      const negate = typeof e === 'string' && e.startsWith('!');
      const ok = typeof e === 'string' ? last.includes(negate ? e.slice(1) : e) !== negate : e.test(last);
      if (!ok) throw new Error(`row ${i} (${JSON.stringify(input)}): expected ${String(e)} in:\n${last}`);
    }
  }
  return last;
}

const CONSENT: Array<[string, ...RegExp[]]> = [
  ['salut', /français ou en anglais/],
  ['francais', /Tu es d'accord/],
  ['ouais', /ton prénom/],
];

describe('answers ahead', () => {
  test('facts in one message fill the later questions: each confirmed in one line, none asked again', async () => {
    const c = client();
    await play(c, CONSENT);
    const reply = await play(c, [
      [
        "moi c'est ines, j'ai 19 ans, chômage depuis 6 mois, j'ai un CAP et j'habite à Montreuil 93100",
        /Âge : 19, tu me l'as déjà dit/,
        /Ta situation : Je cherche un taf, tu me l'as déjà dit/,
        /Depuis : \d+ \S+ 20\d\d, tu me l'as déjà dit/,
        /Diplôme : CAP \/ BEP, tu me l'as déjà dit/,
        /Code postal : 93100, tu me l'as déjà dit/,
        /aiderait le plus/,
        '!quel âge',
        '!tu fais quoi',
      ],
    ]);
    expect(reply).not.toMatch(/Depuis quand/);
    // "retour" after a fact confirmed ahead asks that very question.
    await play(c, [['retour', /question d'avant/, /code postal/i]]);
    await play(c, [['93200', /aiderait le plus/]]);
    const profile = (await service.contacts.get(`emulator:${c.userId}`))?.profile ?? {};
    expect(profile).toMatchObject({ prenom: 'Inès', age: 19, situation: 'looking', diploma: 'cap_bep', postcode: '93200', departement: '93' });
    expect(String(profile.situation_since)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  test('"caissière chez Carrefour depuis mars" at the situation question: the date is not asked again', async () => {
    const c = client();
    await play(c, [...CONSENT, ['Yanis', /quel âge/], ['jai 19a', /tu fais quoi/]]);
    await play(c, [['je cherche du taf depuis mars', /Depuis : 1 mars 20\d\d, tu me l'as déjà dit/, /dernier diplôme/, '!Depuis quand']]);
  });
});

describe('answers ahead in the CV', () => {
  test('"caissière chez Carrefour": the employer is confirmed in one line, "Où ça ?" is not asked', async () => {
    const c = client();
    const script = ['salut', 'français', 'oui', 'Inès', 'vingt-deux', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'cv', 'non', 'jamais', 'juste mon tel', 'non', 'bus', 'oui', 'Martin', 'passer', '+33 6 12 34 56 78', 'Bondy', 'vendeuse', 'oui'];
    let last = '';
    for (const t of script) last = text(await c.say(t));
    expect(last).toContain(fr.cv.exp_title_q.slice(0, 12));
    await play(c, [['caissière chez Carrefour', /Employeur : Carrefour, tu me l'as déjà dit/, fr.cv.exp_period_q.slice(0, 20), '!' + fr.cv.exp_company_q.slice(0, 8)]]);
  });
});

describe('understood as young people write', () => {
  test('SMS, emoji, skip on a required question, a low-confidence guess confirmed, "je te l\'ai dit"', async () => {
    const c = client();
    await play(c, [
      ...CONSENT,
      ['Jsuis Yanis', /Enchanté Yanis/],
      ['dix-neuf', /tu fais quoi/],
      ['jsp', new RegExp(fr.engine.skip_required_choice.slice(0, 20)), /Choisis une des réponses/],
      ['formaton', /Tu veux dire « En formation » \?/],
      ['oui', /Depuis quand/],
      ['depuis la rentrée', /dernier diplôme/],
      ['brevet pas encore', /code postal/],
      ['93200', /aiderait le plus/],
      ['je sais pas trop ce que je veux faire', /déjà un CV/],
      ['pas à jour', /dernière candidature/],
      ['jamais postulé', /tu as quoi/],
      ['juste mon tel', /adresse mail/],
      ['👍', /me l'écrire/],
      ['yanis93@gmail.com', /déplacer/],
      ['scooter', /j'ai tout noté/],
    ]);
    const profile = (await service.contacts.get(`emulator:${c.userId}`))?.profile ?? {};
    expect(profile).toMatchObject({
      prenom: 'Yanis', age: 19, situation: 'training', situation_since: expect.stringMatching(/^\d{4}-09-01$/), diploma: 'none', need: 'orientation', cv_status: 'outdated',
      last_application: null, equipment: 'phone_only', has_email: true, email: 'yanis93@gmail.com', mobility: 'bike',
    });
  });
});

describe('going back', () => {
  test('"je me suis trompée" goes back one question; the new answer replaces the old one', async () => {
    const c = client();
    await play(c, [...CONSENT, ['Inès', /quel âge/], ['19', /tu fais quoi/]]);
    await play(c, [['je me suis trompée', /question d'avant/, /quel âge/]]);
    await play(c, [['vingt ans', /tu fais quoi/]]);
    expect((await service.contacts.get(`emulator:${c.userId}`))?.profile).toMatchObject({ age: 20 });
    // Twice back, then the first name again: the age is known, so the next question is the situation.
    await play(c, [['retour', /quel âge/], ['retour', /ton prénom/], ['Inès', /tu fais quoi/]]);
  });
});

describe('commands in every state and any wording', () => {
  test('bot state: erasure in a sentence, aide, menu, stop', async () => {
    const c = client();
    await play(c, [...CONSENT, ['Inès', /quel âge/]]);
    await play(c, [['efface tout ce que tu sais sur moi', fr.erase.confirm_q]]);
    await play(c, [['non', fr.erase.cancelled, /quel âge/]]);
    await play(c, [['tu peux m’aider ?', /Tu peux m'écrire à tout moment/, /quel âge/]]);
    await play(c, [['arrête de m’écrire stp', /je ne t'enverrai plus de messages/]]);
    await play(c, [['montre moi le menu', fr.menu.question]]);
  });

  test('waiting for and with a mediator: every command answered; the mediator sees them in the transcript', async () => {
    const c = client();
    await play(c, [...CONSENT, ['Inès', /quel âge/]]);
    await c.say('je veux parler à un conseiller');
    const waiting = await service.handoff.queue();
    expect(waiting.some((d) => d._id === key(c) && d.state === 'waiting')).toBe(true);
    await play(c, [['menu', fr.handoff.cmd_busy.slice(0, 30)]]);
    await play(c, [['aide', fr.handoff.cmd_help.slice(0, 30)]]);
    await play(c, [['recommencer', fr.handoff.cmd_busy.slice(0, 30)]]);
    await play(c, [['retour', fr.handoff.cmd_busy.slice(0, 30)]]);
    await play(c, [['conseiller', fr.handoff.cmd_human]]);
    await play(c, [['stop', fr.handoff.cmd_stopped.slice(0, 30)]]);
    await play(c, [['reprendre', fr.handoff.cmd_resumed.slice(0, 30)]]);

    const lucie = new ConsoleClient(service.url);
    expect((await lucie.login('lucie@declic.test', PASSWORD)).status).toBe(200);
    expect((await lucie.post(`${conv(key(c))}/claim`)).status).toBe(200);
    await play(c, [['je veux le menu stp', fr.handoff.cmd_busy.slice(0, 30)]]);
    await play(c, [['stop', fr.handoff.cmd_stopped.slice(0, 30)]]);
    await play(c, [['supprimer mes données', fr.erase.confirm_q]]);
    await play(c, [['non', fr.erase.cancelled]]);

    const detail = await lucie.get(conv(key(c)));
    expect(detail.status).toBe(200);
    const lines = detail.json.transcript.map((e: { sender: string; text: string }) => `${e.sender}:${e.text}`);
    for (const asked of ['menu', 'aide', 'recommencer', 'retour', 'je veux le menu stp']) expect(lines).toContain(`user:${asked}`);
    expect(lines.some((l: string) => l.startsWith('bot:') && l.includes('Une personne de l\'équipe'))).toBe(true);
  });

  test('the menu resumes the CV at the question the young person was at', async () => {
    const c = client();
    const script = ['salut', 'français', 'oui', 'Inès', 'vingt-deux', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'cv', 'non', 'jamais', 'juste mon tel', 'non', 'bus', 'oui', 'Martin', 'passer'];
    let last = '';
    for (const t of script) last = text(await c.say(t));
    expect(last).toContain(fr.cv.phone_q);
    const menu = await c.say('menu');
    expect(text(menu)).toContain(fr.menu.question);
    expect(buttons(menu)).toContain(fr.menu.options.cv);
    await play(c, [[fr.menu.options.cv, fr.engine.resumed_where, fr.cv.phone_q, '!' + fr.cv.intro.slice(0, 20)]]);
  });
});
