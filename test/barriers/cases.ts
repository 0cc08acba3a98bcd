/**
 * Hand-written hard cases (invented, not taken from the dev corpus) used to
 * check that the lexicon generalises. [text, expected labels, expected severity]
 */
import type { BarrierLabel, Severity } from '../../src/barriers/types';

export type Case = [string, BarrierLabel[], Severity];

export const IDIOMS: Case[] = [
  ['jsuis morte de rire avec ta réponse', [], 'none'],
  ['ptdr je suis mort, ce recruteur était trop chelou', [], 'none'],
  ['je me tue à envoyer des candidatures depuis lundi', [], 'none'],
  ['cette lettre de motivation me tue, elle fait 2 pages', [], 'none'],
  ['je crève de chaud dans ce bus', [], 'none'],
  ['on crève de faim, on va au mcdo après l’atelier', [], 'none'],
  ['je tue le temps sur insta en attendant ton message', [], 'none'],
  ["c'est mort pour l'alternance chez Airbus", [], 'none'],
  ['I was dying to tell you, I got the job!', [], 'none'],
  ['this cover letter is killing me lol', [], 'none'],
  ['je suis accro au café le matin avant le boulot', [], 'none'],
  ["j'ai galéré sur word pour la mise en page", [], 'none'],
  ['je me bats pour trouver un stage', [], 'none'],
  ['je suis mort de fatigue après la journée de formation', [], 'none'],
];

export const NEGATION: Case[] = [
  ["j'ai aucun souci de logement, je loue un studio", [], 'none'],
  ["pas de problème d'argent pour l'instant", [], 'none'],
  ['non non le moral ça va, je veux juste bosser', [], 'none'],
  ["je suis pas du tout à la rue, je vis chez mon père", [], 'none'],
  ['I have no money problems, I just need a CV', [], 'none'],
  ["j'ai jamais pensé au suicide, je suis juste fatigué des refus", [], 'none'],
  ["aucun souci avec mon titre de séjour, il est valable 10 ans", [], 'none'],
  ["je n'ai pas de dettes", [], 'none'],
  ["j'ai pas de logement", ['housing'], 'high'],
  ["j'ai pas le permis", ['mobility'], 'normal'],
  ["je n'ai pas d'ordinateur chez moi", ['digital'], 'normal'],
];

export const SECTORS: Case[] = [
  ['je voudrais travailler dans le secteur de la santé', [], 'none'],
  ["j'ai un CAP et je vise un poste d'agent de sécurité", [], 'none'],
  ['je veux faire aide-soignant en ehpad', [], 'none'],
  ['mon rêve c’est de bosser dans le social, comme éducateur spécialisé', [], 'none'],
  ['je cherche une alternance comme conseillère clientèle en banque', [], 'none'],
  ["je veux devenir conseiller en insertion professionnelle", [], 'none'],
  ['je voudrais accompagner des personnes handicapées', [], 'none'],
  ['je travaille dans un foyer pour jeunes comme animateur', [], 'none'],
  ['I want to work as a care assistant in a hospital', [], 'none'],
  ['ma mère est femme au foyer et mon père est chauffeur', [], 'none'],
];

export const SMS: Case[] = [
  ['chui sdf dpuis 1 mois', ['housing'], 'high'],
  ['jpp g plus la force de rien', ['psychological'], 'high'],
  ['jsp koi faire jdors dans ma voiture', ['housing'], 'high'],
  ["g pa d'ordi ni d'internet", ['digital'], 'normal'],
  ['jveux crever', ['suicidal'], 'urgent'],
  ['g envie de me suicider', ['suicidal'], 'urgent'],
  ['jsuis en depresion', ['psychological'], 'high'],
  ['mon beau pere me frape', ['violence', 'family'], 'urgent'],
  ['ya qq1 pour me parler ?', ['human_request'], 'normal'],
  ['jfume de la beuh tt les jours jarrive plus a arreter', ['addiction'], 'high'],
  ['tkt je gère, c bon', [], 'none'],
];

export const ENGLISH: Case[] = [
  ["I'm sleeping at a friend's place, I have nowhere to live", ['housing'], 'high'],
  ["I've been thinking about killing myself", ['suicidal'], 'urgent'],
  ['My boyfriend hits me when he is drunk and I am scared', ['violence'], 'urgent'],
  ["I can't afford the train ticket to get to the interview", ['financial', 'mobility'], 'normal'],
  ["I'm deaf, phone interviews are impossible", ['health'], 'normal'],
  ['Can I talk to a real person please?', ['human_request'], 'normal'],
  ["I don't have a laptop, only my phone", ['digital'], 'normal'],
  ['I feel so lonely and worthless lately', ['psychological'], 'high'],
  ["I'm addicted to gambling and I owe money to everyone", ['addiction', 'financial'], 'high'],
  ['my residence permit expired last month', ['administrative'], 'high'],
  ['Hi! I am looking for a job in logistics', [], 'none'],
];

export const MULTI: Case[] = [
  [
    "Bonjour, j'ai 22 ans, je cherche un CDI dans la logistique. Depuis que j'ai perdu mon appart je dors chez des amis, j'ai plus de forfait et j'ai pas le permis donc c'est compliqué.",
    ['housing', 'digital', 'mobility'],
    'high',
  ],
  ['je suis maman solo, sans voiture, et je dois 2000 euros à la banque', ['financial', 'family', 'mobility'], 'high'],
  ["mon copain me frappe et il a vidé mon compte, je suis enceinte", ['violence', 'health'], 'urgent'],
  ["je bois trop depuis que j'ai perdu mon taf et je dors mal", ['addiction', 'psychological'], 'high'],
];

export const OTHERS: Case[] = [
  ['je suis épuisée, mon fils de 3 ans est malade et j’ai pas de mode de garde', ['family'], 'normal'],
  ['je dois rester chez moi pour m’occuper de ma grand-mère', ['family'], 'normal'],
  ['on m’a volé mon téléphone hier', ['digital'], 'normal'],
  ['je vis à 30 km de la ville sans transports', ['mobility'], 'normal'],
  ['je suis sortie de prison le mois dernier', ['administrative'], 'normal'],
  ['mon frère est en prison', ['family'], 'normal'],
  ['ma mère est dépressive et je gère mes petites soeurs', ['family'], 'normal'],
  ['je me fais harceler par un collègue au travail', ['violence'], 'high'],
  ['des mecs de la cité me menacent de mort', ['violence'], 'urgent'],
  ['je pense souvent à en finir', ['suicidal'], 'urgent'],
  ["mon pote s'est suicidé cet été, j'arrive pas à m'en remettre", ['psychological'], 'high'],
  ['je ne mange plus, je ne dors plus, je pleure tout le temps', ['psychological'], 'high'],
  ['je suis malade aujourd’hui, on peut décaler le rdv ?', [], 'none'],
  ['on peut se voir mardi pour le cv ?', [], 'none'],
  ['je suis à la rue ce soir avec mon bébé', ['housing', 'family'], 'urgent'],
  ['je suis tétraplégique, il faut un poste adapté', ['health'], 'normal'],
];
