import { inflateSync } from 'zlib';
import type { RunningService } from '../../src/index';
import { BotClient, ReplyActivity } from '../support/botClient';
import { startService } from '../support/env';

/** Text of a compressed pdfkit PDF (inflated streams, hex strings of the text operators). */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  let out = '';
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw))) {
    const start = m.index + m[0].length;
    const chunk = pdf.subarray(start, raw.indexOf('endstream', start));
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

const joined = (replies: ReplyActivity[]) => replies.map((r) => r.text ?? '').join('\n\n');
async function step(client: BotClient, input: string, pattern: RegExp): Promise<ReplyActivity[]> {
  const replies = await client.say(input);
  if (!pattern.test(joined(replies))) throw new Error(`"${input}": expected ${pattern} in:\n${joined(replies)}`);
  return replies;
}
const squash = (s: string) => s.replace(/\s+/g, '');

test('persona "two jobs" over /api/messages: chat text cleaned, tasks picked from suggestions, CV text before the PDF, then a letter in prose', async () => {
  const client = new BotClient(service.url);
  const rows: Array<[string, RegExp]> = [
    ['salut', /français ou en anglais/],
    ['français', /Tu es d'accord/],
    ['oui', /ton prénom/],
    ['Yanis', /quel âge/],
    ['22', /en ce moment/],
    ['je cherche du taf', /Depuis quand/],
    ['passer', /diplôme/],
    ['bac', /code postal/],
    ['93200', /aiderait/],
    ['cv', /déjà un CV/],
    ['non', /candidature/],
    ['jamais', /tu as quoi/],
    ['juste mon tel', /adresse mail/],
    ['non', /déplacer/],
    ['voiture', /On fait ton CV/],
    ['oui', /nom de famille/],
    ['benali', /adresse mail/],
    ['passer', /téléphone/],
    ['07 65 43 21 09', /ville/],
    ['saint denis jtai dit', /quel job/],
    ['je cherche un poste d employé libre service', /déjà travaillé/],
    ['oui', /C'était quoi/],
    ['equipier', /Où ça/],
    ['mcdo', /Quand et combien/],
    ['de mars à juin 2024', /concrètement/],
    ['je prenais les commandes, nettoyage de la salle', /autre expérience/],
    ['oui', /C'était quoi/],
    ['preparateur de commandes', /Où ça/],
    ['Amazon', /Quand et combien/],
    ['septembre 2025 - octobre 2025', /1\. Préparer les commandes à l'aide d'un scanner/],
    ['1 et 3', /autre expérience/],
    ['non', /formation ou ton dernier diplôme/],
    ['bac pro logistique', /établissement/],
    ['passer', /année/],
    ['2023', /autre formation/],
    ['non', /compétences/],
    ['travail en équipe, permis B, rapide', /langues/],
    ['francais, kabyle', /centres d'intérêt/],
  ];
  for (const [input, pattern] of rows) await step(client, input, pattern);
  const replies = await client.say('foot, jeux video jsp');
  const texts = replies.map((r) => r.text ?? '');
  const cvIndex = texts.findIndex((t) => t.includes('partie par partie'));
  const pdfIndex = replies.findIndex((r) => r.attachments?.length);
  expect(cvIndex).toBeGreaterThanOrEqual(0);
  expect(cvIndex).toBeLessThan(pdfIndex);
  const chatCv = texts[cvIndex];
  expect(chatCv).toContain('Employé libre service');
  expect(chatCv).toContain('- Préparateur de commandes - Amazon | septembre 2025 – octobre 2025');
  expect(chatCv.indexOf('Préparateur')).toBeLessThan(chatCv.indexOf('Équipier'));
  expect(chatCv).toContain('• Charger et décharger les marchandises');
  expect(chatCv).toContain('• Prendre les commandes');
  expect(chatCv).toContain('Saint-Denis');
  expect(chatCv).not.toMatch(/jtai|jsp|passer|\bd employé/i);

  const att = replies[pdfIndex].attachments![0];
  const pdf = Buffer.from(await (await fetch(att.contentUrl!)).arrayBuffer());
  const text = squash(pdfText(pdf));
  for (const s of ['Yanis Benali', 'Employé libre service', 'Permis B', 'Véhicule personnel', 'Équipier', 'mars 2024', 'juin 2024', 'Français', 'Kabyle', 'Jeux vidéo']) expect(text).toContain(squash(s));
  expect(text).not.toMatch(/jsp|jtai/i);

  expect(joined(replies)).toMatch(/tu veux que je t'envoie des offres/);
  for (const [input, pattern] of [
    ['ouais vas y', /lettre de motivation/],
    ['oui', /quelle entreprise/],
    ['carrefour market', /quel poste/],
    ['employé libre service', /texte de l'annonce/],
    ['oui', /Copie-colle/],
    ['Carrefour Market recrute un employé libre-service H/F. Vous avez le sens du travail en équipe, vous êtes ponctuel et dynamique.', /envie de bosser/],
    ["j'aime bien l'ambiance et l'équipe", /pourquoi toi/i],
    ['rapide, serieux, ponctuel', /dispo/],
  ] as Array<[string, RegExp]>)
    await step(client, input, pattern);
  const letterReplies = await step(client, 'à partir de janvier', /Voilà ta lettre/);
  const letterAtt = letterReplies.flatMap((r) => r.attachments ?? [])[0];
  const letter = squash(pdfText(Buffer.from(await (await fetch(letterAtt.contentUrl!)).arrayBuffer())));
  for (const s of ["Objet : candidature pour un poste d'employé libre service", 'Saint-Denis, le', "Votre offre pour un poste d'employé libre service au sein de Carrefour Market", "J'ai travaillé comme préparateur de commandes chez Amazon", "l'esprit d'équipe, la ponctualité et du dynamisme", 'disponible à partir de janvier', 'salutations distinguées']) expect(letter).toContain(squash(s));
  expect(letter).not.toMatch(/Disponibilité:|motiveàrejoindre|poste de employ/);
});
