// The experiments list: search, create, rename, delete and restore; pick several to see their runs together.

import { h, append, fmt, tagMap, announce } from './dom.js';
import { api, EDIT, ADMIN } from './api.js';
import { navigate, setQuery, withQuery } from './nav.js';
import { pageHeader, errorBox, scroller, when, guarded, confirmAction, askFor, attempt } from './ui.js';

const PAGE = 100;

/** A name search as a filter: text with an operator is used as typed, a plain word matches names. */
export function nameFilter(text, field = 'name') {
  const value = (text || '').trim();
  if (!value) return '';
  if (/(=|<|>|\bLIKE\b|\bIN\b)/i.test(value)) return value;
  return `${field} ILIKE '%${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}%'`;
}

export async function render(view) {
  const { query, user, signal } = view;
  const search = query.get('q') || '';
  const show = query.get('show') || 'active';
  view.title('Experiments');
  const viewType = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[show] || 'ACTIVE_ONLY';
  const problem = h('div', { class: 'problems' });
  let page = { experiments: [] };
  try {
    page = await api.get('experiments/search', {
      max_results: PAGE,
      filter: nameFilter(search),
      view_type: viewType,
      order_by: 'last_update_time DESC',
      page_token: query.get('page'),
    }, { signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    problem.append(errorBox(error));
  }
  const experiments = page.experiments || [];
  const selected = new Set();
  const compare = h('button', { type: 'button', disabled: true, on: { click: () => navigate(`/experiments/${[...selected].join(',')}`) } },
    'Compare runs of selected');
  const refresh = () => navigate(location.pathname + location.search, { replace: true });

  async function create() {
    const values = await askFor({
      title: 'New experiment',
      confirm: 'Create',
      fields: [{ name: 'name', label: 'Name', required: true }, { name: 'artifact_location', label: 'Artifact location (optional)' }],
    });
    if (!values) return;
    const ok = await attempt(problem, async () => {
      const made = await api.post('experiments/create', values);
      await navigate(`/experiments/${made.experiment_id}`);
    }, `Created experiment ${values.name}`);
    if (!ok) problem.scrollIntoView();
  }

  async function rename(experiment) {
    const values = await askFor({
      title: `Rename ${experiment.name}`,
      confirm: 'Rename',
      fields: [{ name: 'new_name', label: 'New name', value: experiment.name, required: true }],
    });
    if (!values || values.new_name === experiment.name) return;
    if (await attempt(problem, () => api.post('experiments/update', { experiment_id: experiment.experiment_id, new_name: values.new_name }), 'Renamed')) refresh();
  }

  async function toggleDeleted(experiment) {
    const deleting = experiment.lifecycle_stage !== 'deleted';
    const confirmed = await confirmAction({
      title: deleting ? `Delete ${experiment.name}?` : `Restore ${experiment.name}?`,
      body: deleting
        ? 'The experiment and its runs are moved to the deleted view; they can be restored from there.'
        : 'The experiment and its runs come back to the active view.',
      confirm: deleting ? 'Delete' : 'Restore',
      danger: deleting,
    });
    if (!confirmed) return;
    const path = deleting ? 'experiments/delete' : 'experiments/restore';
    if (await attempt(problem, () => api.post(path, { experiment_id: experiment.experiment_id }), deleting ? 'Deleted' : 'Restored')) refresh();
  }

  const rows = experiments.map((experiment) => {
    const id = experiment.experiment_id;
    const box = h('input', {
      type: 'checkbox',
      'aria-label': `Select ${experiment.name}`,
      data: { focus: `select-${id}` },
      on: {
        change(event) {
          if (event.target.checked) selected.add(id);
          else selected.delete(id);
          compare.disabled = selected.size === 0;
          compare.textContent = selected.size > 1 ? `Compare runs of ${selected.size} experiments` : 'Compare runs of selected';
        },
      },
    });
    const tags = Object.entries(tagMap(experiment.tags)).filter(([key]) => !key.startsWith('mlflow.'));
    const deleted = experiment.lifecycle_stage === 'deleted';
    return h('tr', {},
      h('td', {}, box),
      h('th', { scope: 'row' }, h('a', { href: `/experiments/${encodeURIComponent(id)}` }, experiment.name),
        deleted ? h('span', { class: 'badge warn' }, 'deleted') : null),
      h('td', { class: 'num' }, id),
      h('td', {}, when(experiment.creation_time)),
      h('td', {}, when(experiment.last_update_time)),
      h('td', {}, tags.map(([key, value]) => h('span', { class: 'chip' }, `${key}=${value}`))),
      h('td', { class: 'row-actions' },
        guarded(user, EDIT, 'Rename', () => rename(experiment), { class: 'small', 'aria-label': `Rename ${experiment.name}` }),
        guarded(user, ADMIN, deleted ? 'Restore' : 'Delete', () => toggleDeleted(experiment), {
          class: 'small', 'aria-label': `${deleted ? 'Restore' : 'Delete'} ${experiment.name}`,
        })));
  });

  const searchInput = h('input', {
    type: 'search', id: 'experiment-search', name: 'q', value: search, placeholder: 'Name, or a filter: tags.team = \'fraud\'',
    data: { focus: 'experiment-search' },
  });
  const form = h('form', {
    class: 'toolbar', role: 'search',
    on: { submit(event) { event.preventDefault(); setQuery({ q: searchInput.value, page: null }); } },
  },
  h('label', { for: 'experiment-search' }, 'Search experiments'), searchInput,
  h('button', { type: 'submit' }, 'Search'),
  h('label', { for: 'experiment-show' }, 'Show'),
  h('select', {
    id: 'experiment-show', data: { focus: 'experiment-show' },
    on: { change: (event) => setQuery({ show: event.target.value === 'active' ? null : event.target.value, page: null }) },
  }, [['active', 'Active'], ['deleted', 'Deleted'], ['all', 'All']].map(([value, label]) => h('option', { value, selected: value === show }, label))),
  compare);

  const table = rows.length
    ? scroller(h('table', { class: 'grid' },
      h('caption', { class: 'visually-hidden' }, 'Experiments'),
      h('thead', {}, h('tr', {}, h('td', {}), ['Name', 'ID', 'Created', 'Last modified', 'Tags', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), 'Experiments table')
    : h('p', { class: 'muted' }, search ? 'No experiment matches.' : 'No experiments yet.');
  const pager = h('div', { class: 'pager' },
    query.get('page') ? h('a', { href: withQuery({ page: null }) }, 'First page') : null,
    page.next_page_token ? h('a', { href: withQuery({ page: page.next_page_token }), rel: 'next' }, 'Next page') : null);

  append(view.main, 
    pageHeader('Experiments', { actions: [guarded(user, EDIT, 'New experiment', create, { class: 'primary' })] }),
    form, problem, table, pager,
    h('p', { class: 'muted' }, `${fmt.count(experiments.length)} shown`));
  if (!experiments.length && !search) announce('No experiments yet');
}
