// Parts every page uses: headers, tables, badges, dialogs, copy buttons, role-aware buttons, errors.

import { h, announce, fmt, replace } from './dom.js';
import { allowed, roleFor } from './api.js';

/** The page's heading with breadcrumbs and actions. */
export function pageHeader(title, { crumbs = [], actions = [], badges = [] } = {}) {
  const trail = crumbs.length
    ? h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumbs' },
      h('ol', {}, crumbs.map(([label, href]) => h('li', {}, h('a', { href }, label)))))
    : null;
  return h('div', { class: 'page-head' }, trail,
    h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, title), badges,
      h('div', { class: 'actions' }, actions)));
}

/** An error as the user sees it (role=alert: announced at once). */
export function errorBox(error) {
  const message = error?.message || String(error);
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'Error: '), message);
}

/** A section with a heading (``level`` 2 by default). */
export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

/** A table inside a scrolling region that the keyboard can scroll too. */
export function scroller(table, label) {
  return h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': label }, table);
}

/** A plain table: ``columns`` are header labels, ``rows`` arrays of cells (text or nodes). */
export function simpleTable(columns, rows, { caption, empty = 'Nothing yet.', className } = {}) {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('table', { class: ['grid', className] },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))));
}

/** Definition list of [label, value] pairs (empty values skipped). */
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, value]) => value !== null && value !== undefined && value !== '')
      .map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))));
}

const STATUS_CLASS = { FINISHED: 'ok', RUNNING: 'info', SCHEDULED: 'info', FAILED: 'bad', KILLED: 'warn' };

/** A run status (text, not only colour). */
export function statusBadge(status) {
  return h('span', { class: ['badge', STATUS_CLASS[status] || ''] }, (status || 'UNKNOWN').toLowerCase());
}

/** A model version's registration status (READY, PENDING_REGISTRATION, FAILED_REGISTRATION). */
export function versionStatus(status) {
  const kind = status === 'READY' ? 'ok' : status === 'FAILED_REGISTRATION' ? 'bad' : 'warn';
  return h('span', { class: ['badge', kind] }, (status || 'unknown').toLowerCase().replace(/_/g, ' '));
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#79706e'];

/** The colour of the ``index``-th run or series in charts and plots. */
export function seriesColor(index) {
  return PALETTE[index % PALETTE.length];
}

const STAGE_CLASS = { Production: 'ok', Staging: 'info', Archived: 'muted-badge' };

/** A model version's stage. */
export function stageBadge(stage) {
  if (!stage || stage === 'None') return h('span', { class: 'badge' }, 'no stage');
  return h('span', { class: ['badge', STAGE_CLASS[stage] || ''] }, stage);
}

/** An alias chip (``@champion``). */
export function aliasChip(alias, version) {
  return h('span', { class: 'chip' }, `@${alias}`, version ? h('span', { class: 'muted' }, ` → v${version}`) : null);
}

/** A time element showing the date, with the exact time for machines and a tooltip. */
export function when(ms) {
  if (!ms) return '—';
  return h('time', { datetime: fmt.iso(ms), title: fmt.time(ms) }, fmt.ago(ms));
}

/** A button that copies ``text`` to the clipboard. */
export function copyButton(text, label = 'Copy') {
  return h('button', {
    type: 'button',
    class: 'small',
    'aria-label': `${label}: ${text.length > 60 ? `${text.slice(0, 57)}…` : text}`,
    on: {
      async click(event) {
        const button = event.currentTarget;
        try {
          await navigator.clipboard.writeText(text);
          button.textContent = 'Copied';
          announce('Copied to the clipboard');
        } catch {
          const range = document.createRange();
          range.selectNodeContents(button.previousElementSibling || button);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          button.textContent = 'Selected: press Ctrl+C';
        }
        setTimeout(() => { button.textContent = label; }, 2000);
      },
    },
  }, label);
}

/** A code line with its copy button. */
export function codeLine(text, label) {
  return h('div', { class: 'code-line' }, h('code', {}, text), copyButton(text, label || 'Copy'));
}

/** A button enabled only when ``user``'s role reaches ``level`` (otherwise it says which role it needs). */
export function guarded(user, level, label, onClick, props = {}) {
  const may = allowed(user, level);
  return h('button', {
    type: 'button',
    ...props,
    disabled: !may || props.disabled,
    title: may ? props.title : `Needs the ${roleFor(level)} role (you are ${user.role})`,
    on: may ? { click: onClick } : {},
  }, label);
}

function dialog(title, body, buttons) {
  const id = `d-${Math.random().toString(36).slice(2)}`;
  const box = h('dialog', { class: 'dialog', 'aria-labelledby': id },
    h('form', { method: 'dialog' }, h('h2', { id }, title), body, h('div', { class: 'dialog-buttons' }, buttons)));
  document.body.append(box);
  box.addEventListener('close', () => box.remove());
  return box;
}

/** Ask for confirmation; resolves true when the user confirms. */
export function confirmAction({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const box = dialog(title, h('div', { class: 'dialog-body' }, body), [
      h('button', { value: 'cancel', type: 'submit' }, 'Cancel'),
      h('button', { value: 'ok', type: 'submit', class: danger ? 'danger' : 'primary' }, confirm),
    ]);
    box.addEventListener('close', () => resolve(box.returnValue === 'ok'));
    box.showModal();
    box.querySelector('button[value=cancel]').focus();
  });
}

/** Ask for values ([{name, label, value, required, multiline}]); resolves an object or null. */
export function askFor({ title, fields, confirm }) {
  return new Promise((resolve) => {
    const inputs = fields.map((field) => {
      const id = `f-${field.name}-${Math.random().toString(36).slice(2)}`;
      const input = field.multiline
        ? h('textarea', { id, name: field.name, rows: 6, required: field.required })
        : h('input', { id, name: field.name, type: 'text', required: field.required, autocomplete: 'off' });
      input.value = field.value || '';
      return [field.name, input, h('div', { class: 'field' }, h('label', { for: id }, field.label), input)];
    });
    const box = dialog(title, inputs.map(([, , row]) => row), [
      h('button', { value: 'cancel', type: 'submit', formnovalidate: true }, 'Cancel'),
      h('button', { value: 'ok', type: 'submit', class: 'primary' }, confirm),
    ]);
    box.addEventListener('close', () => {
      if (box.returnValue !== 'ok') resolve(null);
      else resolve(Object.fromEntries(inputs.map(([name, input]) => [name, input.value])));
    });
    box.showModal();
    inputs[0][1].focus();
  });
}

/** Run ``action`` and report its outcome in ``where`` (an error stays there; success is announced). */
export async function attempt(where, action, done) {
  try {
    await action();
    if (done) announce(done);
    return true;
  } catch (error) {
    replace(where, errorBox(error));
    return false;
  }
}

/** Tabs as links (each tab is its own URL). */
export function tabs(label, items, active) {
  return h('nav', { class: 'tabs', 'aria-label': label },
    items.map(([key, text, href]) => h('a', { href, 'aria-current': key === active ? 'page' : null }, text)));
}
