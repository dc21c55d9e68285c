// One run: what it is and where it came from (source, git commit and branch, dirty tree, parent and child
// runs), its description (editable), params, metrics (last, min, max), tags, logged and registered models,
// then its charts and its files on their own tabs.

import { h, append, fmt, tagMap } from './dom.js';
import { api, EDIT, ADMIN } from './api.js';
import { navigate, withQuery } from './nav.js';
import {
  pageHeader, section, facts, simpleTable, statusBadge, stageBadge, when, copyButton, guarded, askFor,
  confirmAction, attempt, tabs, errorBox, scroller,
} from './ui.js';

const NOTE = 'mlflow.note.content';
const SAMPLE = 2500;

function userTags(tags) {
  return Object.entries(tags).filter(([key]) => !key.startsWith('mlflow.')).sort(([a], [b]) => a.localeCompare(b));
}

function gitFacts(tags) {
  const commit = tags['mlflow.source.git.commit'];
  if (!commit) return [];
  const repo = tags['mlflow.source.git.repoURL'] || tags['mlflow.gitRepoURL'];
  const dirty = tags['mlflow.source.git.dirty'];
  return [
    ['Git commit', h('span', {}, h('code', {}, commit.slice(0, 12)), ' ', copyButton(commit, 'Copy commit'))],
    ['Branch', tags['mlflow.source.git.branch'] || ''],
    ['Repository', repo ? (/^https?:\/\//.test(repo) ? h('a', { href: repo, rel: 'noreferrer' }, repo) : repo) : ''],
    ['Working tree', dirty === undefined ? '' : dirty === 'true'
      ? h('span', { class: 'badge warn' }, 'dirty: uncommitted changes') : h('span', { class: 'badge ok' }, 'clean')],
  ];
}

/** Last, min and max of every metric: exact from the whole history when it is short, else from the sample. */
function metricsTable(view, run, metrics) {
  const rows = metrics.map((m) => {
    const min = h('td', { class: 'num' }, '…');
    const max = h('td', { class: 'num' }, '…');
    const count = h('td', { class: 'num' }, '…');
    api.get('metrics/get-history-bulk-interval', { run_ids: run.info.run_id, metric_key: m.key, max_results: SAMPLE }, { signal: view.signal })
      .then(({ metrics: points = [] }) => {
        const values = points.map((p) => (typeof p.value === 'number' ? p.value : Number(p.value))).filter(Number.isFinite);
        const sampled = points.length >= SAMPLE;
        const mark = sampled ? '≈ ' : '';
        min.textContent = values.length ? mark + fmt.number(Math.min(...values)) : '—';
        max.textContent = values.length ? mark + fmt.number(Math.max(...values)) : '—';
        count.textContent = sampled ? `${fmt.count(points.length)} sampled` : fmt.count(points.length);
        if (sampled) {
          min.title = `From ${SAMPLE} of the logged values, spread over every step`;
          max.title = min.title;
        }
      })
      .catch((error) => { if (error.name !== 'AbortError') min.textContent = 'error'; });
    return h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: withQuery({ tab: 'charts', metrics: m.key }) }, m.key)),
      h('td', { class: 'num' }, fmt.number(m.value)), min, max, count);
  });
  if (!rows.length) return h('p', { class: 'muted' }, 'No metrics.');
  return scroller(h('table', { class: 'grid' }, h('caption', { class: 'visually-hidden' }, 'Metrics'),
    h('thead', {}, h('tr', {}, ['Metric', 'Last', 'Min', 'Max', 'Values'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows)), 'Metrics');
}

function filterable(title, entries) {
  const id = `filter-${title.toLowerCase()}`;
  const rows = entries.map(([key, value]) => h('tr', { data: { key: key.toLowerCase() } }, h('th', { scope: 'row' }, key), h('td', { class: 'value' }, value)));
  const input = h('input', {
    type: 'search', id, placeholder: `Filter ${title.toLowerCase()}`, data: { focus: id },
    on: {
      input(event) {
        const text = event.target.value.toLowerCase();
        for (const row of rows) row.hidden = !row.dataset.key.includes(text);
      },
    },
  });
  if (!entries.length) return h('p', { class: 'muted' }, `No ${title.toLowerCase()}.`);
  return h('div', {}, entries.length > 8 ? h('div', { class: 'toolbar' }, h('label', { for: id }, `Filter ${title.toLowerCase()}`), input) : null,
    scroller(h('table', { class: 'grid kv' }, h('caption', { class: 'visually-hidden' }, title),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))), h('tbody', {}, rows)), title));
}

