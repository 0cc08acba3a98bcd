/**
 * Chat text → document text. Everything a young person typed goes through here before it is printed on a CV or a
 * letter: SMS spelling expanded, junk answers ("passer", "jsp", "je t'ai dit") dropped, capitalisation and
 * punctuation fixed, dates normalised ("mars 2024 – juin 2024"), tasks turned into bullets starting with a verb.
 * Pure functions; French grammar helpers (elision) are at the end.
 */

const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .trim();

/** SMS and chat spellings → written French (whole words, any case). */
const SMS: Array<[RegExp, string]> = ([
  [/\bj'?suis\b|\bchui\b|\bchuis\b|\bjsui\b/gi, 'je suis'],
  [/\bj'?sais\b/gi, 'je sais'],
  [/\bj'?aime\b/gi, "j'aime"],
  [/\bjai\b/gi, "j'ai"],
  [/\bg\b(?=\s+(?:fait|travaill|bosse|eu|un|une|des|le|la|du|de|pa|pas|appris|envie))/gi, "j'ai"],
  [/\bc\b(?=\s)/gi, "c'est"],
  [/\bcest\b/gi, "c'est"],
  [/\bpr\b/gi, 'pour'],
  [/\bpk\b|\bpq\b|\bpkoi\b/gi, 'pourquoi'],
  [/\bbcp\b/gi, 'beaucoup'],
  [/\bds\b/gi, 'dans'],
  [/\bmtn\b|\bmaintnant\b/gi, 'maintenant'],
  [/\btjr?s?\b/gi, 'toujours'],
  [/\btt\b/gi, 'tout'],
  [/\bqd\b|\bqnd\b/gi, 'quand'],
  [/\bpa\b/gi, 'pas'],
  [/\bkan\b/gi, 'quand'],
  [/\bslt\b/gi, ''],
  [/\bstp\b|\bsvp\b/gi, ''],
  [/\bpb\b/gi, 'problème'],
  [/\bboulo\b/gi, 'boulot'],
  [/\bpres\b/gi, 'près'],
  [/\bequipe\b/gi, 'équipe'],
  [/\bmotive\b/gi, 'motivé'],
  [/\bserieux\b/gi, 'sérieux'],
  [/\bsouriant\b/gi, 'souriant'],
  [/\bdynamik\b/gi, 'dynamique'],
  [/\bexperience\b/gi, 'expérience'],
  [/\bmcdo\b/gi, 'McDonald’s'],
  [/\bmotivee\b/gi, 'motivée'],
  [/\bmotivees?\b/gi, 'motivées'],
  [/\bequipi(er|ere)\b/gi, 'équipi$1'],
  [/\bequipiere\b/gi, 'équipière'],
  [/\bprepara(teur|trice)\b/gi, 'prépara$1'],
  [/\bemploye(e?)\b/gi, 'employé$1'],
  [/\blycee\b/gi, 'lycée'],
  [/\bcollege\b/gi, 'collège'],
  [/\becole\b/gi, 'école'],
  [/\betudes\b/gi, 'études'],
  [/\bserieuse\b/gi, 'sérieuse'],
  [/\breacti(f|ve)\b/gi, 'réacti$1'],
  [/\benergique\b/gi, 'énergique'],
  [/\bagreable\b/gi, 'agréable'],
  [/\bpolie\b/gi, 'polie'],
  [/\bmenage\b/gi, 'ménage'],
  [/\bcafe\b/gi, 'café'],
  [/\bsecurite\b/gi, 'sécurité'],
  [/\bvideo\b/gi, 'vidéo'],
  [/\b(cap|bep|bts|dut|but|bafa|caces|sst|psc1|cdi|cdd|rqth|dnb|cfa|rer)\b/gi, (m: string) => m.toUpperCase()],
] as Array<[RegExp, string | ((m: string) => string)]>) as Array<[RegExp, string]>;

const LETTER = '[\\p{L}\\p{N}]';

/** A regex whose `\b` are Unicode-aware ("pr" must not match inside "préparateur"): a `\b` at the start of an alternative is a start boundary, any other an end boundary. */
export function unicodeWords(re: RegExp): RegExp {
  let out = '';
  const src = re.source;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '\\' && src[i + 1] === 'b') {
      const before = out.replace(/\(\?:$/, '(');
      const atStart = before === '' || /[|(]$/.test(before);
      out += atStart ? `(?<!${LETTER})` : `(?!${LETTER})`;
      i++;
    } else if (src[i] === '\\') {
      out += src[i] + (src[i + 1] ?? '');
      i++;
    } else out += src[i];
  }
  return new RegExp(out, re.flags.includes('u') ? re.flags : `${re.flags}u`);
}

const SMS_U: Array<[RegExp, string]> = SMS.map(([re, to]) => [unicodeWords(re), to]);

/** Fragments that are never part of an answer: "je te l'ai dit", "lol", "mdr", emoji. */
const NOISE = [
  /\b(?:j'?t'?ai\s*dit|jte\s*l'?ai\s*dit|jtai\s*dit|je\s+t'?ai\s+dit|je\s+te\s+l'?ai\s+dit|comme\s+j'?ai\s+dit|deja\s+dit|déjà\s+dit)\b/gi,
  /\b(?:lol|mdr|ptdr|xd|wesh|frr?|frère|frérot|genre|jsp|jsais pas|je sais pas|chais pas)\b/gi,
  /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u200d\ufe0f]/gu,
];

/** Whole answers that mean "nothing / I don't know / skip": never printed. */
const JUNK = new Set(
  [
    'passer', 'passe', 'pass', 'skip', 'jsp', 'jsais pas', 'je sais pas', 'je ne sais pas', 'sais pas', 'chais pas', 'chépa', 'chepa', 'jsais pa',
    'idk', "i don't know", 'i dont know', 'dunno', 'rien', 'nothing', 'none', 'aucun', 'aucune', 'non', 'no', 'nan', 'pas de', 'pas d',
    'aucune idee', 'bof', 'ok', 'oui', 'yes', 'ouais', 'euh', 'hmm', 'jamais', 'never', 'n/a', 'na', 'x', '?', '...', 'rien du tout', 'pas encore',
    'je te l ai dit', 'je t ai dit', 'jtai dit', 'jte l ai dit', 'deja dit',
  ].map(fold),
);

/** Expands SMS spelling and removes noise; undefined for a junk answer. */
export function cleanChat(input: unknown): string | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  let s = String(input).replace(/\s+/g, ' ').trim();
  for (const re of NOISE) s = s.replace(re, ' ');
  s = s.replace(/\s+/g, ' ').replace(/^[\s,.;:!?-]+|[\s,;:-]+$/g, '').trim();
  if (!s || JUNK.has(fold(s).replace(/[.!?]+$/, '').replace(/'/g, ' ').replace(/\s+/g, ' ')) || JUNK.has(fold(s).replace(/[.!?]+$/, ''))) return undefined;
  if (!/\p{L}|\d/u.test(s)) return undefined;
  // SHOUTED text ("JE SUIS MOTIVÉ") is lowered; acronyms (CAP, BTS) come back with the table below.
  if (s.length > 6 && s === s.toUpperCase() && /\p{Lu}{4}/u.test(s)) s = s.toLowerCase();
  for (const [re, to] of SMS_U) s = s.replace(re, to);
  s = s
    .replace(/\s+/g, ' ')
    .replace(/([!?.]){2,}/g, '$1')
    .replace(/\s+([,.])/g, '$1')
    .replace(/,(?=\S)/g, ', ')
    .trim();
  return s || undefined;
}

export function capitalise(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/** A sentence: cleaned, capitalised, ending with a full stop. */
export function sentence(input: unknown): string | undefined {
  const s = cleanChat(input);
  if (!s) return undefined;
  const t = capitalise(s);
  return /[.!?…]$/.test(t) ? t.replace(/[!]+$/, '.') : `${t}.`;
}

/** A short field (title, school): cleaned, capitalised, no final punctuation. */
export function field(input: unknown): string | undefined {
  const s = cleanChat(input);
  return s ? capitalise(s.replace(/[.!…]+$/, '').trim()) : undefined;
}

const SMALL_WORDS = new Set(['de', 'du', 'des', 'la', 'le', 'les', 'sur', 'sous', 'en', 'lès', 'lez', 'et', 'aux', 'au', "d'", "l'"]);

/** "bobigny jtai dit" → "Bobigny"; "aulnay sous bois" → "Aulnay-sous-Bois"; "saint denis" → "Saint-Denis". */
export function cleanPlace(input: unknown): string | undefined {
  const s = cleanChat(input);
  if (!s) return undefined;
  const t = s.replace(/^(?:j'?habite|jhabite|je vis|j'?suis|je suis|i live)\s+(?:à|a|sur|in|at)\s+/i, '').replace(/^(?:à|a)\s+/i, '').replace(/\s*\d{5}\s*/, ' ').trim();
  if (!t) return undefined;
  const words = t.toLowerCase().split(/\s+/);
  const compound = words.length > 1 && (words.includes('saint') || words.includes('sainte') || words.some((w) => ['sur', 'sous', 'lès', 'les', 'le', 'la', 'en'].includes(w)));
  const out = words.map((w, i) => (i > 0 && SMALL_WORDS.has(w) ? w : w.split('-').map(capitalise).join('-')));
  return compound ? out.join('-').replace(/-(Le|La|Les)-/g, (m) => m.toLowerCase()) : out.join(' ');
}

// ---------------------------------------------------------------- dates

const MONTHS: Array<[RegExp, number]> = [
  [/^(janv?|janvier|jan|january)\.?$/, 1],
  [/^(fevr?|fevrier|feb|february)\.?$/, 2],
  [/^(mars|mar|march)$/, 3],
  [/^(avr|avril|apr|april)\.?$/, 4],
  [/^(mai|may)$/, 5],
  [/^(juin|june|jun)$/, 6],
  [/^(juil|juillet|july|jul)\.?$/, 7],
  [/^(aout|aug|august)$/, 8],
  [/^(sept?|septembre|september)\.?$/, 9],
  [/^(oct|octobre|october)\.?$/, 10],
  [/^(nov|novembre|november)\.?$/, 11],
  [/^(dec|decembre|december)\.?$/, 12],
];
const MONTH_NAMES = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
const SEASONS: Array<[RegExp, number, number, string]> = [
  [/^(ete|summer)$/, 6, 8, 'Été'],
  [/^(hiver|winter)$/, 12, 2, 'Hiver'],
  [/^(printemps|spring)$/, 3, 5, 'Printemps'],
  [/^(automne|autumn|fall)$/, 9, 11, 'Automne'],
];

interface YM {
  y: number;
  m?: number;
}

export interface Period {
  /** "mars 2024 – juin 2024", "Été 2024 (2 mois)", "depuis septembre 2025". */
  text: string;
  /** Sort key (year * 12 + month of the end, or of the start): most recent first. */
  sortKey: number;
}

const ONGOING = /\b(en cours|aujourd'?hui|maintenant|actuellement|toujours|now|present|current|currently|ongoing|depuis|since)\b/;

/** Normalises a free-text period; undefined when nothing date-like is found (the raw text is then not printed). */
export function normalisePeriod(input: unknown, now: Date): Period | undefined {
  const raw = cleanChat(input);
  if (!raw) return undefined;
  const f = fold(raw).replace(/[’']/g, "'");
  const tokens = f.split(/[\s,–—-]+|(?<=\d)(?=[a-z])/).filter(Boolean);
  const points: Array<YM & { season?: string; seasonEnd?: number }> = [];
  let pendingMonth: number | undefined;
  let pendingSeason: (typeof SEASONS)[number] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i].replace(/\.$/, '');
    const month = MONTHS.find(([re]) => re.test(t))?.[1];
    const season = SEASONS.find(([re]) => re.test(t));
    const numeric = t.match(/^(\d{1,2})\/(\d{4})$/);
    if (numeric) points.push({ y: Number(numeric[2]), m: Number(numeric[1]) });
    else if (month) pendingMonth = month;
    else if (season) pendingSeason = season;
    else if (/^(19|20)\d{2}$/.test(t)) {
      const y = Number(t);
      if (pendingSeason) points.push({ y, m: pendingSeason[1], season: pendingSeason[3], seasonEnd: pendingSeason[2] });
      else points.push({ y, m: pendingMonth });
      // "de mars à juin 2024": the first month takes the year of the second.
      pendingMonth = undefined;
      pendingSeason = undefined;
    }
  }
  const unyearedMonths = tokens.map((t) => MONTHS.find(([re]) => re.test(t.replace(/\.$/, '')))?.[1]).filter((m): m is number => m !== undefined);
  if (points.length === 1 && unyearedMonths.length === 2 && points[0].m === unyearedMonths[1]) points.unshift({ y: points[0].y, m: unyearedMonths[0] });
  if (!points.length && pendingMonth) {
    // "depuis mars": the last such month up to today.
    const y = pendingMonth <= now.getUTCMonth() + 1 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
    points.push({ y, m: pendingMonth });
  }
  const duration = f.match(/(\d+|un|une|deux|trois|quatre|cinq|six)\s*(mois|semaines?|ans?|months?|weeks?|years?)\b/);
  const durationText = duration ? formatDuration(duration[1], duration[2]) : undefined;
  const ongoing = ONGOING.test(f);
  const fmt = (p: YM) => (p.m ? `${MONTH_NAMES[p.m - 1]} ${p.y}` : String(p.y));
  const key = (p: YM) => p.y * 12 + (p.m ?? 12);
  const nowKey = now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
  if (!points.length) return durationText ? { text: capitalise(durationText), sortKey: 0 } : undefined;
  const first = points[0];
  if (points.length >= 2) {
    const last = points[points.length - 1];
    const a = fmt(first);
    const b = fmt(last);
    return { text: a === b ? a : `${a} – ${b}`, sortKey: key(last) };
  }
  if (first.season) {
    const label = first.season === 'Hiver' ? `Hiver ${first.y}-${first.y + 1}` : `${first.season} ${first.y}`;
    return { text: durationText ? `${label} (${durationText})` : label, sortKey: first.y * 12 + (first.seasonEnd ?? 12) };
  }
  if (ongoing) return { text: `depuis ${fmt(first)}`, sortKey: nowKey };
  return { text: durationText ? `${fmt(first)} (${durationText})` : fmt(first), sortKey: key(first) };
}

const NUM_WORDS: Record<string, number> = { un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6 };
function formatDuration(n: string, unit: string): string {
  const k = NUM_WORDS[n] ?? Number(n);
  const u = unit.startsWith('sem') || unit.startsWith('week') ? (k > 1 ? 'semaines' : 'semaine') : unit.startsWith('an') || unit.startsWith('year') ? (k > 1 ? 'ans' : 'an') : 'mois';
  return `${k} ${u}`;
}

// ---------------------------------------------------------------- tasks

/** Nouns a task often starts with → the verb a CV uses. */
const NOUN_TO_VERB: Array<[RegExp, string]> = [
  [/^(l'?)?accueil\b( des| du| de)?/, 'Accueillir'],
  [/^(la )?mise en rayon( des| du| de)?/, 'Mettre en rayon'],
  [/^(l'?)?encaissement( des| du| de)?/, 'Encaisser'],
  [/^(le )?nettoyage( des| du| de)?/, 'Nettoyer'],
  [/^(la )?preparation( des| du| de)?/, 'Préparer'],
  [/^(la )?gestion( des| du| de)?/, 'Gérer'],
  [/^(la )?vente( des| du| de)?/, 'Vendre'],
  [/^(la )?livraison( des| du| de)?/, 'Livrer'],
  [/^(le )?service( des| du| de)?/, 'Servir'],
  [/^(le )?conseil( des| du| de| aux| au)?/, 'Conseiller'],
  [/^(la )?reception( des| du| de)?/, 'Réceptionner'],
  [/^(le )?rangement( des| du| de)?/, 'Ranger'],
  [/^(l'?)?entretien( des| du| de)?/, 'Entretenir'],
  [/^(l'?)?animation( des| du| de)?/, 'Animer'],
  [/^(l'?)?aide( aux| au| a)?/, 'Aider'],
  [/^(la )?garde( des| de| d')?/, 'Garder'],
  [/^(la )?prise( de| des)? commandes?/, 'Prendre les commandes'],
  [/^(le )?(travail|taf) en equipe/, 'Travailler en équipe'],
  [/^(la )?caisse\b/, 'Tenir la caisse'],
  [/^(la )?distribution( des| du| de)?/, 'Distribuer'],
  [/^(la )?plonge\b/, 'Faire la plonge'],
  [/^(le )?menage\b/, 'Faire le ménage'],
  [/^(l'?)?inventaire\b/, "Faire l'inventaire"],
  [/^(le )?reassort\b/, 'Faire le réassort'],
  [/^(la )?surveillance( des| du| de)?/, 'Surveiller'],
  [/^(l'?)?organisation( des| du| de)?/, 'Organiser'],
  [/^(l'?)?installation( des| du| de)?/, 'Installer'],
  [/^(le )?tri( des| du| de)?/, 'Trier'],
  [/^(l'?)?emballage( des| du| de)?/, 'Emballer'],
  [/^(l'?)?etiquetage( des| du| de)?/, 'Étiqueter'],
  [/^(le )?chargement( des| du| de)?/, 'Charger'],
  [/^(le )?dechargement( des| du| de)?/, 'Décharger'],
  [/^(la )?conduite( des| du| de)?/, 'Conduire'],
  [/^(la )?decoupe( des| du| de)?/, 'Découper'],
  [/^(la )?cuisson( des| du| de)?/, 'Cuire'],
  [/^(l'?)?encadrement( des| du| de)?/, 'Encadrer'],
  [/^(le )?soutien scolaire\b/, 'Donner du soutien scolaire'],
  [/^(les )?devoirs\b/, 'Aider aux devoirs'],
];

/** First-person forms ("je servais", "j'ai rangé") → infinitive. */
const CONJUGATED: Array<[RegExp, string]> = [
  [/^(je |j')?(servais|sers|ai servi)\b/, 'Servir'],
  [/^(je |j')?(faisais|fais|ai fait)\b/, 'Faire'],
  [/^(je |j')?(accueillais|accueille|ai accueilli)\b/, 'Accueillir'],
  [/^(je |j')?(vendais|vends|ai vendu)\b/, 'Vendre'],
  [/^(je |j')?(repondais|reponds|ai repondu)\b/, 'Répondre'],
  [/^(je |j')?(tenais|tiens|ai tenu)\b/, 'Tenir'],
  [/^(je |j')?(prenais|prends|ai pris)\b/, 'Prendre'],
  [/^(je |j')?(mettais|mets|ai mis)\b/, 'Mettre'],
  [/^(je m'|j'me |je me )(occupais|occupe|suis occupee?)\b/, "S'occuper"],
  [/^(je |j')?(remplissais|remplis|ai rempli)\b/, 'Remplir'],
  [/^(je |j')?(conduisais|conduis|ai conduit)\b/, 'Conduire'],
];

function startWithVerb(task: string): string {
  const f = fold(task);
  for (const [re, verb] of CONJUGATED) {
    const m = f.match(re);
    if (m) return `${verb}${task.slice(m[0].length)}`;
  }
  // Regular -er verbs in the first person: "je rangeais les rayons" → "Ranger les rayons".
  const er = task.match(/^(?:je |j')(\p{L}+?)(?:ais|ait|e)\b/iu);
  if (er && !/^(?:je |j')(suis|etais|avais)\b/i.test(fold(task))) {
    const stem = er[1].replace(/e$/, '').replace(/ge$/, 'g');
    return `${capitalise(stem)}er${task.slice(er[0].length)}`;
  }
  const pastEr = task.match(/^j'ai (\p{L}+)é(e?s?)\b/iu);
  if (pastEr) return `${capitalise(pastEr[1])}er${task.slice(pastEr[0].length)}`;
  for (const [re, verb] of NOUN_TO_VERB) {
    const m = f.match(re);
    if (m) {
      const prep = (m[m.length - 1] ?? '').trim();
      const article: Record<string, string> = { des: 'les ', du: 'le ', aux: 'les ', au: 'le ', de: '', a: '', "d'": '' };
      const rest = task.slice(m[0].length).trim();
      return `${verb} ${prep ? article[prep] ?? '' : ''}${rest}`.replace(/\s+/g, ' ').trim();
    }
  }
  return capitalise(task);
}

/** "accueil des clients, mise en rayon et encaissement" → ["Accueillir les clients", "Mettre en rayon", "Encaisser"]. */
export function taskBullets(input: unknown): string[] {
  // Tasks picked from the suggestions come one per line: lines are kept whole ("Charger et décharger…").
  if (typeof input === 'string' && input.includes('\n')) {
    return input
      .split('\n')
      .map((t) => cleanChat(t))
      .filter((t): t is string => Boolean(t))
      .map((t) => startWithVerb(t).replace(/[.!]+$/, ''))
      .slice(0, 4);
  }
  const s = cleanChat(input);
  if (!s) return [];
  return s
    .split(/\s*(?:[,;•]|\s-\s|\bet\b|\bpuis\b|\band\b|\+)\s*/i)
    .map((t) => t.replace(/^(?:je faisais|j'ai fait|j'faisais)\s+(?=(?:l'|la |le |les |de |des |du )?\p{L})/iu, '').trim())
    .map((t) => cleanChat(t))
    .filter((t): t is string => Boolean(t) && t!.length >= 3)
    .map((t) => startWithVerb(t).replace(/[.!]+$/, ''))
    .slice(0, 4);
}

// ---------------------------------------------------------------- languages

const LANG_NAMES: Array<[RegExp, string]> = [
  [/^(francais|french|fr)$/, 'Français'],
  [/^(anglais|english|eng|en)$/, 'Anglais'],
  [/^(arabe|arabic|darija)$/, 'Arabe'],
  [/^(espagnol|spanish)$/, 'Espagnol'],
  [/^(portugais|portuguese)$/, 'Portugais'],
  [/^(italien|italian)$/, 'Italien'],
  [/^(allemand|german)$/, 'Allemand'],
  [/^(turc|turkish)$/, 'Turc'],
  [/^(roumain|romanian)$/, 'Roumain'],
  [/^(russe|russian)$/, 'Russe'],
  [/^(chinois|mandarin|chinese)$/, 'Chinois'],
  [/^(wolof)$/, 'Wolof'],
  [/^(bambara)$/, 'Bambara'],
  [/^(soninke)$/, 'Soninké'],
  [/^(lingala)$/, 'Lingala'],
  [/^(tamoul|tamil)$/, 'Tamoul'],
  [/^(ourdou|urdu)$/, 'Ourdou'],
  [/^(bengali)$/, 'Bengali'],
  [/^(kabyle|berbere|amazigh|tamazight)$/, 'Kabyle'],
  [/^(creole)$/, 'Créole'],
  [/^(polonais|polish)$/, 'Polonais'],
  [/^(ukrainien|ukrainian)$/, 'Ukrainien'],
  [/^(persan|farsi|dari|persian)$/, 'Persan'],
  [/^(pachto|pashto)$/, 'Pachto'],
  [/^(tigrinya)$/, 'Tigrinya'],
  [/^(lsf|langue des signes)$/, 'Langue des signes française'],
];
const LEVELS: Array<[RegExp, string]> = [
  [/\b(maternelle?|natale?|natif|native|mother tongue|langue maternelle)\b/, 'langue maternelle'],
  [/\b(bilingue|bilingual)\b/, 'bilingue'],
  [/\b(courant|couramment|fluent|fluently)\b/, 'courant'],
  [/\b(c1|c2)\b/, 'courant'],
  [/\b(b1|b2|intermediaire|intermediate|moyen|correct|bien|good)\b/, 'intermédiaire'],
  [/\b(scolaire|school|lycee|college)\b/, 'scolaire'],
  [/\b(notions?|un peu|basic|basics|a1|a2|debutant|beginner|little|a bit)\b/, 'notions'],
];

/** "français, arabe, anglais scolaire" → ["Français", "Arabe", "Anglais : scolaire"]. */
export function languageItems(input: unknown): string[] {
  const s = cleanChat(input);
  if (!s) return [];
  const out: string[] = [];
  for (const part of s.split(/\s*(?:[,;/\n]|\bet\b|\band\b|\+)\s*/i)) {
    const f = fold(part).replace(/[()]/g, ' ');
    if (!f) continue;
    const words = f.split(/\s+/);
    const name = words.map((w) => LANG_NAMES.find(([re]) => re.test(w))?.[1]).find(Boolean) ?? (LANG_NAMES.find(([re]) => re.test(f))?.[1]);
    if (!name) continue;
    const level = LEVELS.find(([re]) => re.test(f))?.[1];
    const item = level ? `${name} : ${level}` : name;
    if (!out.some((o) => o.startsWith(name))) out.push(item);
  }
  return out;
}

// ---------------------------------------------------------------- lists

/** "foot, cuisine et jeux vidéo" → ["Foot", "Cuisine", "Jeux vidéo"], junk dropped, duplicates removed. */
export function listItems(input: unknown, max = 8): string[] {
  const s = cleanChat(input);
  if (!s) return [];
  const seen = new Set<string>();
  return s
    .split(/\s*(?:[,;/\n•]|\bet\b|\band\b|\s-\s|\+)\s*/i)
    .map((x) => field(x))
    .filter((x): x is string => Boolean(x) && x!.length >= 2)
    .filter((x) => (seen.has(fold(x)) ? false : (seen.add(fold(x)), true)))
    .slice(0, max);
}

// ---------------------------------------------------------------- French grammar

const H_ASPIRE = /^(h[aâ]ut|hall|hand|hangar|hamac|harc|hasard|h[ée]ros|hibou|hockey|hon(te|teux)|hors|houle|hu[ée]e|hurl)/i;

/** Whether French elides before this word ("d'employé", "qu'apprenti", "l'hôtel"). */
export function elides(word: string): boolean {
  const w = word.trim();
  if (!w) return false;
  if (/^h/i.test(w)) return !H_ASPIRE.test(w);
  return /^[aeiouyàâäéèêëîïôöûüœæ]/i.test(w);
}

/** "de" + word with elision: de('employé') → "d'employé", de('vendeuse') → "de vendeuse". */
export function de(word: string): string {
  return elides(word) ? `d'${word.trim()}` : `de ${word.trim()}`;
}

/** "que" + word with elision: que('apprenti') → "qu'apprenti". */
export function que(word: string): string {
  return elides(word) ? `qu'${word.trim()}` : `que ${word.trim()}`;
}

/** "le/la" + word when the gender is unknown: "l'" before a vowel, else undefined (the caller avoids the article). */
export function jobForPhrase(title: string): string {
  // A job title inside a sentence is lower case, except proper nouns and acronyms ("agent SNCF", "CAP").
  return title
    .split(/\s+/)
    .map((w, i, all) => ((i === 0 || all[i - 1] === '/') && /^\p{Lu}\p{Ll}/u.test(w) ? w.charAt(0).toLowerCase() + w.slice(1) : w))
    .join(' ');
}

/** "Serveur / Serveuse" with the person's own word when they typed one of the two forms. */
export function pickGenderForm(generic: string, typed: string): string {
  const forms = generic.split(/\s*\/\s*/);
  if (forms.length < 2) return generic;
  const t = fold(typed);
  const hit = forms.find((f) => t.includes(fold(f)));
  return hit ?? generic;
}

/** Whether a text is (mostly) English: the letter then uses only templates, never the raw words. */
export function looksEnglish(text: string): boolean {
  const words = fold(text).split(/[^a-z']+/).filter(Boolean);
  if (words.length < 2) return false;
  const en = words.filter((w) => /^(the|and|i|i'm|im|my|to|of|is|am|are|it|it's|close|home|because|like|love|want|work|team|people|learn|good|great|with|for|you|your|this|near|job|store|shop|products|customers)$/.test(w)).length;
  const fr = words.filter((w) => /^(le|la|les|et|je|j'|de|du|des|est|c'est|pour|avec|chez|moi|suis|mon|ma|mes|pres|aime|travail|equipe|clients|produits)$/.test(w)).length;
  return en > fr && en >= 1;
}

// ---------------------------------------------------------------- English answers on a French document

const EN_FR: Array<[RegExp, string]> = [
  [/^punctual(ity)?$/, 'Ponctualité'],
  [/^(friendly|sociable|outgoing)$/, 'Sens du contact'],
  [/^good with numbers$/, 'Aisance avec les chiffres'],
  [/^(hard ?working|hardworker)$/, "Goût de l'effort"],
  [/^(reliable|trustworthy)$/, 'Fiabilité'],
  [/^motivated$/, 'Motivation'],
  [/^(team ?player|teamwork|team work)$/, 'Travail en équipe'],
  [/^(organi[sz]ed|organi[sz]ation)$/, 'Organisation'],
  [/^patient$/, 'Patience'],
  [/^polite$/, 'Politesse'],
  [/^(fast|quick)$/, 'Rapidité'],
  [/^(flexible|versatile)$/, 'Polyvalence'],
  [/^creative$/, 'Créativité'],
  [/^honest$/, 'Honnêteté'],
  [/^customer service$/, 'Service client'],
  [/^(smiling|cheerful)$/, 'Sourire et bonne humeur'],
  [/^music$/, 'Musique'],
  [/^(church )?choir$/, 'Chorale'],
  [/^(football|soccer)$/, 'Football'],
  [/^cooking$/, 'Cuisine'],
  [/^reading$/, 'Lecture'],
  [/^danc(e|ing)$/, 'Danse'],
  [/^(video ?games|gaming)$/, 'Jeux vidéo'],
  [/^sports?$/, 'Sport'],
  [/^basketball$/, 'Basket'],
  [/^drawing$/, 'Dessin'],
  [/^travel(l?ing)?$/, 'Voyages'],
  [/^high school diploma/, "Diplôme de fin d'études secondaires"],
  [/^(the )?red cross$/, 'Croix-Rouge'],
  [/^(the )?salvation army$/, 'Armée du Salut'],
];

/** An English item on a French document: its French equivalent when we know it, else the item unchanged. */
export function frenchOf(item: string): string {
  const f = fold(item);
  const paren = item.match(/\s*(\([^)]*\))\s*$/)?.[1];
  const base = paren ? fold(item.slice(0, item.length - paren.length - 1)) : f;
  const hit = EN_FR.find(([re]) => re.test(base));
  return hit ? `${hit[1]}${paren ? ` ${paren}` : ''}` : item;
}

/** Whether a short answer is English (for tasks, skills): -ing forms or common English words, no French accents. */
export function isEnglishPhrase(text: string): boolean {
  if (/[éèêàùçô]/i.test(text)) return false;
  return looksEnglish(text) || /\b[a-z]{3,}ing\b/i.test(text);
}
