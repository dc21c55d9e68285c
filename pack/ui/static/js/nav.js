// Addresses and history: every page's state is in its URL (path and query), so links can be shared and the
// back button works. A URL change renders the page again from the URL; a page module exports
// render(view) and fills view.main. Page modules load on first use.

import { h, replace } from './dom.js';
import { me } from './api.js';
import { errorBox } from './ui.js';

const ROUTES = [
  [/^\/$/, () => import('./experiments.js'), 'experiments'],
  [/^\/experiments\/?$/, () => import('./experiments.js'), 'experiments'],
  [/^\/experiments\/([^/]+)\/?$/, () => import('./runs.js'), 'experiments'],
  [/^\/runs\/([^/]+)\/?$/, () => import('./run.js'), 'experiments'],
  [/^\/compare\/?$/, () => import('./compare.js'), 'experiments'],
  [/^\/models\/?$/, () => import('./models.js'), 'models'],
  [/^\/models\/([^/]+)\/?$/, () => import('./model.js'), 'models'],
  [/^\/models\/([^/]+)\/versions\/([^/]+)\/?$/, () => import('./version.js'), 'models'],
];

let generation = 0;
let controller = null;
let leaving = [];
let shownPath = null;

/** Go to ``url`` (a path on this server); ``replace`` rewrites the current history entry. */
export function navigate(url, { replace: rewrite = false } = {}) {
  if (rewrite) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  return render();
}

/** The current URL with ``changes`` made to its query (null or '' removes a key). */
export function withQuery(changes) {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') params.delete(key);
    else params.set(key, String(value));
  }
  const text = params.toString();
  return location.pathname + (text ? `?${text}` : '');
}

/** Change the current page's query (pushes a history entry unless ``replace``). */
export function setQuery(changes, options) {
  return navigate(withQuery(changes), options);
}

// MLflow's UI addresses (#/experiments/1/runs/abc, #/models/x/versions/2) open the same pages here.
function fromMlflow(hash) {
  const path = hash.replace(/^#/, '').split('?')[0];
  let found = path.match(/^\/experiments\/([^/]+)\/runs\/([^/]+)/);
  if (found) return `/runs/${found[2]}`;
  found = path.match(/^\/experiments\/([^/]+)/);
  if (found) return `/experiments/${found[1]}`;
  found = path.match(/^\/models(\/.*)?$/);
  if (found) return path;
  return null;
}

async function render() {
  generation += 1;
  const mine = generation;
  controller?.abort();
  controller = new AbortController();
  for (const fn of leaving) fn();
  leaving = [];
  const main = document.getElementById('main');
  const path = location.pathname;
  const focusKey = document.activeElement?.dataset?.focus;
  const samePage = path === shownPath;
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  for (const link of document.querySelectorAll('header nav a')) {
    if (route && link.dataset.section === route[2]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!route) {
    replace(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'There is no page at this address. ',
      h('a', { href: '/experiments' }, 'See the experiments.')));
    document.title = 'Not found · pack';
    shownPath = path;
    return;
  }
  const [pattern, load] = route;
  const params = pattern.exec(path).slice(1).map(decodeURIComponent);
  const view = {
    main: h('div', { class: 'page' }),
    params,
    query: new URLSearchParams(location.search),
    signal: controller.signal,
    user: null,
    title: (text) => { document.title = `${text} · pack`; },
    onLeave: (fn) => leaving.push(fn),
    current: () => mine === generation,
  };
  try {
    const [module, user] = await Promise.all([load(), me()]);
    view.user = user;
    await module.render(view);
  } catch (error) {
    if (error.name === 'AbortError' || mine !== generation) return;
    replace(view.main, h('h1', { tabindex: '-1' }, 'Something went wrong'), errorBox(error));
    document.title = 'Error · pack';
  }
  if (mine !== generation) return;
  const first = shownPath === null;
  replace(main, view.main);
  shownPath = path;
  const again = focusKey && samePage ? main.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`) : null;
  if (again) again.focus();
  else if (!samePage && !first) (main.querySelector('h1') || main).focus({ preventScroll: true }); // say where we are
  if (!samePage && !first) window.scrollTo(0, 0);
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !ROUTES.some(([pattern]) => pattern.test(url.pathname))) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

/** Start: answer link clicks and the back button, and show the page of the current URL. */
export function start() {
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', render);
  const old = location.hash.startsWith('#/') ? fromMlflow(location.hash) : null;
  if (old) history.replaceState(null, '', old);
  me().then((user) => {
    const who = document.getElementById('who');
    if (who && user.auth) who.textContent = `${user.username} (${user.role})`;
  });
  return render();
}
