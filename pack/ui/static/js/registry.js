// Parts of the registry pages: the promotion history timeline, the "serve this model" commands, tag editing.

import { h, fmt, replace, shellQuote } from './dom.js';
import { api, EDIT } from './api.js';
import { section, codeLine, guarded, askFor, attempt, confirmAction, simpleTable } from './ui.js';

/** Promotion history, newest first: who moved which version from where to where, and when. */
export function timeline(events, { name } = {}) {
  if (!events.length) return h('p', { class: 'muted' }, 'No stage or alias changes yet.');
  return h('ol', { class: 'timeline' }, events.map((e) => {
    const version = h('a', { href: `/models/${encodeURIComponent(e.name || name)}/versions/${e.version}` }, `v${e.version}`);
    let what;
    if (e.kind === 'stage') {
      what = ['Stage of ', version, ': ', h('span', { class: 'from' }, e.from || 'None'), ' → ', h('strong', {}, e.to || 'None')];
    } else if (!e.from) {
      what = ['Alias ', h('strong', {}, `@${e.alias}`), ' set on ', version];
    } else if (!e.to) {
      what = ['Alias ', h('strong', {}, `@${e.alias}`), ` removed (it was on v${e.from})`];
    } else {
      what = ['Alias ', h('strong', {}, `@${e.alias}`), ` moved from v${e.from} to `, version];
    }
    return h('li', { data: { kind: e.kind } },
      h('time', { datetime: fmt.iso(e.timestamp) }, fmt.time(e.timestamp)),
      h('p', {}, what, h('span', { class: 'muted' }, ` by ${e.user || 'unknown'}`)),
      e.reason ? h('p', { class: 'muted' }, e.reason) : null);
  }));
}

function slug(name) {
  const text = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (text || 'model').slice(0, 53).replace(/-+$/, '');
}

/** The commands that serve and ship a version: ``uris`` are the ways to name it (alias, stage, number). */
export function servePanel(name, version, uris, { hasExample = false } = {}) {
  const id = `serve-uri-${Math.random().toString(36).slice(2)}`;
  const commands = h('div', { class: 'commands' });
  const image = `${slug(name)}:${version}`;
  const chart = `./${slug(name)}-chart`;
  function show(uri) {
    const q = shellQuote(uri);
    replace(commands,
      h('p', {}, 'Point pack at this server, then serve the model on port 8080:'),
      codeLine(`export PACK_TRACKING_URI=${location.origin}`),
      codeLine(`pack serve ${q} -p 8080`),
      hasExample ? codeLine("curl -s http://127.0.0.1:8080/invocations -H 'Content-Type: application/json' -d @serving_input_example.json") : null,
      h('p', {}, 'Build an image, then a Helm chart, and install it:'),
      codeLine(`pack build-docker -m ${q} -n ${image}`),
      codeLine(`pack build-chart -m ${q} --image ${image} -o ${chart}`),
      codeLine(`helm install ${slug(name)} ${chart}`));
  }
  const picker = uris.length > 1 ? h('div', { class: 'toolbar' }, h('label', { for: id }, 'Model URI'),
    h('select', { id, on: { change: (e) => show(e.target.value) } }, uris.map(([uri, label]) => h('option', { value: uri }, `${uri} (${label})`)))) : null;
  show(uris[0][0]);
  return section('Serve this model', h('p', { class: 'muted' },
    'An alias follows whichever version it points to; a version number never changes. Files are checked against their sha256 before serving.'),
  picker, commands);
}

/** Tags with add and remove (needs the editor role). ``set(key, value)`` and ``remove(key)`` call the API. */
export function tagEditor(user, tags, { set, remove, where, refresh, label }) {
  const rows = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => [key, value,
    guarded(user, EDIT, 'Remove', async () => {
      if (await confirmAction({ title: `Remove tag ${key}?`, body: `The tag ${key} = ${value} is removed.`, confirm: 'Remove', danger: true })
        && await attempt(where, () => remove(key), `Removed tag ${key}`)) refresh();
    }, { class: 'small', 'aria-label': `Remove tag ${key}` })]);
  const add = guarded(user, EDIT, 'Add tag', async () => {
    const values = await askFor({ title: 'Add a tag', confirm: 'Add', fields: [{ name: 'key', label: 'Key', required: true }, { name: 'value', label: 'Value' }] });
    if (values && await attempt(where, () => set(values.key, values.value), `Tag ${values.key} set`)) refresh();
  }, { class: 'small' });
  return [simpleTable(['Key', 'Value', ''], rows, { caption: label, empty: 'No tags.' }), add];
}

/** The promotion history of a model (all pages). */
export async function history(name, signal) {
  const events = [];
  let token;
  do {
    const page = await api.get('pack/registered-models/history', { name, page_token: token }, { signal });
    events.push(...(page.events || []));
    token = page.next_page_token;
  } while (token && events.length < 10000);
  return events;
}

/** Files with sizes and sha256 (a version's, as recorded at registration). */
export function filesTable(files, urlOf) {
  const total = files.reduce((n, f) => n + (f.size || 0), 0);
  return [simpleTable(['File', 'Size', 'sha256'], files.map((f) => [
    h('a', { href: urlOf(f.path), download: f.path.split('/').pop() }, f.path),
    h('span', { class: 'num' }, fmt.bytes(f.size)),
    h('code', { class: 'hash', title: f.sha256 }, f.sha256),
  ]), { caption: 'Files', empty: 'No files recorded.', className: 'files-table' }),
  h('p', { class: 'muted' }, `${files.length} files, ${fmt.bytes(total)}; the server checks them against these sha256 before it serves them.`)];
}
