// Building the page from data. Every text a user or a client logged (names, params, tags, descriptions)
// goes in as a text node or an attribute value, never as HTML: there is no code path from data to markup
// (the page's Trusted Types policy makes any HTML string assignment throw).

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'indeterminate', 'open']);

/** An element: h('a', {href: '/x', class: 'c', on: {click: f}}, 'text', child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'data') for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    else if (PROPERTIES.has(key)) el[key] = value;
    else if (key === 'href' || key === 'src') el.setAttribute(key, safeUrl(value) || '#');
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Append children: strings and numbers as text, nodes as they are, arrays flattened, empties skipped. */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace the children of ``el``. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** ``url`` if it is a link this page may follow (this server, http, https or blob), else null. */
export function safeUrl(url) {
  const text = String(url ?? '');
  if (text.startsWith('/') && !text.startsWith('//')) return text;
  if (text.startsWith('#') || text.startsWith('?')) return text;
  try {
    const parsed = new URL(text, location.href);
    return ['http:', 'https:', 'blob:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Say something to screen readers (the page's polite live region). */
export function announce(message) {
  const region = document.getElementById('status');
  if (region) {
    region.textContent = '';
    setTimeout(() => { region.textContent = message; }, 30);
  }
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const NUMBER = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 6 });
const COUNT = new Intl.NumberFormat();

/** Formatting of times, durations, numbers and sizes. */
export const fmt = {
  time: (ms) => (ms ? DATE.format(new Date(Number(ms))) : '—'),
  iso: (ms) => (ms ? new Date(Number(ms)).toISOString() : ''),
  ago(ms) {
    if (!ms) return '—';
    const seconds = Math.round((Date.now() - Number(ms)) / 1000);
    if (seconds < 60) return 'just now';
    for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
      if (seconds >= size) {
        const n = Math.floor(seconds / size);
        return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
      }
    }
    return 'just now';
  },
  duration(ms) {
    if (ms === null || ms === undefined || ms < 0 || Number.isNaN(ms)) return '—';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  },
  number(v) {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v === 'string') return v; // "NaN", "Infinity" as the API writes them
    return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-4 && v !== 0) ? v.toExponential(4) : NUMBER.format(v);
  },
  count: (n) => COUNT.format(n),
  bytes(n) {
    if (n === null || n === undefined) return '';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let value = Number(n);
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
  },
};

/** A POSIX shell word for ``text`` (quoted only when it needs to be). */
export function shellQuote(text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${String(text).replace(/'/g, "'\\''")}'`;
}

/** Tags as a plain object (the API sends [{key, value}]). */
export function tagMap(list) {
  const out = {};
  for (const item of list || []) out[item.key] = item.value ?? '';
  return out;
}
