import { editDistance, normalize } from './recognizers';

/** Words the young person can write at any time. */
export type Command = 'menu' | 'help' | 'restart' | 'human' | 'stop' | 'resume' | 'erase' | 'back' | 'resendCv' | 'resendLetter' | 'stopOffers' | 'startOffers' | 'mentor' | 'cancelBooking' | 'moveBooking';

/** Exact phrases (normalised: no accents, lower case) per command. */
const PHRASES: Record<Command, string[]> = {
  menu: ['menu', 'le menu', 'mnu', 'meni', 'menu principal', 'retour menu', 'retour au menu', 'main menu'],
  help: ['aide', 'aid', 'aider', 'aide moi', 'aidez moi', 'help', 'help me', 'sos', '?', 'au secours', 'je comprends pas', 'jcomprends pas', 'j comprends pas', 'comprends pas', 'chui perdu', 'je suis perdu', 'je suis perdue', 'commandes'],
  restart: ['recommencer', 'recommence', 'on recommence', 'recommencer a zero', 'tout recommencer', 'reprendre a zero', 'depuis le debut', 'restart', 'start over', 'reset', 'rcommencer', 'recomencer', 'reccomencer', 'recommancer', 'recomancer'],
  human: [
    'conseiller', 'conseillere', 'conseillers', 'un conseiller', 'une conseillere', 'humain', 'un humain', 'une personne', 'une vraie personne', 'vraie personne', 'personne reelle',
    'parler a un conseiller', 'parler a une conseillere', 'parler a quelqu un', 'parler a qqn', 'parler a un humain', 'parler a une personne', 'je veux un conseiller',
    'je veux parler a quelqu un', 'je veux parler a un conseiller', 'je veux parler a un humain', 'mediateur', 'mediatrice', 'advisor', 'adviser', 'human', 'a human', 'agent',
    'talk to someone', 'talk to a person', 'talk to a human', 'real person', 'conseiller stp', 'conseiller svp', 'conseiller pls',
  ],
  stop: ['stop', 'stopp', 'arrete', 'arret', 'arretez', 'arrete les messages', 'stop les messages', 'stop messages', 'plus de messages', 'unsubscribe', 'desabonner', 'me desabonner', 'desinscrire', 'pause'],
  resume: ['reprendre', 'reprendre les messages', 'reactiver', 'reactiver les messages', 'start', 'resume', 'unstop', 'reabonner', 'me reabonner'],
  erase: [
    'supprimer mes donnees', 'supprime mes donnees', 'suprimer mes donnees', 'supprimer mes donnes', 'suprime mes donnees', 'efface mes donnees', 'effacer mes donnees', 'supprimer mes infos',
    'supprime mes infos', 'efface mes infos', 'supprimer mon compte', 'supprime mon compte', 'supprimer toutes mes donnees', 'delete my data', 'erase my data', 'delete my account', 'supprimer donnees',
  ],
  // Back one question.
  back: [
    'retour', 'retour arriere', 'revenir', 'reviens', 'revenir en arriere', 'reviens en arriere', 'on revient en arriere', 'question precedente', 'question d avant',
    'la question d avant', 'je me suis trompe', 'je me suis trompee', 'je me suis trompe e', 'jme suis trompe', 'jme suis trompee', 'je me suis gourre',
    'je me suis gouree', 'je me suis goure', 'je me suis plante', 'je me suis plantee', 'trompe', 'erreur', 'oups erreur', 'je me suis trompe de reponse',
    'mauvaise reponse', 'j ai fait une erreur', 'jai fait une erreur', 'j ai mal repondu', 'je veux corriger', 'corriger ma reponse', 'annuler', 'undo', 'back',
    'go back', 'previous', 'previous question', 'i made a mistake', 'wrong answer', 'oops wrong answer', 'my bad',
  ],
  // Opportunities pushed by mediators: unsubscribe / subscribe (the profile's offers_optin).
  stopOffers: [
    'stop offres', 'stop offre', 'stop les offres', 'stop aux offres', 'plus d offres', 'plus d offre', 'arrete les offres', 'arreter les offres', 'pas d offres', 'je veux plus d offres',
    'je veux plus les offres', 'jveux plus d offres', 'stop offers', 'no more offers', 'stop sending offers', 'unsubscribe offers',
  ],
  startOffers: ['offres', 'les offres', 'recevoir des offres', 'recevoir les offres', 'je veux des offres', 'je veux recevoir des offres', 'je veux les offres', 'envoie moi des offres', 'offers', 'send me offers'],
  // Appointments with volunteer mentors (src/mentoring).
  mentor: [
    'mentor', 'un mentor', 'une mentore', 'mentorat', 'parler a un pro', 'parler a une pro', 'parler a un professionnel', 'parler a une professionnelle', 'rdv avec un pro', 'rdv mentor',
    'rendez vous avec un pro', 'rendez vous mentor', 'je veux un mentor', 'je veux parler a un pro', 'talk to a professional', 'a mentor', 'book a mentor',
  ],
  cancelBooking: ['annuler mon rdv', 'annule mon rdv', 'annuler le rdv', 'annuler mon rendez vous', 'annule mon rendez vous', 'annuler rdv', 'cancel my appointment', 'cancel appointment'],
  moveBooking: ['changer mon rdv', 'change mon rdv', 'deplacer mon rdv', 'decaler mon rdv', 'changer de creneau', 'changer mon rendez vous', 'deplacer mon rendez vous', 'move my appointment', 'reschedule'],
  // A fresh link to the last generated document (links expire, see FILES_LINK_DAYS).
  resendCv: [
    'mon cv', 'renvoie mon cv', 'renvoi mon cv', 'renvoyer mon cv', 'renvoie moi mon cv', 'envoie mon cv', 'envoie moi mon cv', 'je veux mon cv', 'redonne mon cv', 'le lien de mon cv',
    'nouveau lien cv', 'my cv', 'send my cv', 'resend my cv', 'my resume', 'send my resume',
  ],
  resendLetter: [
    'ma lettre', 'renvoie ma lettre', 'renvoi ma lettre', 'renvoyer ma lettre', 'renvoie moi ma lettre', 'envoie ma lettre', 'envoie moi ma lettre', 'je veux ma lettre', 'ma lettre de motivation',
    'renvoie ma lettre de motivation', 'my letter', 'send my letter', 'resend my letter', 'my cover letter', 'send my cover letter',
  ],
};

