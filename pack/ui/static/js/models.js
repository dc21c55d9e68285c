// The registered models: search, their latest version in each stage, aliases and tags.

import { h, append, tagMap, fmt } from './dom.js';
import { api } from './api.js';
import { setQuery, withQuery } from './nav.js';
import { pageHeader, errorBox, scroller, when, stageBadge, aliasChip } from './ui.js';
import { nameFilter } from './experiments.js';

export async function render(view) {
  const { query, signal } = view;
  const search = query.get('q') || '';
  view.title('Models');
  let page = {};
  let problem = null;
  try {
    page = await api.get('registered-models/search', {
      filter: nameFilter(search), max_results: 100, order_by: 'name ASC', page_token: query.get('page'),
    }, { signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    problem = errorBox(error);
  }
  const models = page.registered_models || [];
  const input = h('input', { type: 'search', id: 'model-search', value: search, placeholder: "Name, or a filter: tags.team = 'fraud'", data: { focus: 'model-search' } });
  const form = h('form', { class: 'toolbar', role: 'search', on: { submit(e) { e.preventDefault(); setQuery({ q: input.value, page: null }); } } },
    h('label', { for: 'model-search' }, 'Search models'), input, h('button', { type: 'submit' }, 'Search'));
  const rows = models.map((m) => {
    const latest = [...(m.latest_versions || [])].sort((a, b) => Number(b.version) - Number(a.version));
    const link = (v) => h('a', { href: `/models/${encodeURIComponent(m.name)}/versions/${v.version}` }, `v${v.version}`);
    return h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `/models/${encodeURIComponent(m.name)}` }, m.name)),
      h('td', {}, latest.length ? h('ul', { class: 'inline-list' }, latest.map((v) => h('li', {}, stageBadge(v.current_stage), ' ', link(v)))) : '—'),
      h('td', {}, (m.aliases || []).map((a) => aliasChip(a.alias, a.version))),
      h('td', {}, Object.entries(tagMap(m.tags)).map(([k, v]) => h('span', { class: 'chip' }, `${k}=${v}`))),
      h('td', {}, when(m.last_updated_timestamp)));
  });
  append(view.main, 
    pageHeader('Models'),
    form, problem,
    rows.length ? scroller(h('table', { class: 'grid' }, h('caption', { class: 'visually-hidden' }, 'Registered models'),
      h('thead', {}, h('tr', {}, ['Model', 'Latest version per stage', 'Aliases', 'Tags', 'Last modified'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), 'Registered models')
      : h('p', { class: 'muted' }, search ? 'No model matches.' : 'No registered models yet: register one with pack.register_model or mlflow.register_model.'),
    h('nav', { class: 'pager', 'aria-label': 'Pages of models' },
      h('span', {}, `${fmt.count(models.length)} shown`),
      query.get('page') ? h('a', { href: withQuery({ page: null }) }, 'First page') : null,
      page.next_page_token ? h('a', { href: withQuery({ page: page.next_page_token }), rel: 'next' }, 'Next page') : null));
}
