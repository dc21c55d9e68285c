// One registered model: description, tags, aliases, its versions and the promotion history of all of them.

import { h, append, tagMap } from './dom.js';
import { api, EDIT } from './api.js';
import { navigate } from './nav.js';
import { pageHeader, section, scroller, when, stageBadge, aliasChip, versionStatus, guarded, askFor, attempt } from './ui.js';
import { timeline, tagEditor, history, servePanel } from './registry.js';

export async function render(view) {
  const { signal, user } = view;
  const name = view.params[0];
  const [{ registered_model: model }, versions, events] = await Promise.all([
    api.get('registered-models/get', { name }, { signal }),
    api.get('model-versions/search', { filter: `name = '${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`, max_results: 1000, order_by: 'version_number DESC' }, { signal })
      .then((a) => a.model_versions || []),
    history(name, signal),
  ]);
  view.title(`${name} · model`);
  const problems = h('div', { class: 'problems' });
  const refresh = () => navigate(location.pathname + location.search, { replace: true });
  const aliases = Object.fromEntries((model.aliases || []).map((a) => [a.alias, a.version]));
  const aliasesOf = (version) => Object.entries(aliases).filter(([, v]) => String(v) === String(version)).map(([a]) => a);

  async function editDescription() {
    const values = await askFor({ title: 'Description', confirm: 'Save', fields: [{ name: 'description', label: 'Description', value: model.description, multiline: true }] });
    if (values && await attempt(problems, () => api.patch('registered-models/update', { name, description: values.description }), 'Description saved')) refresh();
  }

  const rows = versions.map((v) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `/models/${encodeURIComponent(name)}/versions/${v.version}` }, `Version ${v.version}`)),
    h('td', {}, stageBadge(v.current_stage)),
    h('td', {}, aliasesOf(v.version).map((a) => aliasChip(a))),
    h('td', {}, versionStatus(v.status)),
    h('td', {}, when(v.creation_timestamp)),
    h('td', {}, v.user_id || ''),
    h('td', {}, v.run_id ? h('a', { href: `/runs/${encodeURIComponent(v.run_id)}` }, v.run_id.slice(0, 8)) : '—')));
  const production = versions.find((v) => v.current_stage === 'Production');
  const uris = [
    ...Object.keys(aliases).map((a) => [`models:/${name}@${a}`, `alias → v${aliases[a]}`]),
    ...(production ? [[`models:/${name}/Production`, `stage → v${production.version}`]] : []),
    ...(versions.length ? [[`models:/${name}/latest`, `latest → v${versions[0].version}`]] : []),
  ];
  append(view.main, 
    pageHeader(name, { crumbs: [['Models', '/models']], badges: Object.entries(aliases).map(([a, v]) => aliasChip(a, v)) }),
    problems,
    section('Description', model.description ? h('p', { class: 'description' }, model.description) : h('p', { class: 'muted' }, 'No description.'),
      guarded(user, EDIT, model.description ? 'Edit description' : 'Add a description', editDescription, { class: 'small' })),
    section('Versions', rows.length ? scroller(h('table', { class: 'grid' }, h('caption', { class: 'visually-hidden' }, `Versions of ${name}`),
      h('thead', {}, h('tr', {}, ['Version', 'Stage', 'Aliases', 'Status', 'Created', 'By', 'Source run'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), 'Versions') : h('p', { class: 'muted' }, 'No versions yet.')),
    section('Promotion history', timeline(events, { name })),
    section('Tags', tagEditor(user, tagMap(model.tags), {
      label: 'Model tags', where: problems, refresh,
      set: (key, value) => api.post('registered-models/set-tag', { name, key, value }),
      remove: (key) => api.delete('registered-models/delete-tag', { name, key }),
    })),
    uris.length ? servePanel(name, versions[0].version, uris) : null);
}