async function loggedModels(view, run, tags) {
  const { signal } = view;
  const found = new Map();
  try {
    for (const entry of JSON.parse(tags['mlflow.log-model.history'] || '[]')) {
      found.set(entry.artifact_path, { path: entry.artifact_path, flavors: Object.keys(entry.flavors || {}) });
    }
  } catch {
    // not MLflow's JSON: ignored
  }
  const [models, versions, root] = await Promise.all([
    api.post('logged-models/search', { experiment_ids: [run.info.experiment_id], filter: `source_run_id = '${run.info.run_id}'`, max_results: 100 }, { signal })
      .then((a) => a.models || []).catch(() => []),
    api.get('model-versions/search', { filter: `run_id = '${run.info.run_id}'`, max_results: 100 }, { signal })
      .then((a) => a.model_versions || []).catch(() => []),
    api.get('artifacts/list', { run_id: run.info.run_id }, { signal }).then((a) => a.files || []).catch(() => []),
  ]);
  const dirs = root.filter((f) => f.is_dir).slice(0, 20);
  await Promise.all(dirs.map(async (dir) => {
    const inside = await api.get('artifacts/list', { run_id: run.info.run_id, path: dir.path }, { signal }).then((a) => a.files || []).catch(() => []);
    if (inside.some((f) => f.path.split('/').pop() === 'MLmodel') && !found.has(dir.path)) found.set(dir.path, { path: dir.path, flavors: [] });
  }));
  const rows = [...found.values()].map((m) => [
    h('a', { href: withQuery({ tab: 'artifacts', path: `${m.path}/MLmodel` }) }, m.path),
    m.flavors.join(', ') || 'in this run\'s files',
    h('code', {}, `runs:/${run.info.run_id}/${m.path}`),
  ]);
  for (const model of models) {
    rows.push([h('span', {}, model.info.name || model.info.model_id), model.info.model_type || 'logged model (MLflow 3)', h('code', {}, `models:/${model.info.model_id}`)]);
  }
  return h('div', {},
    simpleTable(['Model', 'Flavors', 'URI'], rows, { caption: 'Logged models', empty: 'No models logged in this run.' }),
    versions.length ? h('div', {}, h('h3', {}, 'Registered from this run'), simpleTable(['Model', 'Version', 'Stage'],
      versions.map((v) => [h('a', { href: `/models/${encodeURIComponent(v.name)}/versions/${v.version}` }, `${v.name} v${v.version}`), v.version, stageBadge(v.current_stage)]),
      { caption: 'Registered versions' })) : null);
}

async function relatives(view, run, tags) {
  const parentId = tags['mlflow.parentRunId'];
  const [parent, children] = await Promise.all([
    parentId ? api.get('runs/get', { run_id: parentId }, { signal: view.signal }).then((a) => a.run).catch(() => null) : null,
    api.post('runs/search', {
      experiment_ids: [run.info.experiment_id], filter: `tags.\`mlflow.parentRunId\` = '${run.info.run_id}'`, max_results: 200,
    }, { signal: view.signal }).then((a) => a.runs || []).catch(() => []),
  ]);
  const link = (r) => h('a', { href: `/runs/${encodeURIComponent(r.info.run_id)}` }, r.info.run_name || r.info.run_id);
  return [
    ['Parent run', parentId ? (parent ? link(parent) : h('code', {}, parentId)) : ''],
    ['Child runs', children.length ? h('ul', { class: 'inline-list' }, children.map((c) => h('li', {}, link(c)))) : ''],
  ];
}

