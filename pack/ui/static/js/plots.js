// The compare page's scatter plot and parallel coordinates, drawn as SVG: every run is a link (Tab reaches it,
// Enter opens it) with its values in its title, and the same values are in a table beside the plot.

import { h, fmt } from './dom.js';
import { withQuery, navigate } from './nav.js';
import { simpleTable, seriesColor as color } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** About ``count`` round tick values covering [lo, hi]. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A scale for a column: numeric (linear) or categorical (evenly spaced); pos(value) in [0, 1]. */
function scaleOf(field) {
  const present = field.values.filter((v) => v !== undefined && v !== '');
  if (field.numeric) {
    const numbers = present.map(Number);
    let lo = Math.min(...numbers);
    let hi = Math.max(...numbers);
    if (lo === hi) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    return { pos: (v) => (Number(v) - lo) / (hi - lo), ticks: ticks(lo, hi).map((t) => [t, fmt.number(t)]) };
  }
  const categories = [...new Set(present.map(String))].sort();
  const spot = (i) => (categories.length === 1 ? 0.5 : i / (categories.length - 1));
  return { pos: (v) => spot(categories.indexOf(String(v))), ticks: categories.map((c, i) => [c, c, spot(i)]) };
}

function select(id, label, fields, current, onChange) {
  return [h('label', { for: id }, label), h('select', { id, data: { focus: id }, on: { change: (e) => onChange(e.target.value) } },
    ['params', 'metrics', 'tags'].map((kind) => {
      const options = fields.filter((f) => f.kind === kind);
      return options.length ? h('optgroup', { label: kind }, options.map((f) => h('option', { value: f.id, selected: f.id === current }, f.key))) : null;
    }))];
}

function runName(run) {
  return run.info.run_name || run.info.run_id.slice(0, 8);
}

function valuesTable(runs, chosen) {
  return h('details', {}, h('summary', {}, 'The values as a table'),
    simpleTable(['Run', ...chosen.map((f) => f.key)], runs.map((r, i) => [runName(r), ...chosen.map((f) => (f.values[i] === undefined ? '—' : String(f.values[i])))]),
      { caption: 'Plotted values' }));
}

/** Any param or metric against any other; one point per run. */
export function scatterView(view, runs, fields) {
  if (!fields.length) return h('p', { class: 'muted' }, 'These runs have no params or metrics to plot.');
  const byId = Object.fromEntries(fields.map((f) => [f.id, f]));
  const firstParam = fields.find((f) => f.kind === 'params') || fields[0];
  const firstMetric = fields.find((f) => f.kind === 'metrics') || fields[fields.length - 1];
  const fx = byId[view.query.get('sx')] || firstParam;
  const fy = byId[view.query.get('sy')] || firstMetric;
  const W = 640;
  const H = 400;
  const M = { left: 70, right: 20, top: 20, bottom: 50 };
  const sx = scaleOf(fx);
  const sy = scaleOf(fy);
  const px = (v) => M.left + sx.pos(v) * (W - M.left - M.right);
  const py = (v) => H - M.bottom - sy.pos(v) * (H - M.top - M.bottom);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot-svg scatter', role: 'group', 'aria-label': `Scatter of ${fy.key} against ${fx.key}` },
    s('line', { x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom, class: 'axis' }),
    s('line', { x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom, class: 'axis' }),
    sx.ticks.map(([value, label, at]) => {
      const x = at === undefined ? px(value) : M.left + at * (W - M.left - M.right);
      return s('text', { x, y: H - M.bottom + 18, class: 'tick', 'text-anchor': 'middle' }, label);
    }),
    sy.ticks.map(([value, label, at]) => {
      const y = at === undefined ? py(value) : H - M.bottom - at * (H - M.top - M.bottom);
      return s('text', { x: M.left - 8, y: y + 4, class: 'tick', 'text-anchor': 'end' }, label);
    }),
    s('text', { x: (W + M.left) / 2, y: H - 8, class: 'axis-label', 'text-anchor': 'middle' }, fx.key),
    s('text', { x: 14, y: H / 2, class: 'axis-label', 'text-anchor': 'middle', transform: `rotate(-90 14 ${H / 2})` }, fy.key),
    runs.map((run, i) => {
      const xv = fx.values[i];
      const yv = fy.values[i];
      if (xv === undefined || yv === undefined) return null;
      return s('a', { href: `/runs/${encodeURIComponent(run.info.run_id)}`, class: 'point' },
        s('title', {}, `${runName(run)}: ${fx.key} ${xv}, ${fy.key} ${yv}`),
        s('circle', { cx: px(xv), cy: py(yv), r: 6, fill: color(i) }));
    }));
  const change = (key) => (value) => navigate(withQuery({ [key]: value }), { replace: true });
  return h('div', {},
    h('div', { class: 'toolbar' }, select('scatter-x', 'X', fields, fx.id, change('sx')), select('scatter-y', 'Y', fields, fy.id, change('sy'))),
    h('figure', { class: 'svg-figure' }, svg, h('figcaption', { class: 'muted' }, `${runs.length} runs; runs without both values are left out.`)),
    valuesTable(runs, [fx, fy]));
}

