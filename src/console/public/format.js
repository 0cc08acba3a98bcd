// French labels and formatting for the console.

export const LABELS = {
  suicidal: 'Idées suicidaires',
  violence: 'Violences',
  psychological: 'Santé psychologique',
  housing: 'Logement',
  financial: 'Argent',
  health: 'Santé',
  addiction: 'Addictions',
  administrative: 'Démarches administratives',
  family: 'Famille',
  digital: 'Numérique',
  mobility: 'Mobilité',
  human_request: 'Demande à parler à quelqu’un',
};

export const SEVERITIES = { urgent: 'URGENT', high: 'Priorité haute', normal: 'Normale', none: 'Aucune' };

export const STATES = { bot: 'Avec le bot', waiting: 'En attente', with_mediator: 'Prise en charge', closed: 'Close' };

export const CHANNELS = { whatsapp: 'WhatsApp', messenger: 'Messenger', emulator: 'Emulator', webchat: 'Web', msteams: 'Teams' };

export const REASONS = {
  urgent: 'message urgent',
  high: 'difficulté importante',
  human_request: 'a demandé un humain',
  reprompt_failures: 'le bot ne comprenait pas',
  script: 'fin du parcours',
  mediator: 'médiateur',
  handoff_event: 'transfert',
};

export const DELIVERY = { pending: 'En attente d’envoi', retrying: 'Envoi en cours de réessai', sent: 'Envoyé', delivered: 'Distribué', read: 'Lu', failed: 'Échec de l’envoi' };

export const FOLLOWUP_STATUS = { scheduled: 'Programmée', sending: 'En cours d’envoi', sent: 'Envoyée', failed: 'Échec', skipped_paused: 'Non envoyée (jeune en pause)', cancelled: 'Annulée' };

export const label = (l) => LABELS[l] || l;
export const channel = (c) => CHANNELS[c] || c;

const rtf = new Intl.RelativeTimeFormat('fr', { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short' });
const tf = new Intl.DateTimeFormat('fr-FR', { hour: '2-digit', minute: '2-digit' });

export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const a = Math.abs(s);
  if (a < 60) return 'à l’instant';
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function dateTime(iso) {
  return iso ? dtf.format(new Date(iso)) : '';
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date().toDateString() === d.toDateString() ? tf.format(d) : dtf.format(d);
}

/** French message for an API error code. */
export function errorMessage(err) {
  const b = (err && err.body) || {};
  switch (err && err.code) {
    case 'conflict':
      return b.assignee && b.assignee.name ? `${b.assignee.name} a déjà pris cette conversation.` : 'Un·e collègue a modifié cette conversation juste avant toi. Elle a été rechargée.';
    case 'wrong_state':
      return 'Cette action n’est pas possible dans l’état actuel de la conversation.';
    case 'not_assignee':
      return b.assignee && b.assignee.name ? `Seul·e ${b.assignee.name}, qui suit cette conversation, peut faire cela.` : 'Seule la personne qui suit cette conversation peut faire cela.';
    case 'not_found':
      return 'Conversation introuvable (elle a peut-être été effacée à la demande du jeune).';
    case 'empty_message':
      return 'Le message est vide.';
    case 'delivery_failed':
      return `Le message n’a pas pu être délivré au jeune. Erreur de la messagerie : ${(b.channelError && b.channelError.message) || b.message || 'inconnue'}`;
    case 'invalid_input':
      return `Saisie invalide (${b.field || 'champ'}).`;
    case 'csrf':
      return 'Ta session a changé : recharge la page.';
    case 'forbidden':
      return 'Action réservée aux administrateurs.';
    case 'unauthenticated':
      return 'Ta session a expiré : reconnecte-toi.';
    case 'unavailable':
    case 'followups_unavailable':
      return 'Service momentanément indisponible, réessaie dans un instant.';
    case 'locked':
      return 'Trop d’essais infructueux : le compte est bloqué pendant 15 minutes.';
    case 'rate_limited':
      return 'Trop de tentatives de connexion depuis cet appareil. Réessaie plus tard.';
    case 'invalid_credentials':
      return 'Adresse e-mail ou mot de passe incorrect.';
    default:
      // Messages the server wrote for the mediator (locales/fr.json console.*) are shown as they are.
      return b.localized && typeof b.message === 'string' && b.message ? b.message : 'Une erreur est survenue. Réessaie.';
  }
}

export const OUTCOMES = {
  supported: 'Soutien apporté',
  referred: 'Orienté·e vers une structure',
  resolved: 'Demande résolue',
  no_reply: 'Pas de réponse du jeune',
  not_needed: 'Pas besoin d’accompagnement',
  other: 'Autre',
};
export const RISKS = { none: 'aucun', low: 'faible', medium: 'moyen', high: 'élevé', urgent: 'urgent' };
