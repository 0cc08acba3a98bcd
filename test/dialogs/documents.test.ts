import { createHmac } from 'crypto';
import { Database } from '../../src/db/database';
import { DocumentService, DocumentTooLargeError, MAX_DOCUMENT_BYTES } from '../../src/documents/documentService';
import { renderCvPdf, renderLetterPdf, toWinAnsi } from '../../src/documents/pdf';
import { buildCv, cvFileName, splitList } from '../../src/dialogs/documentBuilder';
import { testMongoUri } from '../support/env';

const labels = { experience: 'Expériences', education: 'Formation', skills: 'Compétences', languages: 'Langues', interests: "Centres d'intérêt", contact: 'Contact', mobility: 'Permis et mobilité', profile: 'Profil' };
const pages = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
const hexText = (pdf: Buffer) => [...pdf.toString('latin1').matchAll(/<([0-9a-fA-F]+)>/g)].map((m) => Buffer.from(m[1], 'hex').toString('latin1')).join('');

describe('PDF text', () => {
  test.each<[string, string]>([
    ['Inès Éloïse Çelik', 'Inès Éloïse Çelik'],
    ['Cœur “entre guillemets” – l’été…', 'Cœur “entre guillemets” – l’été…'],
    ['Super 💪🔥 motivé 😀', 'Super motivé'],
    ['Łukasz Wałęsa', 'Lukasz Walesa'],
    ['日本語 ok', 'ok'],
    ['tab\there', 'tab here'],
  ])('%s → %s', (input, expected) => {
    expect(toWinAnsi(input)).toBe(expected);
  });

  test('a CV with far too much content still fits on one page; accents are in the text', async () => {
    const cv = buildCv({
      prenom: 'Inès',
      cv_nom: 'Martin',
      cv_phone: '06 12 34 56 78',
      cv_email: 'ines@example.fr',
      cv_target: 'Vendeuse 🛍️',
      cv_experiences: Array.from({ length: 10 }, (_, i) => ({ title: `Expérience ${i} `.repeat(8), company: 'Entreprise', period: '2024', tasks: 'tâches '.repeat(100) })),
      cv_education: Array.from({ length: 6 }, (_, i) => ({ title: `Diplôme ${i}`, school: 'Lycée', year: '2020' })),
      cv_skills: 'a, b, c, d, e, f, g, h, i, j, k, l',
      cv_languages: 'français et arabe',
      cv_interests: 'foot / cuisine',
    });
    const pdf = await renderCvPdf(cv, labels, { compress: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pages(pdf)).toBe(1);
    expect(hexText(pdf)).toContain('Inès Martin');
    expect(hexText(pdf)).not.toMatch(/🛍/);
    expect(pdf.length).toBeLessThan(MAX_DOCUMENT_BYTES);
    expect(cvFileName(cv)).toBe('CV-Ines-Martin.pdf');
  });

  test('a letter with long paragraphs stays on one page', async () => {
    const pdf = await renderLetterPdf(
      { firstName: 'Yanis', lastName: 'Ben', company: 'Boulangerie', date: '23 novembre 2026', subject: 'Objet', greeting: 'Madame, Monsieur,', paragraphs: Array.from({ length: 8 }, () => 'Très motivé. '.repeat(80)), closing: 'Salutations.' },
      { compress: false },
    );
    expect(pages(pdf)).toBe(1);
    expect(hexText(pdf)).toContain('Yanis Ben');
  });

  test('lists are split on commas, "et", slashes', () => {
    expect(splitList('foot, cuisine et jeux vidéo / dessin')).toEqual(['Foot', 'Cuisine', 'Jeux vidéo', 'Dessin']);
    expect(splitList(null)).toEqual([]);
  });
});

describe('DocumentService', () => {
  let db: Database;
  let docs: DocumentService;
  beforeAll(async () => {
    db = await Database.connect(testMongoUri(), { timeoutMs: 5000 });
    docs = new DocumentService(db.connection, { secret: 'another-test-secret-123456', baseUrl: () => 'https://declic.example/' });
    await db.syncIndexes();
  });
  afterAll(() => db.close());

  test('links carry an HMAC token; a wrong token or id finds nothing', async () => {
    const pdf = Buffer.from('%PDF-1.3\n%%EOF\n');
    const att = await docs.save('test:u1', 'cv', 'CV-A-B.pdf', pdf);
    expect(att.contentUrl).toMatch(new RegExp(`^https://declic\\.example/files/${att.id}/[0-9a-z]+\\.[A-Za-z0-9_-]{43}$`));
    expect(docs.check(att.id, att.contentUrl.split('/').pop()!)).toBe('ok');
    expect(att).toMatchObject({ contentType: 'application/pdf', name: 'CV-A-B.pdf' });
    const found = await docs.find(att.id, docs.token(att.id));
    expect(found!.data.equals(pdf)).toBe(true);
    expect(await docs.find(att.id, 'x'.repeat(43))).toBeNull();
    expect(await docs.find(att.id, '')).toBeNull();
    expect(await docs.find('../../etc', docs.token('../../etc'))).toBeNull();
    const other = new DocumentService(db.connection, { secret: 'a-different-secret-abcdef', baseUrl: () => '' });
    expect(await docs.find(att.id, other.token(att.id))).toBeNull();
    expect(docs.check(att.id, other.token(att.id))).toBe('invalid');
  });

  test('links expire: a genuine token past its expiry is "expired" (not "invalid"), and finds nothing', async () => {
    const att = await docs.save('test:u3', 'cv', 'CV.pdf', Buffer.from('%PDF-1.3\n%%EOF\n'));
    const past = docs.token(att.id, Date.now() - 1000);
    expect(docs.check(att.id, past)).toBe('expired');
    expect(await docs.find(att.id, past)).toBeNull();
    expect(docs.check(att.id, docs.token(att.id, Date.now() + 60000))).toBe('ok');
    // A link of before expiries (HMAC of the id alone) counts as expired.
    const legacy = createHmac('sha256', 'another-test-secret-123456').update(att.id).digest('base64url');
    expect(docs.check(att.id, legacy)).toBe('expired');
    // The newest version of a kind, with a fresh link.
    const latest = await docs.latest('test:u3', 'cv');
    expect(latest).toMatchObject({ id: att.id, name: 'CV.pdf' });
    expect(await docs.latest('test:u3', 'letter')).toBeUndefined();
  });

  test('refuses documents over 1 MB, keeps the last 3 versions, erases per contact', async () => {
    await expect(docs.save('test:u2', 'cv', 'big.pdf', Buffer.alloc(MAX_DOCUMENT_BYTES + 1))).rejects.toBeInstanceOf(DocumentTooLargeError);
    for (let i = 0; i < 5; i++) await docs.save('test:u2', 'cv', `v${i}.pdf`, Buffer.from(`%PDF-${i}`));
    await docs.save('test:u2', 'letter', 'l.pdf', Buffer.from('%PDF-l'));
    const list = await docs.listFor('test:u2');
    expect(list.filter((d) => d.kind === 'cv').map((d) => d.name).sort()).toEqual(['v2.pdf', 'v3.pdf', 'v4.pdf']);
    expect(await docs.deleteForContact('test:u2')).toBe(4);
    expect(await docs.listFor('test:u2')).toEqual([]);
  });

  test('a short secret is refused', () => {
    expect(() => new DocumentService(db.connection, { secret: 'short', baseUrl: () => '' })).toThrow(/secret/);
  });
});
