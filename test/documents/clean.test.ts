import * as path from 'path';
import { buildCv, buildLetter, jobPhrase, targetTitle } from '../../src/dialogs/documentBuilder';
import { cleanChat, cleanPlace, de, languageItems, normalisePeriod, que, taskBullets } from '../../src/documents/clean';
import { JobCatalog } from '../../src/documents/jobs';
import { renderCvPdf } from '../../src/documents/pdf';
import { Texts } from '../../src/i18n';
import { NOW, personas } from './personas';

const ROOT = path.resolve(__dirname, '..', '..');
const texts = Texts.loadFromDir(path.join(ROOT, 'locales'));
const jobs = JobCatalog.load(path.join(ROOT, 'dialogs', 'data', 'cv-jobs.yaml'));
const ctx = { locale: 'fr' as const, texts, now: NOW, jobs };

describe('chat text → document text', () => {
  test.each<[string, string | undefined]>([
    ['passer', undefined],
    ['jsp', undefined],
    ['je sais pas', undefined],
    ["je t'ai dit", undefined],
    ['jtai dit', undefined],
    ['👍', undefined],
    ['???', undefined],
    ['jsuis motivé', 'je suis motivé'],
    ['C pres de chez moi', "c'est près de chez moi"],
    ['JE SUIS TRES MOTIVEE', 'je suis tres motivée'],
    ['préparateur', 'préparateur'],
    ['cap cuisine', 'CAP cuisine'],
    ['jeux video jsp', 'jeux vidéo'],
  ])('%j → %j', (input, expected) => {
    expect(cleanChat(input)).toBe(expected);
  });

  test.each<[string, string | undefined]>([
    ['bobigny jtai dit', 'Bobigny'],
    ['saint denis', 'Saint-Denis'],
    ['aulnay sous bois', 'Aulnay-sous-Bois'],
    ["j'habite à montreuil", 'Montreuil'],
    ['passer', undefined],
  ])('place %j → %j', (input, expected) => {
    expect(cleanPlace(input)).toBe(expected);
  });

  test.each<[string, string | undefined]>([
    ['mars 2024 à juin 2024', 'mars 2024 – juin 2024'],
    ['de mars à juin 2024', 'mars 2024 – juin 2024'],
    ['03/2024 - 06/2024', 'mars 2024 – juin 2024'],
    ['été 2024, 2 mois', 'Été 2024 (2 mois)'],
    ['depuis mars', 'depuis mars 2026'],
    ['since March 2025', 'depuis mars 2025'],
    ['2023', '2023'],
    ['pas à jour', undefined],
    ['passer', undefined],
  ])('period %j → %j', (input, expected) => {
    expect(normalisePeriod(input, NOW)?.text).toBe(expected);
  });

  test.each<[string, string[]]>([
    ['accueil des clients, mise en rayon et encaissement', ['Accueillir les clients', 'Mettre en rayon', 'Encaisser']],
    ['je servais les clients et je rangeais la réserve', ['Servir les clients', 'Ranger la réserve']],
    ["j'ai fait la plonge", ['Faire la plonge']],
    ['accueil des clients, caisse', ['Accueillir les clients', 'Tenir la caisse']],
    ['distribution des repas', ['Distribuer les repas']],
    ['passer', []],
  ])('tasks %j → %j', (input, expected) => {
    expect(taskBullets(input)).toEqual(expected);
  });

  test.each<[string, string[]]>([
    ['français, arabe, anglais scolaire', ['Français', 'Arabe', 'Anglais : scolaire']],
    ['english native, french basic', ['Anglais : langue maternelle', 'Français : notions']],
    ['anglais courant et espagnol un peu', ['Anglais : courant', 'Espagnol : notions']],
  ])('languages %j → %j', (input, expected) => {
    expect(languageItems(input)).toEqual(expected);
  });
});

describe('French grammar', () => {
  test.each<[string, string]>([
    ['employé', "d'employé"],
    ['agent de sécurité', "d'agent de sécurité"],
    ['hôtesse de caisse', "d'hôtesse de caisse"],
    ['vendeuse', 'de vendeuse'],
    ['hockeyeur', 'de hockeyeur'],
  ])('de %j → %j', (w, expected) => expect(de(w)).toBe(expected));

  test.each<[string, string]>([
    ['apprenti', "qu'apprenti"],
    ['vendeur', 'que vendeur'],
  ])('que %j → %j', (w, expected) => expect(que(w)).toBe(expected));

  test.each<[string, string]>([
    ['Employé polyvalent', "poste d'employé polyvalent"],
    ['Vendeuse', 'poste de vendeuse'],
    ['Apprenti boulanger', "contrat en alternance en tant qu'apprenti boulanger"],
  ])('job phrase %j → %j', (t, expected) => expect(jobPhrase(t, 'fr')).toBe(expected));

  test.each<[string, string | undefined]>([
    ['vendeuse', 'Vendeuse'],
    ['je cherche un poste d employé libre service', 'Employé libre service'],
    ['passer', undefined],
    ['cashier', 'Hôte / Hôtesse de caisse'],
  ])('target %j → %j', (t, expected) => expect(targetTitle(t, jobs, 'fr')).toBe(expected));
});

