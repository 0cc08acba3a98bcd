import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { fold, foldedPattern } from '../../src/console/search';
import { launchChromium } from '../support/chromium';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, signInPage, startConsole, waConversationKey, youngPersonSays } from './helpers';

// Search as mediators type it: without accents or capitals, over names, phone numbers, tags and message text,
// on the embedded engine (the same $regex queries run on MongoDB).

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'correct horse battery staple';
let svc: RunningService;
let alice: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(90000);

beforeAll(async () => {
  ({ svc, close, clients: [alice] } = await startConsole([{ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' }], { password: PASSWORD }));
});

afterAll(async () => close?.());

const keysOf = (r: { json: { items: Array<{ key: string }> } }) => r.json.items.map((i) => i.key);
const search = (q: string) => alice.get(`/api/console/conversations/search?q=${encodeURIComponent(q)}`);

describe('folding', () => {
  it.each([
    ['Inès', 'ines'],
    ['  ÉLÉA   Françoise ', 'elea francoise'],
    ['Zoë-Chloé', 'zoe-chloe'],
  ])('fold(%j) = %j', (input, expected) => expect(fold(input)).toBe(expected));

  it.each([
    ['ines', ['Inès', 'INES', 'inés', 'Ines Dupré'], ['Inas', 'Agnès']],
    ['Éléa', ['Elea', 'éléa', 'ELÉA'], ['Ella']],
    ['dormi dehors', ['jai dormi  dehors hier', 'Dormi Dehors'], ['dormidehors']],
    ["l'hôtel", ['l’hotel', "L'HÔTEL"], ['lhotel']],
    ['a.b (c)', ['a.b (c)'], ['axb (c)']],
  ])('%j matches %j and not %j', (q, yes, no) => {
    const re = new RegExp(foldedPattern(q), 'i');
    for (const t of yes) expect(`${t}: ${re.test(t)}`).toBe(`${t}: true`);
    for (const t of no) expect(`${t}: ${re.test(t)}`).toBe(`${t}: false`);
  });
});

describe('search in the console', () => {
  const ines = randomWaId();
  const theo = randomWaId();
  const inesKey = waConversationKey(ines);
  const theoKey = waConversationKey(theo);

  beforeAll(async () => {
    await youngPersonSays(svc, ines, 'bonjour', 'Inès Dupré');
    await youngPersonSays(svc, theo, 'slt jai dormi à la gare de Lyon hier soir', 'Théo');
    expect((await alice.put(`${conv(inesKey)}/tags`, { tags: ['priorité', 'suivi-ml'] })).status).toBe(200);
  });

  it('finds a name without its accents or capitals, and a tag typed without accents', async () => {
    expect(keysOf(await search('ines'))).toEqual([inesKey]);
    expect(keysOf(await search('INES'))).toEqual([inesKey]);
    expect(keysOf(await search('dupre'))).toEqual([inesKey]);
    expect(keysOf(await search('théo'))).toContain(theoKey);
    expect(keysOf(await search('theo'))).toContain(theoKey);
    expect(keysOf(await search('priorite'))).toEqual([inesKey]);
    expect(keysOf(await search('suivi-ml'))).toEqual([inesKey]);
    expect(keysOf(await search(`+${ines}`))).toEqual([inesKey]);
  });

  it('finds a word of a message, with the extract that matched', async () => {
    const r = await search('a la gare');
    expect(keysOf(r)).toEqual([theoKey]);
    expect(r.json.items[0].match).toMatchObject({ kind: 'message', sender: 'user', text: 'slt jai dormi à la gare de Lyon hier soir' });
    expect(keysOf(await search('GARE DE LYON'))).toEqual([theoKey]);
    // Under 3 characters, no search in the messages (it would match nearly everything).
    expect(keysOf(await search('ga'))).toEqual([]);
    // Regex characters are text, not patterns.
    expect((await search('.*')).json.items).toEqual([]);
    expect((await search('(')).status).toBe(200);
  });

  it('in the page: typing "ines" lists Inès', async () => {
    const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
    try {
      const page = browser.page;
      await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
      await page.locator('#search-q').fill('gare');
      await page.getByRole('button', { name: 'Rechercher' }).click();
      await page.locator('#list .item-match', { hasText: 'à la gare' }).waitFor();
      expect(await page.locator('#list .item-name').allTextContents()).toEqual(['Théo']);
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'search-message-phone.png') });
      await page.locator('#search-q').fill('ines');
      await page.getByRole('button', { name: 'Rechercher' }).click();
      await page.locator('#list .item-name', { hasText: 'Inès Dupré' }).waitFor();
    } finally {
      await browser.close();
    }
  });
});
