// The runs of one or more experiments: chosen param/metric/tag columns, sort on a column, filter in the
// search syntax the API takes (its error shown at the filter), pages, multi-select for compare and delete,
// and a chart view. Sorting, filtering and paging happen on the server, so 10,000 runs stay as quick as 10.
// Everything but the selection lives in the URL.

import { h, append, fmt, tagMap, announce } from './dom.js';
import { api, allowed, ADMIN } from './api.js';
import { navigate, setQuery, withQuery } from './nav.js';
import { pageHeader, errorBox, statusBadge, when, guarded, confirmAction, attempt } from './ui.js';

const PAGE_SIZES = [25, 50, 100, 250, 500, 1000];
const DEFAULT_PAGE = 100;
const DEFAULT_ORDER = 'attributes.start_time DESC';
const AUTO_COLUMNS = 8;
const selections = new Map(); // per experiment set: run ids picked by the user (kept across sorts and pages)
let chooserOpen = false;

const KIND = { m: ['metrics', 'Metric'], p: ['params', 'Param'], t: ['tags', 'Tag'] };

function quoteKey(key) {
  return `\`${key.replace(/`/g, '')}\``;
}

/** The order_by term of a column. */
function orderKey(column) {
  return column.kind ? `${KIND[column.kind][0]}.${quoteKey(column.key)}` : column.order;
}

function parseColumns(text) {
  if (text === null) return null;
  return text.split(',').filter(Boolean).map((item) => {
    const kind = item.slice(0, 1);
    return KIND[kind] ? { kind, key: decodeURIComponent(item.slice(2)) } : null;
  }).filter(Boolean);
}

function formatColumns(columns) {
  return columns.map((c) => `${c.kind}:${encodeURIComponent(c.key)}`).join(',');
}

function discover(runs) {
  const keys = { m: new Set(), p: new Set(), t: new Set() };
  for (const run of runs) {
    for (const item of run.data?.metrics || []) keys.m.add(item.key);
    for (const item of run.data?.params || []) keys.p.add(item.key);
    for (const item of run.data?.tags || []) if (!item.key.startsWith('mlflow.')) keys.t.add(item.key);
  }
  return Object.fromEntries(Object.entries(keys).map(([kind, set]) => [kind, [...set].sort()]));
}

function cellValue(run, column) {
  const data = run.data || {};
  if (column.kind === 'm') return (data.metrics || []).find((m) => m.key === column.key)?.value;
  if (column.kind === 'p') return (data.params || []).find((p) => p.key === column.key)?.value;
  return (data.tags || []).find((t) => t.key === column.key)?.value;
}

/** Move focus between rows of a table with the arrow keys (same column), Home and End. */
export function rowKeys(table) {
  table.addEventListener('keydown', (event) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) return;
    const cell = event.target.closest('td, th');
    const row = event.target.closest('tbody tr');
    if (!cell || !row) return;
    const rows = [...row.parentElement.children];
    const index = rows.indexOf(row);
    const target = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1 }[event.key];
    const next = rows[Math.max(0, Math.min(rows.length - 1, target))];
    const focusable = next?.children[cell.cellIndex]?.querySelector('a, input, button');
    if (focusable) {
      event.preventDefault();
      focusable.focus();
    }
  });
}