/** One vertical axis per chosen param or metric; one line per run, coloured by a metric. */
export function parallelView(view, runs, fields) {
  const usable = fields.filter((f) => f.kind !== 'tags');
  if (!usable.length) return h('p', { class: 'muted' }, 'These runs have no params or metrics to plot.');
  const byId = Object.fromEntries(usable.map((f) => [f.id, f]));
  const differing = usable.filter((f) => new Set(f.values.map(String)).size > 1);
  const defaults = [...differing.filter((f) => f.kind === 'params').slice(0, 6), ...usable.filter((f) => f.kind === 'metrics').slice(0, 4)];
  const chosen = view.query.get('axes') !== null
    ? view.query.get('axes').split(',').map((id) => byId[decodeURIComponent(id)]).filter(Boolean)
    : (defaults.length ? defaults : usable.slice(0, 6));
  const metrics = usable.filter((f) => f.kind === 'metrics' && f.numeric);
  const colorBy = byId[view.query.get('color')] || metrics[metrics.length - 1] || null;
  const W = Math.max(640, chosen.length * 130);
  const H = 400;
  const M = { left: 60, right: 60, top: 40, bottom: 30 };
  const step = chosen.length > 1 ? (W - M.left - M.right) / (chosen.length - 1) : 0;
  const scales = chosen.map(scaleOf);
  const y = (k, v) => H - M.bottom - scales[k].pos(v) * (H - M.top - M.bottom);
  const colorScale = colorBy ? scaleOf(colorBy) : null;
  const shade = (i) => {
    if (!colorScale || colorBy.values[i] === undefined) return '#888888';
    const t = Math.max(0, Math.min(1, colorScale.pos(colorBy.values[i])));
    const mix = (a, b) => Math.round(a + (b - a) * t);
    return `rgb(${mix(66, 230)}, ${mix(120, 97)}, ${mix(214, 0)})`;
  };
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot-svg', role: 'group', 'aria-label': `Parallel coordinates of ${chosen.map((f) => f.key).join(', ')}` },
    runs.map((run, i) => {
      const points = chosen.map((f, k) => (f.values[i] === undefined ? null : `${M.left + k * step},${y(k, f.values[i])}`));
      if (points.some((p) => p === null) || !points.length) return null;
      return s('a', { href: `/runs/${encodeURIComponent(run.info.run_id)}`, class: 'line' },
        s('title', {}, `${runName(run)}: ${chosen.map((f) => `${f.key} ${f.values[i]}`).join(', ')}`),
        s('polyline', { points: points.join(' '), fill: 'none', stroke: shade(i), 'stroke-width': 2 }));
    }),
    chosen.map((f, k) => {
      const x = M.left + k * step;
      return s('g', { class: 'pc-axis' },
        s('line', { x1: x, y1: M.top, x2: x, y2: H - M.bottom, class: 'axis' }),
        s('text', { x, y: M.top - 14, 'text-anchor': 'middle', class: 'axis-label' }, f.key),
        scales[k].ticks.map(([value, label, at]) => {
          const ty = at === undefined ? y(k, value) : H - M.bottom - at * (H - M.top - M.bottom);
          return s('text', { x: x + 6, y: ty + 4, class: 'tick' }, label);
        }));
    }));
  const setAxes = (list) => navigate(withQuery({ axes: list.map((f) => encodeURIComponent(f.id)).join(',') }), { replace: true });
  const picker = h('fieldset', { class: 'picker' }, h('legend', {}, 'Axes'), usable.map((f) => {
    const id = `axis-${f.id}`;
    return h('span', { class: 'check' }, h('input', {
      type: 'checkbox', id, checked: chosen.includes(f), data: { focus: id },
      on: { change: (e) => setAxes(e.target.checked ? [...chosen, f] : chosen.filter((c) => c !== f)) },
    }), h('label', { for: id }, f.key));
  }));
  const colorPicker = metrics.length ? [h('label', { for: 'pc-color' }, 'Colour by'), h('select', {
    id: 'pc-color', data: { focus: 'pc-color' }, on: { change: (e) => navigate(withQuery({ color: e.target.value }), { replace: true }) },
  }, metrics.map((f) => h('option', { value: f.id, selected: f === colorBy }, f.key)))] : [];
  return h('div', {}, picker, h('div', { class: 'toolbar' }, colorPicker,
    colorBy ? h('span', { class: 'gradient-key' }, h('span', {}, `low ${colorBy.key}`), h('span', { class: 'gradient', 'aria-hidden': 'true' }), h('span', {}, 'high')) : null),
  chosen.length ? h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Parallel coordinates' }, h('figure', { class: 'svg-figure' }, svg)) : h('p', { class: 'muted' }, 'Choose some axes.'),
  valuesTable(runs, chosen));
}
