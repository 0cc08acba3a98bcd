import { FlowRegistry } from '../../src/dialogs/scripts/loader';
import type { Flow } from '../../src/dialogs/scripts/types';
import { summarizeProfile } from '../../src/dialogs/summary';
import { CONSENT_ROWS, Chat, DIAG_TO_CV_ROWS, DialogEnv, Row, openEnv, play } from './harness';

let env: DialogEnv;
beforeAll(async () => {
  env = await openEnv();
});
afterAll(async () => {
  await env.close();
});

/** CV rows after the diagnostic (identity already confirmed by the "oui" of the first row). */
const CV_ROWS: Row[] = [
  ['oui', /nom de famille/],
  ['martin', /me(ts)? ines\.martin@example\.fr|Je mets ines\.martin@example\.fr/],
  ['oui', /numéro de téléphone/],
  ['06.12.34.56.78', /Ta ville/],
  ['Bondy', /quel job/],
  ['vendeuse en boulangerie', /déjà travaillé/],
  ['grave', /C'était quoi/],
  ['Équipière polyvalente', /Où ça/],
  ["McDonald's Bondy", /Quand et combien/],
  ['été 2024, 2 mois', /concrètement/],
  ['accueil des clients, caisse', /autre expérience/],
  ['oui', /C'était quoi/],
  // The employer is in the answer (answers ahead): confirmed in one line, not asked.
  ['Bénévole aux Restos du cœur', /Employeur : Restos du cœur, tu me l'as déjà dit/, /Quand et combien/],
  ['2023', /concrètement/],
  ['distribution des repas', /autre expérience/],
  ['non', /formation ou ton dernier diplôme/],
  ['CAP boulangerie', /établissement/],
  ['Lycée Jean Moulin, Bondy', /quelle année/],
  ['2022', /autre formation/],
  ['nan', /qualités et compétences/],
  ['ponctuelle, travail en équipe, sens du contact', /langues/],
  ['français, arabe', /centres d'intérêt/],
  // Once, after the first CV: offers that fit it (asked before the letter).
  ['cuisine et foot', /Et voilà ton CV/, /partie par partie/, /Inès Martin/, /Modifier mon CV/, /envoie des offres/],
];

function pdfText(pdf: Buffer): string {
  // Uncompressed in tests (compressPdf: false); decode the hex strings of text operators as WinAnsi.
  const raw = pdf.toString('latin1');
  return [...raw.matchAll(/<([0-9a-fA-F]+)>/g)].map((m) => Buffer.from(m[1], 'hex').toString('latin1')).join('');
}

describe('welcome and consent', () => {
  test('consent accepted: stored on the contact, then the diagnostic starts', async () => {
    const chat = new Chat(env);
    await play(chat, CONSENT_ROWS);
    const contact = await env.contacts.get(chat.key);
    expect(contact?.consent).toBe(true);
    expect(contact?.locale).toBe('fr');
  });

  test('consent refused: nothing personal asked nor kept, general information and the way to a person', async () => {
    const chat = new Chat(env);
    await play(chat, [
      ['slt', /Moi c'est Déclic/],
      ['fr', /Tu es d'accord/],
      ['nan', /je ne garde rien/, /Missions Locales/, /unml\.info/, /Cimade/, /écris \*conseiller\*/],
      ['menu', /Sans ton accord/],
      // Later messages: one short line, never the greeting again; "recommencer" asks for the consent again.
      ['je cherche du taf', /Sans ton accord, je ne garde rien/, /conseiller/],
      ['ok', /Sans ton accord/],
      ['recommencer', /Moi c'est Déclic/],
    ]);
    const contact = await env.contacts.get(chat.key);
    expect(contact?.consent).toBe(false);
    expect(contact?.profile).toEqual({});
  });

  test('buttons are channel-neutral suggested actions (imBack), one question per message', async () => {
    const chat = new Chat(env);
    const replies = await chat.send('salut');
    const question = replies[replies.length - 1];
    expect(question.suggestedActions?.actions).toEqual([
      { type: 'imBack', title: 'Français', value: 'Français' },
      { type: 'imBack', title: 'English', value: 'English' },
    ]);
    expect(replies.filter((r) => r.suggestedActions)).toHaveLength(1);
    const consent = await chat.send('Français');
    expect(consent[consent.length - 1].suggestedActions?.actions.map((a) => a.title)).toEqual(['Oui', 'Non']);
  });

  test('English can be chosen', async () => {
    const chat = new Chat(env);
    await play(chat, [
      ['hello', /français ou en anglais/],
      ['English', /If you agree, I keep your answers/, /Do you agree/],
      ['yep', /Thanks for your trust/, /first name/],
      ['Sam', /Nice to meet you Sam/, /How old/],
      ['twenty two', /What are you doing/],
    ]);
  });
});

describe('diagnostic', () => {
  test('answers with slang, numbers in words and relative dates; stored in the profile', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ...DIAG_TO_CV_ROWS]);
    const profile = (await env.contacts.get(chat.key))!.profile;
    expect(profile).toMatchObject({
      prenom: 'Inès',
      age: 22,
      situation: 'looking',
      situation_since: '2026-08-23',
      diploma: 'cap_bep',
      postcode: '93200',
      departement: '93',
      need: 'applications',
      cv_status: 'none',
      last_application: null,
      equipment: 'phone_only',
      has_email: true,
      email: 'ines.martin@example.fr',
      mobility: 'transit',
      diag_done: true,
    });
    const summary = summarizeProfile(profile, 'fr', env.texts);
    expect(summary).toContain('Prénom : Inès');
    expect(summary).toContain('Âge : 22 ans');
    expect(summary).toContain('Situation : Je cherche un taf');
    expect(summary).toContain('Depuis : 23/08/2026');
    expect(summary).toContain('Code postal : 93200 (93)');
    expect(summarizeProfile(profile, 'en', env.texts)).toContain('Main need: CV / applications');
  });

  test.each<[string, Row[]]>([
    ['age out of range, then in words', [['200', /Écris ton âge en chiffres/], ['dix-neuf ans', /en ce moment/]]],
    ['under 16', [['15', /moins de 16 ans/, /en ce moment/]]],
    ['over 30', [['34', /jusqu'à 25 ans/, /en ce moment/]]],
  ])('age: %s', async (_name, rows) => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], ...rows]);
  });

  test('three failures offer a person; yes → handoff (reprompt_failures)', async () => {
    const chat = new Chat(env);
    await play(chat, [
      ...CONSENT_ROWS,
      ['Yanis', /quel âge/],
      ['bof', /Écris ton âge en chiffres/],
      ['jsais pas trop', /Écris ton âge en chiffres/],
      ['euh', /une personne de l'équipe/],
    ]);
    const replies = await chat.send('oui');
    expect(replies).toHaveLength(0);
    expect(chat.handoff.calls).toEqual([{ reason: 'reprompt_failures', userId: chat.userId }]);
    // Still waiting on the same question afterwards.
    await play(chat, [['20', /en ce moment/]]);
  });

  test('after the offer, "non" asks the question again', async () => {
    const chat = new Chat(env, { options: { maxAttempts: 2 } });
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], ['bof', /chiffres/], ['bof', /une personne/], ['non', /quel âge/], ['18', /en ce moment/]]);
    expect(chat.handoff.calls).toEqual([]);
  });
});

describe('orientation', () => {
  test('interests and strengths (gaming counts) → 2–3 sectors and next steps', async () => {
    const chat = new Chat(env);
    await play(chat, [
      ...CONSENT_ROWS,
      ['Lina', /quel âge/],
      ['19', /en ce moment/],
      ['rien', /Depuis quand/],
      ['depuis 1 an', /diplôme/],
      ['bac', /code postal/],
      ['75019', /aiderait/],
      ['je sais pas quoi faire', /déjà un CV/],
      ['non', /candidature/],
      ['jamais', /tu as quoi/],
      ['ordi', /adresse mail/],
      ['non', /déplacer/],
      ['a pied', /Merci Lina/, /pistes ensemble/, /aimes faire/],
      ['grave le numérique et un peu le sport', /en dehors de l'école/],
      ['gaming', /Le jeu en équipe, ça compte/, /pistes qui pourraient te plaire/, /Numérique/, /Pour avancer/, /CV maintenant/],
      ['non', /Récap/, /Paris/, /Mission Locale de Paris/, /CIDJ/, /Et maintenant/],
      // Later, in the CV: the gaming experience comes back as a tip before the skills question.
      ['menu', /Qu'est-ce que tu veux faire/],
      ['faire mon cv', /On fait ton CV/, /le prénom Lina/],
      ['oui', /nom de famille/],
      ['Haddad', /adresse mail/],
      ['passer', /téléphone/],
      ['07 11 22 33 44', /ville/],
      ['Paris', /quel job/],
      ['développeuse web', /déjà travaillé/],
      ['non', /Pas grave/, /formation/],
      ['passer', /Le jeu en équipe, ça compte/, /qualités et compétences/],
    ]);
    const profile = (await env.contacts.get(chat.key))!.profile;
    expect(profile.interest).toBe('digital');
    expect(profile.orientation_sectors).toEqual(expect.arrayContaining(['digital']));
    expect((profile.orientation_sectors as string[]).length).toBeGreaterThanOrEqual(2);
    expect((profile.orientation_sectors as string[]).length).toBeLessThanOrEqual(3);
  });
});

describe('closing', () => {
  test('in English, another need, outside the listed départements: summary, national locator, general entries', async () => {
    const chat = new Chat(env);
    chat.locale = 'en-GB';
    await play(chat, [
      ['hi', /French or in English/],
      ['english', /Do you agree/],
      ['ok', /first name/],
      ['my name is Sam', /Nice to meet you Sam/],
      ['19', /What are you doing/],
      ['odd jobs', /Since when/],
      ['2 months ago', /diploma/],
      ['bac', /postcode/],
      ['69003', /help you most/],
      ['something else', /already have a CV/],
      ['yes, up to date', /last apply/],
      ['last week', /what do you have/],
      ['a computer too', /email address/],
      ['nope', /get around/],
      ['bike', /Thanks Sam/, /talk to a person/, /Summary of what you told me/, /Postcode: 69003 \(69\)/, /Main need: Something else/, /Town: Lyon/, /Mission Locale de Lyon/, /Info Jeunes/, /What now/, /What would you like to do/],
      ['my summary', /First name: Sam/, /something else/],
      ['no', /Write to me whenever you want/],
    ]);
    const profile = (await env.contacts.get(chat.key))!.profile;
    expect(profile).toMatchObject({ situation: 'small_jobs', situation_since: '2026-09-23', last_application: '2026-11-16', departement: '69', need: 'other', cv_status: 'ready' });
  });
});

describe('CV and letter', () => {
  test('full CV path: PDF attachment (one page, name inside) and text version; then a cover letter', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ...DIAG_TO_CV_ROWS, ...CV_ROWS.slice(0, -1)]);
    const replies = await chat.send(CV_ROWS[CV_ROWS.length - 1][0]);
    const withPdf = replies.find((r) => r.attachments?.length);
    const att = withPdf!.attachments![0];
    expect(att).toMatchObject({ contentType: 'application/pdf', name: 'CV-Ines-Martin.pdf' });
    const m = att.contentUrl!.match(/^http:\/\/files\.test\/files\/([0-9a-f]{24})\/([\w.-]+)$/);
    expect(m).not.toBeNull();
    const doc = await env.documents.find(m![1], m![2]);
    expect(doc!.contactKey).toBe(chat.key);
    const pdf = doc!.data;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(pdf.toString('latin1').match(/\/Type \/Page\b/g)).toHaveLength(1);
    const text = pdfText(pdf);
    expect(text).toContain('Inès Martin');
    expect(text).toContain('06 12 34 56 78');
    expect(text).toContain('Équipière polyvalente');
    expect(text).toContain('CAP boulangerie');
    const textVersion = replies.map((r) => r.text).join('\n');
    expect(textVersion).toContain('*Inès Martin*');
    expect(textVersion).toContain('Ponctuelle, Travail en équipe, Sens du contact');

    const profile = (await env.contacts.get(chat.key))!.profile;
    expect(profile.cv_experiences).toHaveLength(2);
    expect(profile.cv_phone).toBe('06 12 34 56 78');
    expect(profile).not.toHaveProperty('offers_optin');
    // Working answers (loop questions, menu picks) stay out of the profile.
    for (const transient of ['exp_title', 'exp_more', 'edu_more', 'consent_answer', 'lang', 'prenom_ok']) expect(profile).not.toHaveProperty(transient);

    await play(chat, [
      ['ouais grave', /stop offres/, /lettre de motivation/],
      ['ok', /On prépare ta lettre/, /quelle entreprise/],
      ['Boulangerie Paul', /quel poste/],
      ['Vendeuse', /texte de l'annonce/],
      ['non', /envie de bosser chez Boulangerie Paul/],
      ["j'adore le pain et le contact avec les clients", /pourquoi toi/i],
      ['je suis ponctuelle et souriante', /dispo/],
      ['tout de suite', /Voilà ta lettre/, /relance/],
    ]);
    expect((await env.contacts.get(chat.key))!.profile.offers_optin).toBe(true);
    const letterDocs = await env.documents.listFor(chat.key);
    expect(letterDocs.map((d) => d.kind).sort()).toEqual(['cv', 'letter']);
    const letterId = letterDocs.find((d) => d.kind === 'letter')!._id;
    const letter = await env.documents.find(letterId, env.documents.token(letterId));
    expect(letter!.name).toBe('Lettre-motivation-Ines-Martin.pdf');
    const letterText = pdfText(letter!.data);
    expect(letterText).toContain('Boulangerie Paul');
    expect(letterText).toContain('Objet : candidature pour un poste de vendeuse');
    expect(letterText.replace(/\s+/g, '')).toContain("J'adorelepainetlecontactaveclesclients.");
    expect(letterText.replace(/\s+/g, '')).toContain('Jesuisdisponibledèsmaintenant');
    expect(letterText).not.toMatch(/Disponibilité :|Mes atouts pour ce poste :/);
    expect(letterText).toContain('Madame, Monsieur');
    expect(letter!.data.toString('latin1').match(/\/Type \/Page\b/g)).toHaveLength(1);
  });

  test('"modifier mon CV": pick a section, answer it again, new PDF, nothing else asked again', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ...DIAG_TO_CV_ROWS, ...CV_ROWS, ['non merci', /pas d'offres/, /lettre de motivation/], ['non', /Récap/, /Et maintenant/, /Qu'est-ce que tu veux faire/]]);
    expect((await env.contacts.get(chat.key))!.profile.offers_optin).toBe(false);
    // Back in a new conversation: greeted with what was done last time.
    const again = new Chat(env, { userId: chat.userId });
    again.conversationId = `${chat.conversationId}-2`;
    await play(again, [['slt', /Re-salut Inès/, /ton CV pour « vendeuse en boulangerie »/, /Qu'est-ce que tu veux faire/]]);
    await play(chat, [
      ['modifier mon cv', /Quelle partie/],
      ['job visé', /quel job/],
      ['boulangère', /Et voilà ton CV/, /Autre chose à modifier/],
      ['non', /autre chose/],
    ]);
    const profile = (await env.contacts.get(chat.key))!.profile;
    expect(profile.cv_target).toBe('boulangère');
    expect(profile.cv_experiences).toHaveLength(2);
    const docs = await env.documents.listFor(chat.key);
    expect(docs.filter((d) => d.kind === 'cv')).toHaveLength(2);
  });
});

describe('global commands', () => {
  test.each<[string, string, RegExp]>([
    ['aide', 'aide', /\*menu\*/],
    ['help', 'help', /\*recommencer\*/],
    ['AIDE!', 'AIDE!', /\*conseiller\*/],
  ])('help (%s) lists the commands and asks the question again', async (_n, input, expected) => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], [input, expected, /quel âge/]]);
  });

  test.each(['conseiller', 'Conseillé', 'conseiler', 'un humain', 'humain stp', 'parler a quelqu un'])('"%s" asks for a person', async (input) => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS]);
    await chat.say(input);
    expect(chat.handoff.calls).toEqual([{ reason: 'human_request', userId: chat.userId }]);
  });

  test('"conseiller clientèle" as a target job is an answer, not a command', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ...DIAG_TO_CV_ROWS, ['oui', /nom de famille/], ['Martin', /ines\.martin/], ['oui', /téléphone/], ['0612345678', /ville/], ['Bondy', /quel job/], ['conseiller clientèle', /déjà travaillé/]]);
    expect(chat.handoff.calls).toEqual([]);
  });

  test('"stop" pauses proactive messages, "reprendre" turns them back on', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['STOP', /ne t'enverrai plus/]]);
    expect((await env.contacts.get(chat.key))!.paused).toBe(true);
    await play(chat, [['reprendre', /C'est reparti/, /ton prénom/]]);
    expect((await env.contacts.get(chat.key))!.paused).toBe(false);
  });

  test('"menu" at any time', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], ['menu', /Qu'est-ce que tu veux faire/], ["c'est tout", /Écris-moi quand tu veux/]]);
  });

  test('"recommencer" starts over (consent kept)', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], ['19', /en ce moment/], ['recomencer', /depuis le début/, /On reprend/, /ton prénom/]]);
  });

  test('"supprimer mes données": confirmation, then erasure; "non" keeps everything and resumes', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], ['supprimer mes donnees', /C'est définitif/], ['non', /je ne supprime rien/, /quel âge/]]);
    expect(await env.contacts.get(chat.key)).not.toBeNull();
    await play(chat, [['suprimer mes données', /C'est définitif/], ['oui', /j'ai supprimé tes données/]]);
    expect(chat.privacy.calls).toEqual([chat.key]);
    expect(await env.contacts.get(chat.key)).toBeNull();
    // Next message: a brand new start.
    await play(chat, [['salut', /Moi c'est Déclic/]]);
  });
});

