import { editDistance, normalize } from './recognizers';

/** Words the young person can write at any time. */
export type Command = 'menu' | 'help' | 'restart' | 'human' | 'stop' | 'resume' | 'erase' | 'resendCv' | 'resendLetter';

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

const POLITE = /\s+(stp|svp|please|pls|plz|merci|steuplait|stplait|s il te plait|s il vous plait)$/;

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
  return undefined;
}
