// Metric charts (uPlot): one or more metrics of one or more runs against step, wall time or time since the
// run started; smoothing, log scale, zoom (drag, buttons, double-click to reset). The server down-samples each
// series (get-history-bulk-interval), so a metric of a million points costs a few hundred points here; zooming
// in asks the server again for the steps in view. The legend is a row of buttons: Tab reaches it, arrow keys
// move along it, Enter or Space shows or hides a series.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, fmt, replace } from './dom.js';
import { api } from './api.js';
import { setQuery } from './nav.js';
import { errorBox, seriesColor as color } from './ui.js';

const sheet = document.createElement('link');
sheet.rel = 'stylesheet';
sheet.href = new URL('../vendor/uplot/uPlot.min.css', import.meta.url).href;
document.head.append(sheet);

const DASHES = [[], [6, 4], [2, 3], [10, 4, 2, 4]];
const MAX_POINTS = 1000;
const MAX_RUNS = 100;
const X_LABELS = { step: 'Step', time: 'Wall time', relative: 'Time since the run started' };

function swatch(s) {
  const mark = h('span', { class: ['swatch', s.dash.length ? 'dashed' : ''], 'aria-hidden': 'true' });
  mark.style.setProperty('--swatch', s.color); // CSSOM, which the page's CSP allows (no style attribute)
  return mark;
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function numeric(value) {
  if (typeof value === 'number') return value;
  return { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }[value] ?? Number(value);
}

/** Exponential moving average with TensorBoard's debiasing (``weight`` 0 = none). */
export function smooth(values, weight) {
  if (!weight) return values;
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count += 1;
    return last / (1 - weight ** count);
  });
}

async function fetchSeries(runs, key, range, signal) {
  const points = {};
  for (let i = 0; i < runs.length; i += MAX_RUNS) {
    const params = { run_ids: runs.slice(i, i + MAX_RUNS).map((r) => r.id), metric_key: key, max_results: MAX_POINTS };
    if (range) Object.assign(params, { start_step: range[0], end_step: range[1] });
    const answer = await api.get('metrics/get-history-bulk-interval', params, { signal });
    for (const m of answer.metrics || []) (points[m.run_id] ||= []).push(m);
  }
  return points;
}

/**
 * A chart of ``keys`` (metric names) of ``runs`` ([{id, name, start}]); options {x, smoothing, log, title}.
 * Returns the element; it loads when it first scrolls into view.
 */
