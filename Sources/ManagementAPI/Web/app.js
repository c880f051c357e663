// The CallSequence editor: sign in, then one page at a time (#/sequences, #/recordings, ...), each built from
// the API's answers with text nodes only. No framework, no build step, nothing from another origin.
import { call, session, whenUnauthorized } from './api.js';
import { h, field, say } from './dom.js';
import { sequencesPage, editorPage } from './editor.js';
import { recordingsPage, ivrsPage, ivrPage, numbersPage, textsPage, packagesPage, clientsPage, accountsPage } from './pages.js';

/// What the signed-in key is and which account the pages show.
export const state = { me: null, account: null };

/// The path of the account the pages act on.
export const acct = () => (state.account ? `/accounts/${encodeURIComponent(state.account.id)}` : '/accounts/me');
export const can = (capability) => Boolean(state.account && state.account.capabilities && state.account.capabilities[capability]);

const main = () => document.getElementById('main');

/// Shows `content` as the page titled `title` and moves focus to its heading (screen readers hear the change).
export function show(title, ...content) {
  const heading = h('h1', { tabindex: '-1', text: title });
  main().removeAttribute('aria-busy');
  main().replaceChildren(heading, ...content);
  document.title = `${title} · CallSequence`;
  heading.focus();
  return heading;
}

/// Empties the page at once when another is asked for, so that nothing of the old page (its fields, its buttons)
/// can be used while the new one loads.
function leaving() {
  main().replaceChildren(h('p', { class: 'meta', text: 'Loading…' }));
  main().setAttribute('aria-busy', 'true');
}

export function go(hash) {
  leaving();
  if (location.hash === hash) route();
  else location.hash = hash;
}

function pages() {
  const list = [];
  if (state.me && state.me.operator) list.push(['#/accounts', 'Accounts']);
  if (state.account) {
    if (can('sequences')) list.push(['#/sequences', 'Sequences']);
    list.push(['#/recordings', 'Recordings'], ['#/ivrs', 'IVRs'], ['#/numbers', 'Numbers'], ['#/texts', 'Texts']);
    if (state.account.kind === 'reseller') list.push(['#/packages', 'Packages'], ['#/clients', 'Clients']);
  }
  return list;
}

function renderNav() {
  const nav = document.getElementById('nav');
  if (!state.me) { nav.hidden = true; nav.replaceChildren(); return; }
  const current = location.hash.split('/').slice(0, 2).join('/');
  const links = pages().map(([href, name]) => h('a', { href, text: name, 'aria-current': href === current ? 'page' : null }));
  const who = state.account ? `${state.account.name}` : 'operator';
  nav.replaceChildren(...links, h('span', { class: 'meta', text: `Signed in: ${who}` }),
    h('button', { type: 'button', class: 'secondary', text: 'Sign out', on: { click: signOut } }));
  nav.hidden = false;
}

function signOut() {
  session.signOut();
  sessionStorage.removeItem('callseq.account');
  state.me = null;
  state.account = null;
  renderNav();
  location.hash = '#/';
  signInPage();
  say('Signed out.');
}

function signInPage(message) {
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', name: 'key', required: true });
  const problem = message ? h('p', { class: 'problem', role: 'alert', text: message }) : null;
  const form = h('form', { novalidate: true },
    field('API key', input, 'The key you were given (csk_...). It is kept in this tab only and sent as a bearer token.'),
    problem,
    h('div', { class: 'row' }, h('button', { type: 'submit', text: 'Sign in' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) { input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
    session.signIn(key);
    try {
      await loadMe();
      renderNav();
      say(`Signed in${state.account ? ` as ${state.account.name}` : ' as the operator'}.`);
      const start = pages()[0];
      if (!location.hash.startsWith('#/') || location.hash === '#/') location.hash = start ? start[0] : '#/recordings';
      else route();
    } catch (error) {
      session.signOut();
      signInPage(error.status === 401 ? 'That key was not accepted.' : error.message);
    }
  });
  show('Sign in', h('p', { text: 'Sign in to edit your sequences, recordings, IVRs and numbers.' }), form);
  input.focus();
}

async function loadMe() {
  const { data } = await call('GET', '/me');
  state.me = data;
  const chosen = sessionStorage.getItem('callseq.account');
  if (data.account) state.account = data.account;
  else if (chosen) {
    try { state.account = (await call('GET', `/accounts/${encodeURIComponent(chosen)}`)).data; } catch { state.account = null; }
  }
}

/// Operator: act on this account.
export function chooseAccount(account) {
  state.account = account;
  sessionStorage.setItem('callseq.account', account.id);
  renderNav();
  go('#/recordings');
}

async function route() {
  if (!session.key()) { signInPage(); return; }
  if (!state.me) {
    try { await loadMe(); } catch (error) { session.signOut(); signInPage(error.status === 401 ? 'That key was not accepted.' : error.message); return; }
  }
  renderNav();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [page, id] = parts;
  if (!state.account && page !== 'accounts') { await accountsPage(); return; }
  try {
    switch (page) {
      case 'sequences':
        if (id) await editorPage(id === 'new' ? null : id);
        else await sequencesPage();
        break;
      case 'recordings': await recordingsPage(); break;
      case 'ivrs':
        if (id) await ivrPage(id === 'new' ? null : id);
        else await ivrsPage();
        break;
      case 'numbers': await numbersPage(); break;
      case 'texts': await textsPage(); break;
      case 'packages': await packagesPage(); break;
      case 'clients': await clientsPage(); break;
      case 'accounts': await accountsPage(); break;
      default: {
        const start = pages()[0];
        location.replace(start ? start[0] : '#/recordings');
      }
    }
  } catch (error) {
    if (error.status === 401) return;
    show('Something went wrong', h('p', { class: 'problem', role: 'alert', text: error.message }));
  }
}

whenUnauthorized(() => {
  session.signOut();
  state.me = null;
  state.account = null;
  renderNav();
  signInPage('The key is no longer accepted: sign in again.');
});

// Links between pages (plain clicks): the old page goes at once, then the new one loads.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element ? event.target.closest('a[href^="#/"]') : null;
  if (!link) return;
  event.preventDefault();
  go(link.getAttribute('href'));
});
window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#/') || location.hash === '') route();
});
route();