/** Single words that tolerate typos (edit distance ≤ 2 for long words). */
const FUZZY: Array<[string, Command]> = [
  ['conseiller', 'human'],
  ['conseillere', 'human'],
  ['recommencer', 'restart'],
  ['supprimer mes donnees', 'erase'],
];

const POLITE = /\s+(stp|svp|please|pls|plz|merci|steuplait|stplait|s il te plait|s il vous plait|mdr|lol|frr|frere|oups|dsl|desole|desolee)$/;
/** Wrappers around a command ("je veux le menu", "tu peux m'aider", "montre moi le menu", "on peut recommencer"). */
const WRAPPERS = /^(?:(?:bonjour|salut|slt|wesh|hey|ok|bon|euh|ah|oups|oh|dsl|desole|desolee|attends|attend|non|nan)\s+)*(?:(?:je veux|je voudrais|j aimerais|jveux|jvoudrais|je peux|est ce que je peux|est ce qu on peut|on peut|tu peux|peux tu|vous pouvez|pouvez vous|i want to|i want|can i|can you|could you|please|stp|svp)\s+)?(?:(?:me |m )?(?:montrer|montre moi|montre|affiche moi|affiche|afficher|voir|avoir|revoir|retourner au|retourner a|aller au|revenir au|retour au|retour a|show me|show|see|go to|back to)\s+)?/;