export function metricChart(runs, keys, { x = 'step', smoothing = 0, log = false, title, signal, onLeave }) {
  const label = title || keys.join(', ');
  const plotBox = h('div', { class: 'plot', role: 'img', 'aria-label': `Chart of ${label} against ${X_LABELS[x].toLowerCase()}` });
  const readout = h('p', { class: 'readout muted', 'aria-live': 'off' }, ' ');
  const legend = h('div', { class: 'legend', role: 'group', 'aria-label': `Series of ${label}` });
  const status = h('div', { class: 'chart-status' }, h('p', { class: 'muted' }, 'Loading…'));
  const zoomNote = h('span', { class: 'muted' });
  let plot = null;
  let full = null;
  let sampled = false;
  let series = [];

  const tools = h('div', { class: 'chart-tools' },
    h('button', { type: 'button', class: 'small', on: { click: () => zoom(0.5) } }, 'Zoom in'),
    h('button', { type: 'button', class: 'small', on: { click: () => zoom(2) } }, 'Zoom out'),
    h('button', { type: 'button', class: 'small', on: { click: reset } }, 'Reset zoom'),
    zoomNote);
  const box = h('figure', { class: 'chart', data: { metric: keys.join(',') } },
    h('figcaption', {}, h('h3', {}, label)), tools, status, plotBox, readout, legend);

  function build(data) {
    const width = Math.max(280, plotBox.clientWidth || box.clientWidth || 600);
    const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid') } };
    const xAxis = { ...axis, label: X_LABELS[x] };
    if (x === 'relative') xAxis.values = (u, ticks) => ticks.map((t) => fmt.duration(t * 1000));
    const options = {
      width,
      height: 260,
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, focus: { prox: 24 } },
      focus: { alpha: 0.35 },
      scales: { x: { time: x === 'time' }, y: log ? { distr: 3 } : {} },
      axes: [xAxis, { ...axis, size: 64, values: (u, ticks) => ticks.map((t) => fmt.number(t)) }],
      series: [{}, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: s.raw ? 1 : 1.75, dash: s.dash, alpha: s.raw ? 0.3 : 1, spanGaps: true,
        points: { show: false },
      }))],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width > 2) {
            const lo = u.posToVal(u.select.left, 'x');
            const hi = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ width: 0, height: 0 }, false);
            zoomTo(lo, hi);
          }
        }],
        setCursor: [(u) => showReadout(u)],
        draw: [() => {
          if (!box.dataset.drawn) {
            box.dataset.drawn = 'true';
            performance.mark(`pack:chart-drawn:${keys.join(',')}`);
          }
        }],
      },
    };
    options.cursor.drag.setScale = false;
    plot = new uPlot(options, data, plotBox);
    plotBox.addEventListener('dblclick', reset);
  }

  function showReadout(u) {
    const index = u.cursor.idx;
    if (index === null || index === undefined) {
      readout.textContent = ' ';
      return;
    }
    const xValue = u.data[0][index];
    const xText = x === 'time' ? fmt.time(xValue * 1000) : x === 'relative' ? fmt.duration(xValue * 1000) : `step ${xValue}`;
    const values = series.map((s, i) => [s, u.data[i + 1][index]])
      .filter(([s, v]) => !s.raw && v !== null && v !== undefined && u.series[series.indexOf(s) + 1].show)
      .slice(0, 6).map(([s, v]) => `${s.label} ${fmt.number(v)}`);
    readout.textContent = `${xText}: ${values.join(' · ') || 'no value'}`;
  }

  function toData(points) {
    series = [];
    const tables = [];
    keys.forEach((key, k) => {
      runs.forEach((run, r) => {
        const list = (points[key] || {})[run.id] || [];
        if (!list.length) return;
        const origin = run.start || list[0].timestamp;
        const xs = list.map((m) => (x === 'step' ? m.step : x === 'time' ? m.timestamp / 1000 : (m.timestamp - origin) / 1000));
        const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
        const sortedX = order.map((i) => xs[i]);
        const ys = order.map((i) => numeric(list[i].value));
        const name = runs.length > 1 && keys.length > 1 ? `${run.name} · ${key}` : runs.length > 1 ? run.name : key;
        const look = { color: color(runs.length > 1 ? r : k), dash: DASHES[keys.length > 1 && runs.length > 1 ? k % DASHES.length : 0] };
        if (smoothing) {
          series.push({ label: `${name} (raw)`, raw: true, ...look });
          tables.push([sortedX, ys]);
        }
        series.push({ label: name, raw: false, count: list.length, ...look });
        tables.push([sortedX, smooth(ys, smoothing)]);
      });
    });
    if (!tables.length) return null;
    return tables.length === 1 ? tables[0] : uPlot.join(tables);
  }

  async function load(range) {
    const found = {};
    await Promise.all(keys.map(async (key) => { found[key] = await fetchSeries(runs, key, range, signal); }));
    sampled = Object.values(found).some((byRun) => Object.values(byRun).some((list) => list.length >= MAX_POINTS));
    return found;
  }

  function drawLegend() {
    const buttons = series.map((s, i) => (s.raw ? null : h('button', {
      type: 'button', class: 'legend-item', 'aria-pressed': 'true', tabindex: '-1',
      on: {
        click(event) {
          const shown = event.currentTarget.getAttribute('aria-pressed') !== 'true';
          event.currentTarget.setAttribute('aria-pressed', String(shown));
          plot.setSeries(i + 1, { show: shown });
          if (series[i - 1]?.raw) plot.setSeries(i, { show: shown });
        },
        focus: () => plot.setSeries(i + 1, { focus: true }),
        mouseenter: () => plot.setSeries(i + 1, { focus: true }),
      },
    }, swatch(s), s.label))).filter(Boolean);
    if (buttons.length) buttons[0].tabIndex = 0;
    legend.addEventListener('keydown', (event) => {
      const index = buttons.indexOf(document.activeElement);
      if (index < 0) return;
      const next = { ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = buttons[(next + buttons.length) % buttons.length];
      buttons.forEach((b) => { b.tabIndex = -1; });
      target.tabIndex = 0;
      target.focus();
    });
    legend.addEventListener('mouseleave', () => plot.setSeries(null, { focus: false }));
    replace(legend, buttons);
  }

  async function zoomTo(lo, hi) {
    if (!(hi > lo)) return;
    plot.setScale('x', { min: lo, max: hi });
    if (x !== 'step' || !sampled) return;
    zoomNote.textContent = 'Loading the steps in view…';
    try {
      const detail = toData(await load([Math.floor(lo), Math.ceil(hi)]));
      if (detail) {
        plot.setData(detail, false);
        plot.setScale('x', { min: lo, max: hi });
      }
      zoomNote.textContent = `Steps ${fmt.count(Math.floor(lo))}–${fmt.count(Math.ceil(hi))} in full detail`;
    } catch (error) {
      if (error.name !== 'AbortError') zoomNote.textContent = error.message;
    }
  }

  function zoom(factor) {
    if (!plot) return;
    const { min, max } = plot.scales.x;
    const middle = (min + max) / 2;
    const half = ((max - min) / 2) * factor;
    const lo = Math.max(full[0][0], middle - half);
    const hi = Math.min(full[0][full[0].length - 1], middle + half);
    if (factor > 1 && lo <= full[0][0] && hi >= full[0][full[0].length - 1]) reset();
    else zoomTo(lo, hi);
  }

  function reset() {
    if (!plot || !full) return;
    plot.setData(full, true);
    zoomNote.textContent = '';
  }

  async function start() {
    try {
      const data = toData(await load(null));
      if (!data) {
        replace(status, h('p', { class: 'muted' }, 'No values logged.'));
        tools.hidden = true;
        return;
      }
      full = data;
      status.replaceChildren();
      const total = series.filter((s) => !s.raw).reduce((n, s) => n + s.count, 0);
      box.dataset.points = String(total);
      if (sampled) zoomNote.textContent = 'Down-sampled by the server; zoom in for every step.';
      build(data);
      drawLegend();
    } catch (error) {
      if (error.name !== 'AbortError') replace(status, errorBox(error));
    }
  }

  const seen = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) {
      seen.disconnect();
      start();
    }
  }, { rootMargin: '200px' });
  requestAnimationFrame(() => seen.observe(box));
  const resize = new ResizeObserver(() => {
    if (plot && plotBox.clientWidth && Math.abs(plot.width - plotBox.clientWidth) > 4) plot.setSize({ width: plotBox.clientWidth, height: 260 });
  });
  resize.observe(plotBox);
  onLeave?.(() => {
    seen.disconnect();
    resize.disconnect();
    plot?.destroy();
  });
  return box;
}

