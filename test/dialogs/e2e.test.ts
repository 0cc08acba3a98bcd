import { inflateSync } from 'zlib';
import type { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';
import { DocumentService } from '../../src/documents/documentService';

/** Text of a (compressed) pdfkit PDF: inflates the Flate streams and decodes the hex strings of the text operators. */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  let out = '';
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw))) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    const chunk = pdf.subarray(start, end);
    let content: string;
    try {
      content = inflateSync(chunk).toString('latin1');
    } catch {
      content = chunk.toString('latin1');
    }
    out += [...content.matchAll(/<([0-9a-fA-F]+)>/g)].map((h) => Buffer.from(h[1], 'hex').toString('latin1')).join('');
  }
  return out;
}

let service: RunningService;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.close();
});

async function expectReply(client: BotClient, text: string, pattern: RegExp) {
  const replies = await client.say(text);
  const joined = replies.map((r) => r.text ?? '').join('\n\n');
  if (!pattern.test(joined)) throw new Error(`"${text}": expected ${pattern} in:\n${joined}`);
  return replies;
}

test('through the real HTTP service: consent, diagnostic and CV; the PDF link works and a bad token is a 404', async () => {
  const client = new BotClient(service.url);
  const script: Array<[string, RegExp]> = [
    ['salut', /français ou en anglais/],
    ['français', /Tu es d'accord/],
    ['oui', /ton prénom/],
    ['Inès', /quel âge/],
    ['vingt-deux', /en ce moment/],
    ['je cherche du taf', /Depuis quand/],
    ['il y a trois mois', /diplôme/],
    ['cap', /code postal/],
    ['93200', /aiderait/],
    ['cv', /déjà un CV/],
    ['non', /candidature/],
    ['jamais', /tu as quoi/],
    ['juste mon tel', /adresse mail/],
    ['non', /déplacer/],
    ['bus', /On fait ton CV/],
    ['oui', /nom de famille/],
    ['Martin', /adresse mail/],
    ['passer', /téléphone/],
    ['+33 6 12 34 56 78', /ville/],
    ['Bondy', /quel job/],
    ['vendeuse', /déjà travaillé/],
    ['non', /formation ou ton dernier diplôme/],
    ['CAP vente', /établissement/],
    ['passer', /année/],
    ['2023', /autre formation/],
    ['non', /compétences/],
    ['souriante, ponctuelle', /langues/],
    ['français', /centres d'intérêt/],
  ];
  for (const [text, pattern] of script) await expectReply(client, text, pattern);
  const replies = await expectReply(client, 'danse', /Et voilà ton CV/);
  const att = replies.flatMap((r) => r.attachments ?? [])[0];
  expect(att).toMatchObject({ contentType: 'application/pdf', name: 'CV-Ines-Martin.pdf' });
  expect(att.contentUrl!.startsWith(`${service.url}/files/`)).toBe(true);

  const res = await fetch(att.contentUrl!);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/pdf');
  const pdf = Buffer.from(await res.arrayBuffer());
  expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
  expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
  const text = pdfText(pdf);
  expect(text).toContain('Inès Martin');
  expect(text).toContain('06 12 34 56 78');

  const bad = att.contentUrl!.replace(/\/[^/]+$/, '/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  expect((await fetch(bad)).status).toBe(404);
  expect((await fetch(`${service.url}/files/000000000000000000000000/abc`)).status).toBe(404);

  const contact = await service.db.connection.collection('contacts').findOne({ _id: `emulator:${client.userId}` as never });
  expect(contact?.consent).toBe(true);
  expect(contact?.profile).toMatchObject({ prenom: 'Inès', cv_nom: 'Martin', departement: '93' });

  // The link carries its expiry (7 days by default, FILES_LINK_DAYS), signed: extending it by hand breaks the signature.
  const [, id, token] = /\/files\/([0-9a-f]{24})\/([0-9a-z]+)\.([A-Za-z0-9_-]+)$/.exec(att.contentUrl!) ?? [];
  expect(id).toBeTruthy();
  const expiresAt = parseInt(token, 36) * 1000;
  expect(expiresAt - Date.now()).toBeGreaterThan(7 * 86400000 - 60000);
  expect(expiresAt - Date.now()).toBeLessThanOrEqual(7 * 86400000 + 1000);
  const extended = att.contentUrl!.replace(`/${token}.`, `/${(parseInt(token, 36) + 86400 * 30).toString(36)}.`);
  expect((await fetch(extended)).status).toBe(404);

  // A genuine link issued 8 days ago (same secret, a clock 8 days back) has expired: 410 and a short page in French.
  const eightDaysAgo = new DocumentService(service.db.connection, { secret: service.config.FILES_SECRET!, baseUrl: () => service.url, now: () => Date.now() - 8 * 86400000 });
  const expired = await fetch(eightDaysAgo.url(id));
  expect(expired.status).toBe(410);
  expect(expired.headers.get('content-type')).toMatch(/^text\/html/);
  const page = await expired.text();
  expect(page).toContain('Ce lien a expiré');
  expect(page).toContain('renvoie mon CV');
  expect(page).not.toContain('Inès');

  // In the chat, "renvoie mon CV" gives a fresh link to the same CV, which works.
  const again = await client.say('renvoie mon CV');
  expect(again.map((r) => r.text ?? '').join('\n')).toMatch(/Voici ton CV.*7 jours/);
  const fresh = again.flatMap((r) => r.attachments ?? [])[0];
  expect(fresh).toMatchObject({ contentType: 'application/pdf', name: 'CV-Ines-Martin.pdf' });
  const download = await fetch(fresh.contentUrl!);
  expect(download.status).toBe(200);
  expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
  // "mon cv" works too.
  expect((await client.say('mon cv')).flatMap((r) => r.attachments ?? [])[0]).toMatchObject({ name: 'CV-Ines-Martin.pdf' });
});

test('"mon cv" before any CV exists is no command: the dialog goes on', async () => {
  const client = new BotClient(service.url);
  await expectReply(client, 'salut', /français ou en anglais/);
  const replies = await client.say('mon cv');
  expect(replies.flatMap((r) => r.attachments ?? [])).toEqual([]);
  expect(replies.map((r) => r.text ?? '').join('\n')).not.toMatch(/Voici ton CV/);
});
