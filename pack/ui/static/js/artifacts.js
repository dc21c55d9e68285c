// A run's files: a folder tree (folders open on demand) and a preview of the chosen file (its path is in
// the URL, so a preview can be linked to).

import { h, fmt, replace } from './dom.js';
import { api, runFileUrl } from './api.js';
import { withQuery } from './nav.js';
import { errorBox } from './ui.js';
import { preview } from './preview.js';

const opened = new Map(); // run id -> folders the user opened

function parentOf(path) {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

async function listing(runId, path, signal) {
  const answer = await api.get('artifacts/list', { run_id: runId, path: path || undefined }, { signal });
  return (answer.files || []).sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
}

/** The browser for run ``runId`` with ``selected`` (a file path, or '') previewed. */
export async function artifactBrowser(view, runId, selected) {
  const { signal } = view;
  if (!opened.has(runId)) opened.set(runId, new Set());
  const open = opened.get(runId);
  for (let dir = parentOf(selected); dir; dir = parentOf(dir)) open.add(dir);
  const sizes = {};

  async function folder(path) {
    const entries = await listing(runId, path, signal);
    const isModel = entries.some((e) => e.path.split('/').pop() === 'MLmodel' && !e.is_dir);
    const items = await Promise.all(entries.map(async (entry) => {
      const name = entry.path.split('/').pop();
      if (!entry.is_dir) {
        sizes[entry.path] = entry.file_size;
        return h('li', {}, h('a', {
          href: withQuery({ tab: 'artifacts', path: entry.path }),
          'aria-current': entry.path === selected ? 'page' : null,
          data: { focus: `file-${entry.path}` },
        }, name), h('span', { class: 'muted size' }, fmt.bytes(entry.file_size)));
      }
      const expanded = open.has(entry.path);
      const children = h('div', {});
      const toggle = h('button', {
        type: 'button', class: 'folder', 'aria-expanded': String(expanded), data: { focus: `dir-${entry.path}` },
        on: {
          async click(event) {
            const button = event.currentTarget;
            if (open.has(entry.path)) {
              open.delete(entry.path);
              button.setAttribute('aria-expanded', 'false');
              children.replaceChildren();
            } else {
              open.add(entry.path);
              button.setAttribute('aria-expanded', 'true');
              try {
                children.replaceChildren(await folder(entry.path));
              } catch (error) {
                children.replaceChildren(errorBox(error));
              }
            }
          },
        },
      }, name);
      if (expanded) children.append(await folder(entry.path));
      return h('li', {}, toggle, children);
    }));
    const list = h('ul', { class: 'tree' }, items);
    if (!entries.length) list.append(h('li', { class: 'muted' }, 'Empty.'));
    if (isModel) {
      const mlmodel = path ? `${path}/MLmodel` : 'MLmodel';
      list.prepend(h('li', { class: 'model-mark' }, h('span', { class: 'badge info' }, 'model'), ' ',
        h('a', { href: withQuery({ tab: 'artifacts', path: mlmodel }) }, 'View this model')));
    }
    return list;
  }

  const tree = h('nav', { class: 'files', 'aria-label': 'Files of this run' });
  const shown = h('div', { class: 'file-view' });
  try {
    tree.append(await folder(''));
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    tree.append(errorBox(error));
  }
  if (selected) {
    const base = parentOf(selected);
    shown.append(await preview(runFileUrl(runId, selected), selected, {
      size: sizes[selected],
      signal,
      onLeave: view.onLeave,
      sibling: (name) => runFileUrl(runId, base ? `${base}/${name}` : name),
    }));
  } else if (!tree.querySelector('a')) {
    replace(shown, h('p', { class: 'muted' }, 'This run has no files.'));
  } else {
    replace(shown, h('p', { class: 'muted' }, 'Choose a file to preview it.'));
  }
  return h('div', { class: 'browser' }, tree, shown);
}