describe('three personas: documents a recruiter would accept', () => {
  test('little experience: accroche, verbs, languages with levels, mobility, no chat text', async () => {
    const cv = buildCv(personas.little, ctx);
    expect(cv.target).toBe('Vendeuse');
    expect(cv.city).toBe('Bobigny');
    expect(cv.accroche).toBe("Après un stage chez Kiabi, je recherche un poste de vendeuse. Je suis souriante, ponctuelle et motivée. Disponible rapidement, j'ai envie de m'investir dans une nouvelle équipe.");
    expect(cv.experiences[0]).toEqual({ title: 'Stage', company: 'Kiabi', period: 'juin 2024 (2 semaines)', tasks: ['Mettre en rayon', 'Accueillir les clients'] });
    expect(cv.languages).toEqual(['Français', 'Arabe : courant', 'Anglais : scolaire']);
    expect(cv.mobility).toEqual(['Mobile en transports en commun']);
    expect(cv.skills).toContain('Sens des responsabilités (aide à ma famille)');
    const pdf = await renderCvPdf(cv, { experience: 'Expériences', education: 'Formation', skills: 'Compétences', languages: 'Langues', interests: "Centres d'intérêt", contact: 'Contact', mobility: 'Permis et mobilité', profile: 'Profil' }, { compress: false });
    expect((pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length).toBe(1);
  });

  test('two jobs: most recent first, dates normalised, suggested tasks when skipped, licence out of the skills', () => {
    const cv = buildCv(personas.twoJobs, ctx);
    expect(cv.experiences.map((e) => [e.title, e.period])).toEqual([
      ['Préparateur de commandes', 'septembre 2025 – octobre 2025'],
      ['Équipier', 'mars 2024 – juin 2024'],
    ]);
    expect(cv.experiences[0].tasks[0]).toBe("Préparer les commandes à l'aide d'un scanner");
    expect(cv.experiences[1].tasks).toEqual(['Prendre les commandes', 'Nettoyer la salle']);
    expect(cv.mobility).toEqual(['Permis B', 'Véhicule personnel']);
    expect(cv.skills).not.toContain('Permis B');
    expect(cv.interests).toEqual(['Foot', 'Jeux vidéo']);
  });

  test('English speaker in Paris: the CV is in French (job in France)', () => {
    const cv = buildCv(personas.english, ctx);
    expect(cv.target).toBe('Hôte / Hôtesse de caisse');
    expect(cv.experiences[0]).toMatchObject({ title: 'Bénévole', company: 'Croix-Rouge', period: 'depuis mars 2025' });
    expect(cv.skills.slice(0, 3)).toEqual(['Ponctualité', 'Sens du contact', 'Aisance avec les chiffres']);
    expect(cv.education[0].title).toBe("Diplôme de fin d'études secondaires (Ghana)");
    expect(JSON.stringify(cv)).not.toMatch(/\b(welcoming|punctual|friendly|music)\b/i);
  });

  test.each(Object.keys(personas))('letter of %s: object with elision, three paragraphs in prose, no "label : value" from the chat, closing', (name) => {
    const letter = buildLetter(personas[name], 'fr', texts, NOW, jobs);
    expect(letter.subject).toMatch(/^Objet : candidature pour un (poste|contrat) /);
    expect(letter.subject).not.toMatch(/ de [aeiouéh]/i);
    expect(letter.paragraphs).toHaveLength(3);
    const body = letter.paragraphs.join(' ');
    expect(body).not.toMatch(/motive à rejoindre|Mes atouts pour ce poste :|Disponibilité :|\bjsuis\b|\bC pres\b| de employ| que apprenti/);
    expect(letter.closing).toMatch(/salutations distinguées/);
    expect(letter.date).toMatch(/, le 2 décembre 2026$/);
  });

  test('the pasted offer is used; availability in prose', () => {
    const letter = buildLetter(personas.twoJobs, 'fr', texts, NOW, jobs);
    expect(letter.paragraphs[0]).toMatch(/^Votre offre pour un poste d'employé libre service au sein de Carrefour Market/);
    expect(letter.paragraphs[1]).toContain("Votre offre demande l'esprit d'équipe, la ponctualité et du dynamisme");
    expect(letter.paragraphs[2]).toContain('disponible à partir de janvier');
  });
});
