import type { RunningService } from '../../src/index';
import { BotClient, ReplyActivity } from '../support/botClient';
import { startService } from '../support/env';

let service: RunningService;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.close();
});

/** Need "autre", then the rest of the diagnostic: the closing (summary, structures) comes after the mobility question. */
async function finish(client: BotClient): Promise<string> {
  for (const [input, pattern] of [
    ['autre', /déjà un CV/],
    ['non', /candidature/],
    ['jamais', /tu as quoi/],
    ['juste mon tel', /adresse mail/],
    ['non', /déplacer/],
  ] as Array<[string, RegExp]>)
    await step(client, input, pattern);
  return text(await client.say('bus'));
}

const text = (replies: ReplyActivity[]) => replies.map((r) => r.text ?? '').join('\n\n');

async function step(client: BotClient, input: string, pattern: RegExp): Promise<ReplyActivity[]> {
  const replies = await client.say(input);
  if (!pattern.test(text(replies))) throw new Error(`"${input}": expected ${pattern} in:\n${text(replies)}`);
  return replies;
}

async function diagnosticUpTo(client: BotClient, age: string, postcode: string, afterPostcode: RegExp): Promise<ReplyActivity[]> {
  for (const [input, pattern] of [
    ['salut', /français ou en anglais/],
    ['français', /Tu es d'accord/],
    ['oui', /ton prénom/],
    ['Sofia', /quel âge/],
    [age, /en ce moment/],
    ['je cherche du taf', /Depuis quand/],
    ['passer', /diplôme/],
    ['cap', /code postal/],
  ] as Array<[string, RegExp]>)
    await step(client, input, pattern);
  return step(client, postcode, afterPostcode);
}

test('over /api/messages: 28 years old in Montreuil → France Travail, no Mission Locale of another commune', async () => {
  const client = new BotClient(service.url);
  await diagnosticUpTo(client, '28', '93100', /aiderait/);
  const closing = await finish(client);
  expect(closing).toContain('France Travail');
  expect(closing).toContain('Montreuil');
  expect(closing).not.toContain('Lilas');
  expect(closing).not.toMatch(/Mission Locale (LYR|Intercommunale)/i);
  const contact = await service.db.connection.collection('contacts').findOne({ _id: `emulator:${client.userId}` as never });
  expect(contact?.profile).toMatchObject({ postcode: '93100', departement: '93', commune: '93048', commune_name: 'Montreuil' });
});

test('over /api/messages: 77100 covers three communes → "which one?" with their names as buttons; Nanteuil → the Seine-et-Marne entry and the national directory', async () => {
  const client = new BotClient(service.url);
  const ask = await diagnosticUpTo(client, '20', '77100', /plusieurs communes/);
  const buttons = ask.flatMap((r) => r.suggestedActions?.actions ?? []).map((a) => a.title);
  expect(buttons).toEqual(['Meaux', 'Nanteuil-lès-Meaux', 'Mareuil-lès-Meaux']);
  await step(client, 'Paris', /Choisis ta commune/);
  await step(client, 'nanteuil', /aiderait/);
  const closing = await finish(client);
  expect(closing).toContain('Nanteuil-lès-Meaux');
  expect(closing).toContain('Missions Locales de Seine-et-Marne');
  expect(closing).toContain('https://www.unml.info/');
  expect(closing).not.toContain('Marne-la-Vallée');
  expect(closing).not.toContain('CIDJ');
});

test('over /api/messages: 19 years old in Pantin → the Mission Locale whose source lists Pantin', async () => {
  const client = new BotClient(service.url);
  await diagnosticUpTo(client, '19', '93500', /aiderait/);
  const closing = await finish(client);
  expect(closing).toMatch(/Mission Locale/);
  expect(closing).toContain('Bobigny');
  expect(closing).toContain('Pantin');
});
