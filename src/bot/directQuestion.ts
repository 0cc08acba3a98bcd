/**
 * The direct question (first questions of the Columbia screener, C-SSRS):
 * asked when distress shows without certainty. Only a clear "no" is read as
 * no; yes, "parfois", "jsp", "peut-être", or anything else takes the urgent
 * path (asking does not increase risk; missing a yes can cost a life).
 */
export type DirectAnswer = 'no' | 'yes' | 'sometimes' | 'unsure' | 'other';

/** How long after asking the question is not asked again in the conversation. */
export const DIRECT_QUESTION_EVERY_MS = 24 * 60 * 60 * 1000;

function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[’`]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const NO = /^(non|nn|nan|nah|nope|no|niet|pas du tout|absolument pas|jamais|never|not at all|non jamais|no never)( (merci|ca va|ca va merci|pas du tout|jamais|pas vraiment du tout|never|thanks|i'?m (fine|ok|good)|je vais bien|t'inquiete|tkt|c'est bon|pas du tout merci))*$/;
const HEDGE = /\b(parfois|des fois|souvent|peut ?etre|ptet|ptetre|mais|oui|ouais|ui|ouai|wai|jsp|j'?sais pas|je sais pas|sais pas|chai pas|bof|enfin|un peu|sometimes|maybe|but|yes|yeah|idk|not sure|kinda|a bit)\b/;
const YES = /^(oui|ouais|ouai|ui|wi|wai|yes|yeah|yep|grave|carrement|trop|tout le temps|souvent|all the time)\b/;
const SOMETIMES = /\b(parfois|des fois|ca arrive|ca m'arrive|sometimes)\b/;
const UNSURE = /\b(jsp|j'?sais pas|je sais pas|sais pas|chai pas|peut ?etre|ptet|ptetre|bof|idk|not sure|maybe|dunno)\b/;

/** Classifies the answer to the direct question, SMS style included ("ouais", "ui", "bof", "nn", "nan", "jsp", "non ça va"). */
export function classifyDirectAnswer(text: string): DirectAnswer {
  const t = normalise(text);
  if (t && NO.test(t) && !HEDGE.test(t.replace(/^(non|nn|nan|no)\b/, ''))) return 'no';
  if (SOMETIMES.test(t)) return 'sometimes';
  if (UNSURE.test(t)) return 'unsure';
  if (YES.test(t)) return 'yes';
  return 'other';
}