export async function render(view) {
  const { query, user, signal } = view;
  const ids = view.params[0].split(',').filter(Boolean);
  const filter = query.get('filter') || '';
  const order = query.get('order') || DEFAULT_ORDER;
  const size = PAGE_SIZES.includes(Number(query.get('n'))) ? Number(query.get('n')) : DEFAULT_PAGE;
  const show = query.get('show') || 'active';
  const mode = query.get('view') === 'charts' ? 'charts' : 'table';
  const at = Math.max(1, Number(query.get('at')) || 1);
  const selectionKey = ids.join(',');
  if (!selections.has(selectionKey)) selections.set(selectionKey, new Set());
  const selected = selections.get(selectionKey);

  const experimentsFetch = Promise.all(ids.map((id) => api.get('experiments/get', { experiment_id: id }, { signal })));
  let page = { runs: [] };
  let searchError = null;
  try {
    page = await api.post('runs/search', {
      experiment_ids: ids,
      filter,
      run_view_type: { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[show] || 'ACTIVE_ONLY',
      max_results: size,
      order_by: [order],
      page_token: query.get('page') || undefined,
    }, { signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    searchError = error;
  }
  const experiments = (await experimentsFetch).map((e) => e.experiment);
  const names = Object.fromEntries(experiments.map((e) => [e.experiment_id, e.name]));
  const title = experiments.length === 1 ? experiments[0].name : `${experiments.length} experiments`;
  view.title(`Runs of ${title}`);
  const runs = page.runs || [];

  const keys = discover(runs);
  const chosen = parseColumns(query.get('cols')) ?? [
    ...keys.m.slice(0, AUTO_COLUMNS).map((key) => ({ kind: 'm', key })),
    ...keys.p.slice(0, AUTO_COLUMNS).map((key) => ({ kind: 'p', key })),
  ];
  const fixed = [
    { label: 'Run', order: 'attributes.run_name' },
    { label: 'Status', order: 'attributes.status' },
    { label: 'Created', order: 'attributes.start_time' },
    { label: 'Duration' },
    { label: 'User', order: 'attributes.user_id' },
    { label: 'Source', order: 'tags.`mlflow.source.name`' },
    ...(ids.length > 1 ? [{ label: 'Experiment' }] : []),
  ];
  const columns = [...fixed, ...chosen.map((c) => ({ ...c, label: c.key }))];
  const [orderTerm, orderDirection] = order.trim().split(/\s+(?=ASC$|DESC$)/i);
  const descending = (orderDirection || 'ASC').toUpperCase() === 'DESC';

  // the filter, with its error shown right there
  const filterInput = h('input', {
    type: 'search', id: 'run-filter', name: 'filter', value: filter, spellcheck: 'false', autocomplete: 'off',
    placeholder: "metrics.acc > 0.9 and params.depth = '8'", data: { focus: 'run-filter' },
    'aria-describedby': 'run-filter-help', 'aria-invalid': searchError ? 'true' : null,
    class: searchError ? 'invalid' : null,
  });
  const filterError = searchError
    ? h('p', { class: 'field-error', id: 'run-filter-error', role: 'alert' }, searchError.message)
    : null;
  if (searchError) filterInput.setAttribute('aria-errormessage', 'run-filter-error');
  const toolbar = h('form', {
    class: 'toolbar', role: 'search',
    on: { submit(event) { event.preventDefault(); setQuery({ filter: filterInput.value.trim(), page: null, at: null }); } },
  },
  h('label', { for: 'run-filter' }, 'Filter runs'), filterInput, h('button', { type: 'submit' }, 'Apply'),
  filter ? h('a', { href: withQuery({ filter: null, page: null, at: null }), class: 'button' }, 'Clear') : null,
  h('label', { for: 'run-show' }, 'Show'),
  h('select', {
    id: 'run-show', data: { focus: 'run-show' },
    on: { change: (event) => setQuery({ show: event.target.value === 'active' ? null : event.target.value, page: null, at: null }) },
  }, [['active', 'Active'], ['deleted', 'Deleted'], ['all', 'All']].map(([value, label]) => h('option', { value, selected: value === show }, label))),
  h('label', { for: 'run-size' }, 'Per page'),
  h('select', {
    id: 'run-size', data: { focus: 'run-size' },
    on: { change: (event) => setQuery({ n: event.target.value === String(DEFAULT_PAGE) ? null : event.target.value, page: null, at: null }) },
  }, PAGE_SIZES.map((n) => h('option', { value: n, selected: n === size }, n))));
  const help = h('p', { id: 'run-filter-help', class: 'hint' },
    'Search syntax: metrics.<key>, params.<key>, tags.<key> and attributes (run_name, status, user_id, start_time) with = != < <= > >= LIKE ILIKE IN, joined by and.');

  // the column chooser
  const chooser = h('details', { class: 'chooser', open: chooserOpen, on: { toggle: (e) => { chooserOpen = e.target.open; } } },
    h('summary', { data: { focus: 'columns' } }, `Columns (${chosen.length})`),
    h('div', { class: 'chooser-body' }, Object.entries(KIND).map(([kind, [, label]]) => {
      const available = [...new Set([...keys[kind], ...chosen.filter((c) => c.kind === kind).map((c) => c.key)])].sort();
      if (!available.length) return null;
      return h('fieldset', {}, h('legend', {}, `${label}s`), available.map((key) => {
        const id = `col-${kind}-${key}`;
        const on = chosen.some((c) => c.kind === kind && c.key === key);
        return h('div', { class: 'check' },
          h('input', {
            type: 'checkbox', id, checked: on, data: { focus: id },
            on: {
              change(event) {
                const next = event.target.checked
                  ? [...chosen, { kind, key }]
                  : chosen.filter((c) => !(c.kind === kind && c.key === key));
                setQuery({ cols: formatColumns(next) }, { replace: true });
              },
            },
          }),
          h('label', { for: id }, key));
      }));
    })));

  // selection and its actions
  const compareButton = h('button', { type: 'button', class: 'primary', on: { click: () => navigate(`/compare?runs=${[...selected].join(',')}`) } });
  const chartButton = h('a', { class: 'button', href: withQuery({ view: mode === 'charts' ? null : 'charts' }) },
    mode === 'charts' ? 'Table' : 'Charts');
  const problems = h('div', { class: 'problems' });
  async function removeOrRestore() {
    const deleting = show !== 'deleted';
    const count = selected.size;
    const ok = await confirmAction({
      title: `${deleting ? 'Delete' : 'Restore'} ${count} run${count === 1 ? '' : 's'}?`,
      body: deleting ? 'Deleted runs move to the Deleted view and can be restored.' : 'The runs come back to the Active view.',
      confirm: deleting ? 'Delete' : 'Restore',
      danger: deleting,
    });
    if (!ok) return;
    const done = await attempt(problems, () => Promise.all([...selected].map((id) => api.post(deleting ? 'runs/delete' : 'runs/restore', { run_id: id }))),
      `${deleting ? 'Deleted' : 'Restored'} ${count} runs`);
    if (done) {
      selected.clear();
      navigate(location.pathname + location.search, { replace: true });
    }
  }
  const deleteButton = guarded(user, ADMIN, show === 'deleted' ? 'Restore selected' : 'Delete selected', removeOrRestore);
  const selectionNote = h('span', { class: 'muted', 'aria-live': 'polite' });
  function syncSelection() {
    compareButton.textContent = `Compare ${selected.size || ''} selected`.replace('  ', ' ');
    compareButton.disabled = selected.size < 2;
    deleteButton.disabled = !allowed(user, ADMIN) || selected.size === 0;
    selectionNote.textContent = selected.size ? `${selected.size} selected` : '';
    if (headBox) {
      const onPage = runs.filter((r) => selected.has(r.info.run_id)).length;
      headBox.checked = onPage > 0 && onPage === runs.length;
      headBox.indeterminate = onPage > 0 && onPage < runs.length;
    }
  }

  // the table
  let lastClicked = null;
  const headBox = runs.length ? h('input', {
    type: 'checkbox', 'aria-label': 'Select every run on this page', data: { focus: 'select-all' },
    on: {
      change(event) {
        for (const run of runs) {
          if (event.target.checked) selected.add(run.info.run_id);
          else selected.delete(run.info.run_id);
        }
        for (const box of view.main.querySelectorAll('tbody input[type=checkbox]')) box.checked = event.target.checked;
        syncSelection();
      },
    },
  }) : null;
  const head = h('tr', {}, h('td', {}, headBox), columns.map((column) => {
    const key = orderKey(column);
    const sorted = key && key === orderTerm;
    const sortLabel = sorted ? (descending ? 'descending' : 'ascending') : null;
    const prefix = column.kind ? h('span', { class: 'col-kind' }, `${KIND[column.kind][1].toLowerCase()} `) : null;
    if (!key) return h('th', { scope: 'col' }, column.label);
    const next = sorted && !descending ? 'descending' : 'ascending';
    return h('th', { scope: 'col', 'aria-sort': sortLabel || 'none', class: column.kind ? `col-${column.kind}` : null },
      h('button', {
        type: 'button', class: 'sort', data: { focus: `sort-${key}` },
        on: { click: () => setQuery({ order: `${key} ${next === 'descending' ? 'DESC' : 'ASC'}`, page: null, at: null }) },
      }, prefix, column.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, sorted ? (descending ? ' ▼' : ' ▲') : ''),
      h('span', { class: 'visually-hidden' }, `(sort ${next})`)));
  }));
  const body = h('tbody', {}, runs.map((run, index) => {
    const info = run.info;
    const tags = tagMap(run.data?.tags);
    const end = info.end_time || (info.status === 'RUNNING' ? Date.now() : null);
    const source = tags['mlflow.source.name'] || '';
    const box = h('input', {
      type: 'checkbox', checked: selected.has(info.run_id), 'aria-label': `Select ${info.run_name || info.run_id}`,
      data: { focus: `select-${info.run_id}`, index },
      on: {
        click(event) {
          const on = event.target.checked;
          const range = event.shiftKey && lastClicked !== null ? [Math.min(lastClicked, index), Math.max(lastClicked, index)] : [index, index];
          for (let i = range[0]; i <= range[1]; i += 1) {
            if (on) selected.add(runs[i].info.run_id);
            else selected.delete(runs[i].info.run_id);
            body.children[i].querySelector('input').checked = on;
          }
          lastClicked = index;
          syncSelection();
        },
      },
    });
    return h('tr', { class: info.lifecycle_stage === 'deleted' ? 'deleted' : null },
      h('td', {}, box),
      h('th', { scope: 'row' }, h('a', { href: `/runs/${encodeURIComponent(info.run_id)}`, data: { focus: `run-${info.run_id}` } }, info.run_name || info.run_id)),
      h('td', {}, statusBadge(info.status)),
      h('td', {}, when(info.start_time)),
      h('td', { class: 'num' }, end && info.start_time ? fmt.duration(end - info.start_time) : '—'),
      h('td', {}, info.user_id || ''),
      h('td', { class: 'source', title: source }, source.split(/[\\/]/).pop()),
      ids.length > 1 ? h('td', {}, names[info.experiment_id] || info.experiment_id) : null,
      chosen.map((column) => {
        const value = cellValue(run, column);
        return h('td', { class: column.kind === 'm' ? 'num' : null }, column.kind === 'm' ? fmt.number(value) : value ?? '');
      }));
  }));
  let content;
  if (searchError) content = null;
  else if (!runs.length) content = h('p', { class: 'muted empty' }, filter ? 'No run matches this filter.' : 'No runs yet in this view.');
  else if (mode === 'charts') {
    const { runCharts } = await import('./charts.js');
    const picked = runs.filter((r) => selected.has(r.info.run_id));
    const charted = (picked.length ? picked : runs).slice(0, 20);
    content = h('div', {},
      h('p', { class: 'muted' }, picked.length ? `Charts of the ${charted.length} selected runs.` : `Charts of the first ${charted.length} runs on this page (select runs to chart others).`));
    content.append(await runCharts(view, charted, keys.m));
  } else {
    const table = h('table', { class: 'grid runs', 'aria-describedby': 'runs-keys' },
      h('caption', { class: 'visually-hidden' }, `Runs of ${title}`), h('thead', {}, head), body);
    rowKeys(table);
    content = h('div', {}, h('div', { class: 'scroller', role: 'region', 'aria-label': 'Runs table', tabindex: '0' }, table),
      h('p', { id: 'runs-keys', class: 'hint' }, 'Arrow keys move between runs; Space selects; Shift-click selects a range.'));
  }
  const last = at + runs.length - 1;
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of runs' },
    runs.length ? h('span', {}, `Runs ${fmt.count(at)}–${fmt.count(last)}${page.next_page_token ? ' (more on the next page)' : ''}`) : null,
    query.get('page') ? h('a', { href: withQuery({ page: null, at: null }) }, 'First page') : null,
    page.next_page_token ? h('a', { href: withQuery({ page: page.next_page_token, at: last + 1 }), rel: 'next' }, 'Next page') : null);

  const crumbs = [['Experiments', '/experiments']];
  append(view.main, 
    pageHeader(ids.length === 1 ? title : `Runs of ${title}`, {
      crumbs,
      actions: [chartButton, compareButton, deleteButton],
    }),
    ids.length > 1 ? h('p', { class: 'muted' }, experiments.map((e) => e.name).join(', ')) : null,
    toolbar, filterError, help, h('div', { class: 'toolbar' }, chooser, selectionNote), problems, content, pager);
  syncSelection();
  if (searchError) announce(`Filter error: ${searchError.message}`);
}