async function overview(view, run, experiment, tags) {
  const { user } = view;
  const info = run.info;
  const end = info.end_time || (info.status === 'RUNNING' ? Date.now() : null);
  const problems = h('div', { class: 'problems' });
  const description = tags[NOTE] || '';
  async function editDescription() {
    const values = await askFor({ title: 'Description', confirm: 'Save', fields: [{ name: 'value', label: 'Description', value: description, multiline: true }] });
    if (!values) return;
    if (await attempt(problems, () => api.post('runs/set-tag', { run_id: info.run_id, key: NOTE, value: values.value }), 'Description saved')) {
      navigate(location.pathname + location.search, { replace: true });
    }
  }
  const [family, models] = await Promise.all([relatives(view, run, tags), loggedModels(view, run, tags)]);
  const source = tags['mlflow.source.name'];
  return [
    problems,
    section('Description',
      description ? h('p', { class: 'description' }, description) : h('p', { class: 'muted' }, 'No description.'),
      guarded(user, EDIT, description ? 'Edit description' : 'Add a description', editDescription, { class: 'small', data: { focus: 'edit-description' } })),
    section('About this run', facts([
      ['Run ID', h('span', {}, h('code', {}, info.run_id), ' ', copyButton(info.run_id, 'Copy run ID'))],
      ['Experiment', h('a', { href: `/experiments/${encodeURIComponent(info.experiment_id)}` }, experiment?.name || info.experiment_id)],
      ['Status', statusBadge(info.status)],
      ['User', info.user_id || ''],
      ['Started', info.start_time ? h('span', {}, fmt.time(info.start_time), ' (', when(info.start_time), ')') : ''],
      ['Ended', info.end_time ? fmt.time(info.end_time) : ''],
      ['Duration', end && info.start_time ? fmt.duration(end - info.start_time) : ''],
      ['Source', source ? h('span', {}, h('code', {}, source), tags['mlflow.source.type'] ? ` (${tags['mlflow.source.type'].toLowerCase()})` : '') : ''],
      ...gitFacts(tags),
      ...family,
      ['Lifecycle', info.lifecycle_stage === 'deleted' ? h('span', { class: 'badge warn' }, 'deleted') : ''],
    ])),
    section('Models', models),
    section('Parameters', filterable('Parameters', (run.data.params || []).map((p) => [p.key, p.value]).sort(([a], [b]) => a.localeCompare(b)))),
    section('Metrics', metricsTable(view, run, [...(run.data.metrics || [])].sort((a, b) => a.key.localeCompare(b.key)))),
    section('Tags', filterable('Tags', userTags(tags)),
      h('details', {}, h('summary', {}, 'System tags'), simpleTable(['Key', 'Value'],
        Object.entries(tags).filter(([k]) => k.startsWith('mlflow.') && k !== NOTE && k !== 'mlflow.log-model.history').map(([k, v]) => [k, v]),
        { caption: 'System tags', empty: 'None.' }))),
    (run.inputs?.dataset_inputs || []).length ? section('Datasets', simpleTable(['Name', 'Digest', 'Source', 'Context'],
      run.inputs.dataset_inputs.map((d) => [d.dataset.name, h('code', {}, d.dataset.digest), d.dataset.source_type || '', tagMap(d.tags)['mlflow.data.context'] || '']),
      { caption: 'Datasets' })) : null,
  ];
}

