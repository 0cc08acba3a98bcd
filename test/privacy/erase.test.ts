import { RunningService } from '../../src/index';
import { BotClient, ReplyActivity } from '../support/botClient';
import { startService } from '../support/env';

const firstButton = (replies: ReplyActivity[]) => String(replies.flatMap((r) => r.suggestedActions?.actions ?? [])[0]?.value ?? 'ok');

describe('"supprimer mes données" erases everything after confirmation', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service.close();
  });

  /** The bot state items stored for this young person (whatever their exact key), sorted. */
  async function stateKeysOf(c: BotClient): Promise<string[]> {
    const docs = await service.db.connection.collection('botstate').find({}, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => String(d._id)).filter((id) => id.includes(c.conversationId) || id.includes(c.userId)).sort();
  }

  async function converse(c: BotClient): Promise<void> {
    let replies = await c.say('salut');
    for (let i = 0; i < 3; i++) replies = await c.say(firstButton(replies));
    await c.say('jsuis sans logement en ce moment'); // a detection stored on the conversation record
  }

  test('profile, transcripts, bot state and the conversation record are gone; the bot starts afresh', async () => {
    const c = new BotClient(service.url);
    await converse(c);
    const userKey = `emulator:${c.userId}`;
    const convKey = `emulator:${c.conversationId}`;
    expect(await service.contacts.get(userKey)).not.toBeNull();
    expect((await service.transcripts.entries('emulator', c.conversationId)).length).toBeGreaterThan(5);

    const ask = await c.say('supprimer mes données');
    expect(ask.length).toBeGreaterThan(0);
    await c.say('oui');

    expect(await service.contacts.get(userKey)).toBeNull();
    expect(await service.conversations.get(convKey)).toBeNull();
    expect(await service.transcripts.entries('emulator', c.conversationId)).toEqual([]);
    expect(await stateKeysOf(c)).toEqual([]);

    // A fresh start: the same first message gets the same first answer as a brand-new person.
    const fresh = new BotClient(service.url);
    const expected = (await fresh.say('salut')).map((r) => r.text);
    const again = (await c.say('salut')).map((r) => r.text);
    expect(again).toEqual(expected);
  });

  test('an erasure outside the conversation (on request, e.g. by an admin) also removes the bot state', async () => {
    const c = new BotClient(service.url);
    await converse(c);
    // botbuilder's key: "<channel>/conversations/<id>/" (the trailing slash is the empty namespace).
    expect(await stateKeysOf(c)).toContain(`emulator/conversations/${c.conversationId}/`);
    await service.privacy.erase('emulator', c.userId);
    expect(await stateKeysOf(c)).toEqual([]);
    expect(await service.contacts.get(`emulator:${c.userId}`)).toBeNull();
    // The next message starts afresh, as for a brand-new person.
    const fresh = new BotClient(service.url);
    expect((await c.say('salut')).map((r) => r.text)).toEqual((await fresh.say('salut')).map((r) => r.text));
  });

  test('answering no keeps everything', async () => {
    const c = new BotClient(service.url);
    await converse(c);
    await c.say('supprimer mes donnees');
    await c.say('non');
    expect(await service.contacts.get(`emulator:${c.userId}`)).not.toBeNull();
    expect((await service.transcripts.entries('emulator', c.conversationId)).length).toBeGreaterThan(5);
  });
});
