// Signing in on the console's own pages (figures, opportunities, the mentors' page): the open session if there is
// one, else the login form. A page has #login-view (#login-form, #login-email, #login-password, #login-error) and
// its other views as #…-view; `enter(user)` runs once signed in.
import { api, ApiError, setCsrf } from '/console/api.js';
import { $ } from '/console/dom.js';

export const SERVER_DOWN = 'Le serveur ne répond pas. Réessaie dans un instant.';
/** The API's French message, or one that says the server is away (never a stack or a code). */
export const errorMessage = (err) => (err && err.body && err.body.message) || SERVER_DOWN;

/** Shows one of the page's views (#login-view, #app-view, …) and hides the others. */
export function showView(id) {
  for (const v of document.querySelectorAll('[id$="-view"]')) v.hidden = v.id !== id;
}

export function signIn(enter) {
  const showLogin = () => {
    showView('login-view');
    $('login-email').focus();
  };
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('login-error').textContent = '';
    try {
      const res = await api('POST', '/api/console/login', { email: $('login-email').value, password: $('login-password').value });
      setCsrf(res.csrfToken);
      await enter(res.user);
    } catch (err) {
      $('login-error').textContent = err instanceof ApiError && err.status === 401 ? 'Adresse e-mail ou mot de passe incorrect.' : errorMessage(err);
    }
  });
  /** The session already open (a cookie), or the login form. */
  const resume = async () => {
    try {
      const session = await api('GET', '/api/console/me');
      setCsrf(session.csrfToken);
      await enter(session.user);
    } catch (err) {
      showLogin();
      if (!(err instanceof ApiError && err.status === 401)) $('login-error').textContent = errorMessage(err);
    }
  };
  return { resume, showLogin };
}