describe('returning young person and robustness', () => {
  test('a new conversation after the diagnostic: greeted by name and offered the menu', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ...DIAG_TO_CV_ROWS]);
    const again = new Chat(env, { userId: chat.userId });
    again.conversationId = `${chat.conversationId}-2`;
    await play(again, [['coucou', /Re-salut Inès/, /Qu'est-ce que tu veux faire/]]);
  });

  test('stopped in the middle of the diagnostic, back in a new conversation: resumes at the first unanswered question', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], ['20', /en ce moment/], ['en formation', /Depuis quand/]]);
    const again = new Chat(env, { userId: chat.userId });
    again.conversationId = `${chat.conversationId}-2`;
    await play(again, [['re', /On reprend/, /Depuis quand/], ['depuis septembre', /diplôme/]]);
    expect((await env.contacts.get(chat.key))!.profile).toMatchObject({ prenom: 'Yanis', age: 20, situation: 'training', situation_since: '2026-09-01' });
  });

  test('coming back hours later in the same conversation: welcome back and the pending question again', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/]]);
    chat.now = new Date(chat.now.getTime() + 3 * 3600 * 1000);
    await play(chat, [['wesh', /Re 👋 Yanis/, /quel âge/], ['21', /en ce moment/]]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['sticker', { attachments: [{ contentType: 'image/webp', contentUrl: 'http://x/s.webp', name: 'sticker.webp' }] }, /sticker/],
    ['image', { attachments: [{ contentType: 'image/jpeg', contentUrl: 'http://x/p.jpg' }] }, /l'image/],
    ['audio', { attachments: [{ contentType: 'audio/ogg', contentUrl: 'http://x/a.ogg' }] }, /vocaux/],
    ['location', { entities: [{ type: 'GeoCoordinates', latitude: 48.9, longitude: 2.4 }] }, /position/],
    ['file', { attachments: [{ contentType: 'application/zip', contentUrl: 'http://x/f.zip' }] }, /fichier/],
  ])('%s: friendly answer and the question again', async (_kind, extra, expected) => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/]]);
    const reply = await chat.say({ text: '', ...extra });
    expect(reply).toMatch(expected);
    expect(reply).toMatch(/quel âge/);
  });

  test('a 10,000-character message: no crash, stored answer truncated', async () => {
    const chat = new Chat(env);
    const long = 'blabla '.repeat(1430).slice(0, 10000);
    await play(chat, [...CONSENT_ROWS, ['Yanis', /quel âge/], [long, /Écris ton âge/], ['19', /en ce moment/]]);
    const steps: Row[] = [['rien', /Depuis/], [long, /pas compris|Depuis|passer/]];
    await play(chat, steps);
    await play(chat, [['passer', /diplôme/], ['bac', /code postal/], ['93100', /aiderait/], ['cv', /CV/], ['non', /candidature/], ['jamais', /tu as quoi/], ['ordi', /mail/], ['non', /déplacer/], ['velo', /Merci Yanis/, /ton CV/]]);
    await play(chat, [['oui', /nom de famille/], ['Ben', /mail/], ['passer', /téléphone/], ['+33 6 11 22 33 44', /ville/]]);
    await play(chat, [['Montreuil', /quel job/], [long, /déjà travaillé/]]);
    const profile = (await env.contacts.get(chat.key))!.profile;
    expect(typeof profile.cv_target).toBe('string');
    expect((profile.cv_target as string).length).toBeLessThanOrEqual(80);
    expect(profile.cv_phone).toBe('06 11 22 33 44');
    expect(profile.cv_email).toBeNull();
  });

  test('a flow removed by a script update while someone was in it: restarts cleanly', async () => {
    const chat = new Chat(env);
    await play(chat, [...CONSENT_ROWS, ...DIAG_TO_CV_ROWS.slice(0, 6), ['cv', /déjà un CV/]]);
    // The new version renames the diagnostic flow: the stored dialog stack points at a flow that no longer exists.
    const renamed = (f: Flow): Flow => {
      const copy = JSON.parse(JSON.stringify(f).replace(/"flow":"diagnostic"/g, '"flow":"diagnostic_v2"')) as Flow;
      return copy.id === 'diagnostic' ? { ...copy, id: 'diagnostic_v2' } : copy;
    };
    const updated = new FlowRegistry(env.flows.ids().map((id) => renamed(env.flows.get(id)!)));
    expect(updated.get('diagnostic')).toBeUndefined();
    const after = new Chat(env, { userId: chat.userId, flows: updated });
    after.conversationId = chat.conversationId;
    await play(after, [['oui', /On reprend/, /déjà un CV/], ['non', /candidature/]]);
  });

  test('a script that loops without a question is stopped by the per-turn step cap', async () => {
    const looping: Flow = {
      id: 'main',
      steps: [
        { id: 'a', type: 'message', text: 'welcome.resume' },
        { id: 'b', type: 'set', var: 'x', value: 1, next: 'a' },
      ],
    };
    const flows = new FlowRegistry([looping, env.flows.get('menu')!, env.flows.get('erase')!, ...env.flows.ids().filter((id) => !['main', 'menu', 'erase'].includes(id)).map((id) => env.flows.get(id)!)]);
    const chat = new Chat(env, { flows, options: { maxStepsPerTurn: 10 } });
    const replies = await chat.send('salut');
    expect(replies.length).toBeLessThanOrEqual(10);
    expect(replies[replies.length - 1].text).toMatch(/emmêlé/);
  });
});