/** Wordings that are one command whatever surrounds them (normalised text; checked after the exact phrases). */
const PATTERNS: Array<[RegExp, Command]> = [
  // Erasure: "efface tout ce que tu sais sur moi", "supprime tout", "je veux que tu effaces mes infos", "oublie moi".
  [/^(?!j ai |jai |j avais )(?:.* )?(supprim|suprim|effac|efas|delete|erase|remove|oubli)\w*\b.*\b(donnees|donnes|donne|infos|info|informations|data|tout|compte|ce que tu sais|tout ce que tu sais|mes messages|historique|conversation|moi|everything|account|my info)\b/, 'erase'],
  [/^(oublie moi|forget me|forget about me|efface moi|supprime moi)$/, 'erase'],
  // Stop: "arrête de m'écrire", "ne m'écris plus", "je veux plus de messages".
  [/^(?:stop|arrete|arretez|arreter)\b(?:.* )?(?:messages?|ecrire|envoyer|notifications?|relances?|spam)\b/, 'stop'],
  [/^(?:ne )?(?:m ecris|m envoie|m envoies) plus\b|^(?:je veux|jveux) plus (?:de |tes )?messages?\b|^plus de messages?\b|^stop (?:stp|svp|please|tout)$/, 'stop'],
  // Back: "je me suis trompée de réponse", "attends je me suis trompé", "retour stp", "revenir à la question d'avant".
  [/^(?:je me suis|jme suis|me suis) (?:trompe|trompee|gourre|gourree|goure|plante|plantee)\b/, 'back'],
  [/^(?:retour|revenir|reviens)(?: (?:en )?arriere)?(?: (?:a la )?question (?:d avant|precedente))?$/, 'back'],
  // Restart: "je veux tout recommencer", "on reprend depuis le début", "start again".
  [/^(?:tout )?(?:recommencer|recommence|reprendre|reprend|refaire)\b.*\b(?:debut|zero|0)\b|^(?:tout )?recommencer?$|^start (?:again|over)$/, 'restart'],
  // Menu: "le menu", "menu principal", "retour au menu".
  [/^(?:le |au |du )?menu(?: principal)?$|^main menu$/, 'menu'],
  // Help: "comment ça marche", "tu fais quoi", "c'est quoi les commandes".
  [/^(?:comment ca marche|comment ca fonctionne|tu sers a quoi|tu fais quoi|tu peux faire quoi|c est quoi les commandes|quelles commandes|les commandes|how does it work|what can you do|m aider|aide moi|de l aide|help)$/, 'help'],
  // A person: "je veux parler à un conseiller", "passe moi quelqu'un", "un vrai humain".
  [/^(?:parler|discuter|passe moi|passez moi|mets moi en contact avec|talk to|speak to|speak with)\b.*\b(?:conseiller|conseillere|humain|personne|quelqu un|qqn|mediateur|mediatrice|someone|human|person|advisor|adviser)\b|^(?:un |une )?(?:vrai |vraie )?(?:humain|personne reelle|conseiller|conseillere)(?: stp| svp)?$/, 'human'],
];

/** The global command a message is, or undefined. Only short messages that ARE the command count ("conseiller clientèle" is not). */
export function detectCommand(text: string | undefined): Command | undefined {
  if (!text || text.length > 80) return undefined;
  let n = normalize(text).replace(/'/g, ' ').replace(/\s+/g, ' ').trim();
  if (!n && text.trim() === '?') n = '?';
  n = n.replace(POLITE, '').trim();
  for (const [cmd, phrases] of Object.entries(PHRASES) as Array<[Command, string[]]>) {
    if (phrases.includes(n)) return cmd;
  }
  for (const [word, cmd] of FUZZY) {
    if (Math.abs(n.length - word.length) <= 2 && editDistance(n, word, 2) <= (word.length >= 9 ? 2 : 1)) return cmd;
  }
  // Any wording: the command inside a short sentence ("je veux le menu stp", "efface tout ce que tu sais sur moi").
  const core = n.replace(WRAPPERS, '').replace(POLITE, '').trim();
  if (core && core !== n) for (const [cmd, phrases] of Object.entries(PHRASES) as Array<[Command, string[]]>) if (phrases.includes(core)) return cmd;
  for (const [re, cmd] of PATTERNS) if (re.test(n) || (core && re.test(core))) return cmd;
  return undefined;
}