async function charts(view, run) {
  const { metricChart, chartSettings, chartControls } = await import('./charts.js');
  const keys = (run.data.metrics || []).map((m) => m.key).sort();
  if (!keys.length) return [h('p', { class: 'muted' }, 'This run logged no metrics.')];
  const settings = chartSettings(view.query);
  const wanted = (view.query.get('metrics') || '').split(',').filter((k) => keys.includes(k));
  const overlay = view.query.get('overlay') === '1';
  const shown = wanted.length ? wanted : keys;
  const picker = h('fieldset', { class: 'picker' }, h('legend', {}, 'Metrics'),
    keys.map((key) => {
      const id = `metric-${key}`;
      return h('span', { class: 'check' },
        h('input', {
          type: 'checkbox', id, checked: shown.includes(key), data: { focus: id },
          on: {
            change(event) {
              const next = event.target.checked ? [...shown, key] : shown.filter((k) => k !== key);
              navigate(withQuery({ metrics: next.length === keys.length ? null : next.join(',') }), { replace: true });
            },
          },
        }), h('label', { for: id }, key));
    }),
    h('span', { class: 'check' },
      h('input', {
        type: 'checkbox', id: 'overlay', checked: overlay, data: { focus: 'overlay' },
        on: { change: (e) => navigate(withQuery({ overlay: e.target.checked ? '1' : null }), { replace: true }) },
      }), h('label', { for: 'overlay' }, 'All in one chart')));
  const runs = [{ id: run.info.run_id, name: run.info.run_name || run.info.run_id, start: run.info.start_time }];
  const options = { ...settings, signal: view.signal, onLeave: view.onLeave };
  const list = overlay
    ? [metricChart(runs, shown, options)]
    : shown.map((key) => metricChart(runs, [key], options));
  return [chartControls(settings), picker, h('div', { class: 'charts' }, list)];
}

export async function render(view) {
  const { signal, user } = view;
  const runId = view.params[0];
  const { run } = await api.get('runs/get', { run_id: runId }, { signal });
  const experiment = await api.get('experiments/get', { experiment_id: run.info.experiment_id }, { signal }).then((a) => a.experiment).catch(() => null);
  const tags = tagMap(run.data.tags);
  const name = run.info.run_name || run.info.run_id;
  const tab = ['charts', 'artifacts'].includes(view.query.get('tab')) ? view.query.get('tab') : 'overview';
  view.title(`${name} · run`);
  const problems = h('div', { class: 'problems' });
  const deleted = run.info.lifecycle_stage === 'deleted';

  async function rename() {
    const values = await askFor({ title: 'Rename run', confirm: 'Rename', fields: [{ name: 'run_name', label: 'Name', value: run.info.run_name, required: true }] });
    if (values && await attempt(problems, () => api.post('runs/update', { run_id: runId, run_name: values.run_name }), 'Renamed')) {
      navigate(location.pathname + location.search, { replace: true });
    }
  }
  async function toggleDeleted() {
    if (!await confirmAction({
      title: deleted ? 'Restore this run?' : 'Delete this run?',
      body: deleted ? 'It comes back to the active runs.' : 'It moves to the deleted runs, from where it can be restored.',
      confirm: deleted ? 'Restore' : 'Delete', danger: !deleted,
    })) return;
    if (await attempt(problems, () => api.post(deleted ? 'runs/restore' : 'runs/delete', { run_id: runId }), deleted ? 'Restored' : 'Deleted')) {
      navigate(location.pathname + location.search, { replace: true });
    }
  }

  let body;
  try {
    if (tab === 'charts') body = await charts(view, run);
    else if (tab === 'artifacts') {
      const { artifactBrowser } = await import('./artifacts.js');
      body = [await artifactBrowser(view, runId, view.query.get('path') || '')];
    } else body = await overview(view, run, experiment, tags);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    body = [errorBox(error)];
  }
  append(view.main, 
    pageHeader(name, {
      crumbs: [['Experiments', '/experiments'], [experiment?.name || run.info.experiment_id, `/experiments/${encodeURIComponent(run.info.experiment_id)}`]],
      badges: [statusBadge(run.info.status), deleted ? h('span', { class: 'badge warn' }, 'deleted') : null],
      actions: [guarded(user, EDIT, 'Rename', rename, { class: 'small' }), guarded(user, ADMIN, deleted ? 'Restore' : 'Delete', toggleDeleted, { class: 'small' })],
    }),
    problems,
    tabs('Run views', [
      ['overview', 'Overview', location.pathname],
      ['charts', 'Charts', `${location.pathname}?tab=charts`],
      ['artifacts', 'Files', `${location.pathname}?tab=artifacts`],
    ], tab),
    h('div', { class: 'tab-body' }, body));
}
