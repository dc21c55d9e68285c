// Comparing runs: params, metrics and tags side by side (rows that differ marked, or only those shown), every
// metric charted with the runs overlaid, a scatter of any param or metric against any other, and parallel
// coordinates.

import { h, append, fmt } from './dom.js';
import { api } from './api.js';
import { withQuery, navigate } from './nav.js';
import { pageHeader, errorBox, tabs } from './ui.js';

const MAX_RUNS = 100;

/** Every param, metric and tag value of ``runs`` as columns: [{id, kind, key, values, numeric}]. */
export function fields(runs) {
  const out = [];
  const add = (kind, list) => {
    const keys = [...new Set(runs.flatMap((r) => (list(r) || []).map((i) => i.key)))].sort();
    for (const key of keys) {
      const values = runs.map((r) => (list(r) || []).find((i) => i.key === key)?.value);
      const present = values.filter((v) => v !== undefined && v !== '');
      const numeric = present.length > 0 && present.every((v) => typeof v === 'number' || (v !== '' && Number.isFinite(Number(v))));
      out.push({ id: `${kind}.${key}`, kind, key, values, numeric });
    }
  };
  add('params', (r) => r.data.params);
  add('metrics', (r) => r.data.metrics);
  add('tags', (r) => (r.data.tags || []).filter((t) => !t.key.startsWith('mlflow.')));
  return out;
}

function differs(values) {
  return new Set(values.map((v) => (v === undefined ? '\u0000' : String(v)))).size > 1;
}

function diffTable(runs, columns, onlyDiff) {
  const head = h('tr', {}, h('td', {}), runs.map((r) => h('th', { scope: 'col' },
    h('a', { href: `/runs/${encodeURIComponent(r.info.run_id)}` }, r.info.run_name || r.info.run_id.slice(0, 8)))));
  const groups = [['params', 'Parameters'], ['metrics', 'Metrics (last value)'], ['tags', 'Tags']].map(([kind, label]) => {
    const rows = columns.filter((c) => c.kind === kind).filter((c) => !onlyDiff || differs(c.values)).map((c) => {
      const different = differs(c.values);
      return h('tr', { class: different ? 'differs' : null },
        h('th', { scope: 'row' }, c.key, different ? h('span', { class: 'diff-mark', title: 'Values differ' }, ' ≠') : null),
        c.values.map((v) => h('td', { class: kind === 'metrics' ? 'num' : null }, v === undefined ? '—' : kind === 'metrics' ? fmt.number(v) : v)));
    });
    if (!rows.length) return null;
    return h('tbody', {}, h('tr', { class: 'group' }, h('th', { scope: 'rowgroup', colspan: runs.length + 1 }, label)), rows);
  });
  return h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Comparison table' },
    h('table', { class: 'grid compare' }, h('caption', { class: 'visually-hidden' }, 'Parameters, metrics and tags of the compared runs'),
      h('thead', {}, head), groups));
}

export async function render(view) {
  const { query, signal } = view;
  const ids = [...new Set((query.get('runs') || '').split(',').filter(Boolean))].slice(0, MAX_RUNS);
  view.title('Compare runs');
  if (ids.length === 0) {
    append(view.main, pageHeader('Compare runs', { crumbs: [['Experiments', '/experiments']] }),
      h('p', {}, 'Select runs in a runs table, then choose Compare.'));
    return;
  }
  const found = await Promise.all(ids.map((id) => api.get('runs/get', { run_id: id }, { signal }).then((a) => a.run).catch((error) => error)));
  const runs = found.filter((r) => !(r instanceof Error));
  const missing = found.filter((r) => r instanceof Error);
  const columns = fields(runs);
  const tab = ['charts', 'scatter', 'parallel'].includes(query.get('tab')) ? query.get('tab') : 'table';
  const onlyDiff = query.get('diff') === '1';
  const experiments = [...new Set(runs.map((r) => r.info.experiment_id))];
  let body;
  if (tab === 'table') {
    body = h('div', {},
      h('div', { class: 'toolbar' }, h('span', { class: 'check' },
        h('input', { type: 'checkbox', id: 'only-diff', checked: onlyDiff, data: { focus: 'only-diff' }, on: { change: (e) => navigate(withQuery({ diff: e.target.checked ? '1' : null }), { replace: true }) } }),
        h('label', { for: 'only-diff' }, 'Only rows that differ'))),
      h('p', { class: 'hint' }, 'Rows marked ≠ have different values across the runs.'),
      diffTable(runs, columns, onlyDiff));
  } else if (tab === 'charts') {
    const { runCharts } = await import('./charts.js');
    body = await runCharts(view, runs, columns.filter((c) => c.kind === 'metrics').map((c) => c.key));
  } else {
    const plots = await import('./plots.js');
    body = tab === 'scatter' ? plots.scatterView(view, runs, columns) : plots.parallelView(view, runs, columns);
  }
  const base = `/compare?runs=${ids.join(',')}`;
  append(view.main, 
    pageHeader(`Compare ${runs.length} runs`, {
      crumbs: [['Experiments', '/experiments'], ...(experiments.length === 1 ? [['Runs', `/experiments/${encodeURIComponent(experiments[0])}`]] : [])],
    }),
    missing.length ? errorBox(new Error(`${missing.length} of the runs could not be read: ${missing[0].message}`)) : null,
    tabs('Comparison views', [
      ['table', 'Table', base], ['charts', 'Charts', `${base}&tab=charts`],
      ['scatter', 'Scatter', `${base}&tab=scatter`], ['parallel', 'Parallel coordinates', `${base}&tab=parallel`],
    ], tab),
    h('div', { class: 'tab-body' }, body));
}