/** The chart settings of the URL: {x, smoothing, log}. */
export function chartSettings(query) {
  const x = ['step', 'time', 'relative'].includes(query.get('x')) ? query.get('x') : 'step';
  const smoothing = Math.min(0.99, Math.max(0, Number(query.get('smooth')) || 0));
  return { x, smoothing, log: query.get('log') === '1' };
}

/** Controls for the chart settings (they change the URL). */
export function chartControls(settings) {
  const change = (key, value) => setQuery({ [key]: value }, { replace: true });
  return h('div', { class: 'toolbar chart-controls' },
    h('label', { for: 'chart-x' }, 'X axis'),
    h('select', { id: 'chart-x', data: { focus: 'chart-x' }, on: { change: (e) => change('x', e.target.value === 'step' ? null : e.target.value) } },
      Object.entries(X_LABELS).map(([value, text]) => h('option', { value, selected: value === settings.x }, text))),
    h('label', { for: 'chart-smooth' }, 'Smoothing'),
    h('input', {
      id: 'chart-smooth', type: 'range', min: 0, max: 0.99, step: 0.01, value: String(settings.smoothing), data: { focus: 'chart-smooth' },
      'aria-valuetext': settings.smoothing ? settings.smoothing.toFixed(2) : 'off',
      on: { change: (e) => change('smooth', Number(e.target.value) ? e.target.value : null) },
    }),
    h('output', { for: 'chart-smooth' }, settings.smoothing ? settings.smoothing.toFixed(2) : 'off'),
    h('span', { class: 'check' },
      h('input', { id: 'chart-log', type: 'checkbox', checked: settings.log, data: { focus: 'chart-log' }, on: { change: (e) => change('log', e.target.checked ? '1' : null) } }),
      h('label', { for: 'chart-log' }, 'Log scale')));
}

/** One chart per metric with every run overlaid (the runs page's chart view and the compare page). */
export async function runCharts(view, runs, keys) {
  const settings = chartSettings(view.query);
  const list = runs.map((run) => ({ id: run.info.run_id, name: run.info.run_name || run.info.run_id.slice(0, 8), start: run.info.start_time }));
  if (!keys.length) return h('p', { class: 'muted' }, 'These runs logged no metrics.');
  return h('div', {}, chartControls(settings),
    h('div', { class: 'charts' }, keys.map((key) => metricChart(list, [key], { ...settings, signal: view.signal, onLeave: view.onLeave }))));
}
