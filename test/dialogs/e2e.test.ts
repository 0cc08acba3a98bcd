import { inflateSync } from 'zlib';
import type { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';

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
});
