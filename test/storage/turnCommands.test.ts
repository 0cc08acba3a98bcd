/**
 * The database commands of a scripted diagnostic over /api/messages (the bench's hot path), counted with the driver's
 * command monitoring on the real service and engine: bot state is read from the engine only at a conversation's first
 * turn (then from MongoStorage's cache), and a turn writes its contact at most twice (the inbound touch, then the
 * answers: a postcode and its département in one write).
 */
import { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService, testMongoUri } from '../support/env';

jest.setTimeout(60000);

let service: RunningService;
const commands: string[] = [];

beforeAll(async () => {
  service = await startService({ MONGODB_URI: `${testMongoUri()}?monitorCommands=true` });
  service.db.connection.getClient().on('commandStarted', (e: { commandName: string; command: Record<string, unknown> }) => {
    const target = e.command[e.commandName];
    commands.push(`${typeof target === 'string' ? target : ''} ${e.commandName}`.trim());
  });
});
afterAll(async () => {
  await service?.close();
});

const SCRIPT = ['salut', 'français', 'oui', 'Inès', 'vingt-deux', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'cv', 'non', 'jamais'];

test('a diagnostic reads its bot state from the engine once, and writes its contact at most twice a turn', async () => {
  const client = new BotClient(service.url);
  const perTurn: Array<{ text: string; commands: string[] }> = [];
  for (const text of SCRIPT) {
    const from = commands.length;
    expect((await client.texts(text)).length).toBeGreaterThan(0);
    perTurn.push({ text, commands: commands.slice(from) });
  }
  const count = (turn: { commands: string[] }, command: string) => turn.commands.filter((c) => c === command).length;
  expect(perTurn.map((t) => count(t, 'botstate find'))).toEqual(SCRIPT.map((_t, i) => (i === 0 ? 1 : 0)));
  expect(perTurn.map((t) => count(t, 'botstate update'))).toEqual(SCRIPT.map(() => 1));
  for (const turn of perTurn) {
    expect({ text: turn.text, touches: count(turn, 'contacts findAndModify') }).toEqual({ text: turn.text, touches: 1 });
    expect({ text: turn.text, updates: count(turn, 'contacts update') }).toEqual({ text: turn.text, updates: turn.text === 'salut' ? 0 : 1 });
  }
  // The answers are in the profile, the postcode's département with it.
  const contact = await service.contacts.get(`emulator:${client.userId}`);
  expect(contact?.profile).toMatchObject({ prenom: 'Inès', age: 22, postcode: '93200', departement: '93', cv_status: 'none' });
});
