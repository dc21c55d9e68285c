// Previews of files (run artifacts and registered versions' files): text, JSON, YAML, CSV as a table, images,
// the MLmodel rendered. HTML is shown only inside a sandboxed frame (no scripts, no same-origin access, no
// network beyond this server's CSP) or as text; SVG only as an image (where scripts never run).

import { h, append as appendAll, fmt, replace } from './dom.js';
import { readText } from './api.js';
import { errorBox } from './ui.js';

const append = (el, ...children) => appendAll(el, children);

const TEXT_LIMIT = 512 * 1024;
const CSV_ROWS = 200;
const IMAGES = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'ico', 'svg', 'avif']);
const HTML = new Set(['html', 'htm']);
const TEXT = new Set(['txt', 'log', 'md', 'py', 'yaml', 'yml', 'json', 'csv', 'tsv', 'toml', 'cfg', 'ini', 'sh',
  'r', 'sql', 'js', 'ts', 'xml', 'jsonl', 'ndjson', 'properties', 'conf', 'env', 'rst', 'ipynb', 'java', 'scala']);
const TEXT_NAMES = new Set(['MLmodel', 'MLproject', 'Dockerfile', 'LICENSE', 'requirements.txt', 'README']);

function extension(path) {
  const name = path.split('/').pop();
  return name.includes('.') ? name.split('.').pop().toLowerCase() : '';
}

/** What kind of preview a file gets: mlmodel, image, html, json, csv, text or binary. */
export function kindOf(path) {
  const name = path.split('/').pop();
  const ext = extension(path);
  if (name === 'MLmodel') return 'mlmodel';
  if (IMAGES.has(ext)) return 'image';
  if (HTML.has(ext)) return 'html';
  if (ext === 'json' || ext === 'ipynb') return 'json';
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  if (TEXT.has(ext) || TEXT_NAMES.has(name) || !ext) return 'text';
  return 'binary';
}

/** Rows of a CSV (or TSV) text: quotes, doubled quotes and newlines inside quotes handled. */
export function parseCsv(text, separator = ',', limit = CSV_ROWS + 1) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < limit; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === separator) { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if ((field || row.length) && rows.length < limit) rows.push([...row, field]);
  return rows;
}

function csvTable(text, separator, truncated) {
  const rows = parseCsv(text, separator);
  if (!rows.length) return h('p', { class: 'muted' }, 'Empty file.');
  const [head, ...body] = rows;
  const shown = body.slice(0, CSV_ROWS);
  return h('div', {},
    h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Table preview' },
      h('table', { class: 'grid compact' },
        h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, shown.map((r) => h('tr', {}, head.map((_, i) => h('td', {}, r[i] ?? ''))))))),
    h('p', { class: 'muted' }, body.length > CSV_ROWS || truncated ? `First ${shown.length} rows.` : `${shown.length} rows.`));
}

function sandboxed(text, label, onLeave) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/html' }));
  onLeave?.(() => URL.revokeObjectURL(url));
  // sandbox="" : no scripts, no forms, no popups, a unique origin (no access to this page or its API)
  return h('iframe', { class: 'sandboxed', sandbox: '', src: url, title: `Preview of ${label} (sandboxed, scripts off)`, referrerpolicy: 'no-referrer' });
}

function textBlock(text) {
  return h('pre', { class: 'file', tabindex: '0' }, h('code', {}, text));
}

function looksBinary(text) {
  return text.slice(0, 4096).includes('\u0000');
}

/**
 * The preview of the file ``path`` served at ``url`` (``size`` in bytes when known).
 * ``sibling(name)`` gives the URL of another file of the same model directory (for MLmodel's requirements).
 */
export async function preview(url, path, { size, signal, onLeave, sibling } = {}) {
  const kind = kindOf(path);
  const name = path.split('/').pop();
  const download = h('a', { href: url, download: name, class: 'button small' }, 'Download');
  const head = h('div', { class: 'preview-head' }, h('h3', {}, path), size !== undefined ? h('span', { class: 'muted' }, fmt.bytes(size)) : null, download);
  const body = h('div', { class: 'preview-body' });
  const box = h('div', { class: 'preview', data: { kind } }, head, body);
  try {
    if (kind === 'image') {
      append(body, h('img', { src: url, alt: `Image ${name}`, class: 'preview-image' }));
      return box;
    }
    if (kind === 'binary' || (size !== undefined && size > 64 * 1024 * 1024 && kind !== 'text')) {
      append(body, h('p', { class: 'muted' }, 'No preview for this kind of file; download it instead.'));
      return box;
    }
    const { text, truncated } = await readText(url, TEXT_LIMIT, signal);
    const note = truncated ? h('p', { class: 'muted' }, `Showing the first ${fmt.bytes(TEXT_LIMIT)}.`) : null;
    if (looksBinary(text)) {
      append(body, h('p', { class: 'muted' }, 'This file is binary; download it instead.'));
    } else if (kind === 'mlmodel') {
      const { renderMLmodel } = await import('./mlmodel.js');
      const rendered = await renderMLmodel(text, { sibling, signal });
      append(body, rendered, h('details', {}, h('summary', {}, 'MLmodel as text'), textBlock(text)));
    } else if (kind === 'html') {
      append(body, h('p', { class: 'muted' }, 'Rendered in a sandboxed frame: scripts, forms and outside requests are off.'),
        sandboxed(text, name, onLeave), h('details', {}, h('summary', {}, 'HTML source'), textBlock(text)));
    } else if (kind === 'json' && !truncated) {
      let pretty = text;
      try {
        pretty = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not valid JSON: shown as it is
      }
      append(body, textBlock(pretty));
    } else if (kind === 'csv') {
      append(body, csvTable(text, extension(path) === 'tsv' ? '\t' : ',', truncated));
    } else {
      append(body, textBlock(text), note);
    }
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    replace(body, errorBox(error));
  }
  return box;
}
