// The MLmodel file rendered: flavors (with what in them can run code), the signature as tables, the
// requirements, and where the model came from.

import { load } from '../vendor/js-yaml/js-yaml.esm.min.mjs';
import { h, fmt } from './dom.js';
import { readText } from './api.js';
import { section, facts, simpleTable } from './ui.js';

function parseSpec(value) {
  if (!value) return [];
  if (Array.isArray(value)) return value;
  try {
    const parsed = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function typeOf(column) {
  if (column.type === 'tensor') {
    const spec = column['tensor-spec'] || {};
    return `tensor ${spec.dtype || '?'} [${(spec.shape || []).join(', ')}]`;
  }
  if (column.type === 'array') return `array of ${column.items?.type || '?'}`;
  if (column.type === 'object') return 'object';
  return column.type || '?';
}

function schemaTable(title, value) {
  const columns = parseSpec(value);
  if (!columns.length) return null;
  return h('div', { class: 'schema' }, h('h4', {}, title), simpleTable(['Name', 'Type', 'Required'],
    columns.map((c, i) => [c.name ?? `(${i})`, typeOf(c), c.required === false ? 'optional' : 'required']),
    { caption: title }));
}

function paramsTable(value) {
  const params = parseSpec(value);
  if (!params.length) return null;
  return h('div', { class: 'schema' }, h('h4', {}, 'Parameters'), simpleTable(['Name', 'Type', 'Default', 'Shape'],
    params.map((p) => [p.name, p.type, JSON.stringify(p.default ?? null), p.shape ? `[${p.shape.join(', ')}]` : 'scalar']),
    { caption: 'Parameters' }));
}

/** What in a flavor runs code when the model loads (pickles, shipped code), as sentences. */
export function unsafeParts(flavors) {
  const notes = [];
  for (const [name, conf] of Object.entries(flavors || {})) {
    const settings = conf || {};
    if (['pickle', 'cloudpickle'].includes(settings.serialization_format)) notes.push(`${name}: stored with ${settings.serialization_format}`);
    if (name === 'python_function' && (settings.python_model || settings.cloudpickle_version)) notes.push('python_function: a pickled Python model class');
    if (settings.pickle_module_name) notes.push(`${name}: saved with ${settings.pickle_module_name}`);
    if (settings.code) notes.push(`${name}: ships code in ${settings.code}/`);
  }
  return notes;
}

function flavorTable(flavors) {
  const rows = Object.entries(flavors || {}).map(([name, conf]) => {
    const details = Object.entries(conf || {})
      .filter(([, v]) => v !== null && typeof v !== 'object')
      .map(([k, v]) => `${k}: ${v}`);
    return [h('code', {}, name), details.join(' · ')];
  });
  return simpleTable(['Flavor', 'Settings'], rows, { caption: 'Flavors' });
}

/** The rendered MLmodel ``text``; ``sibling(name)`` is the URL of another file of the model. */
export async function renderMLmodel(text, { sibling, signal } = {}) {
  let model;
  try {
    model = load(text) || {};
  } catch (error) {
    return h('p', { class: 'error', role: 'alert' }, `This MLmodel is not valid YAML: ${error.message}`);
  }
  const unsafe = unsafeParts(model.flavors);
  const signature = model.signature || {};
  const parts = [
    facts([
      ['Created', model.utc_time_created || ''],
      ['Model UUID', model.model_uuid || ''],
      ['Run', model.run_id ? h('a', { href: `/runs/${encodeURIComponent(model.run_id)}` }, model.run_id) : ''],
      ['Path in run', model.artifact_path || ''],
      ['Size', model.model_size_bytes ? fmt.bytes(model.model_size_bytes) : ''],
      ['Saved by', model.mlflow_version ? `MLflow ${model.mlflow_version}` : model.pack_version ? `pack ${model.pack_version}` : ''],
    ]),
    unsafe.length
      ? h('div', { class: 'warning', role: 'note' }, h('strong', {}, 'Runs code when loaded: '), unsafe.join('; '),
        '. pack warns (UnsafeFormatWarning) and can refuse such models.')
      : h('p', { class: 'ok-note' }, 'No pickles or shipped code in its flavors.'),
    h('h4', {}, 'Flavors'), flavorTable(model.flavors),
  ];
  const schemas = [schemaTable('Inputs', signature.inputs), schemaTable('Outputs', signature.outputs), paramsTable(signature.params)].filter(Boolean);
  parts.push(h('h4', {}, 'Signature'), schemas.length ? h('div', { class: 'schemas' }, schemas) : h('p', { class: 'muted' }, 'No signature: inputs are not checked.'));
  const box = section('Model', parts);
  if (sibling) {
    const requirements = h('div', {}, h('h4', {}, 'Requirements'), h('p', { class: 'muted' }, 'Loading…'));
    box.append(requirements);
    readText(sibling('requirements.txt'), 64 * 1024, signal).then(({ text: reqs }) => {
      const lines = reqs.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      requirements.replaceChildren(h('h4', {}, 'Requirements'),
        lines.length ? h('ul', { class: 'requirements' }, lines.map((l) => h('li', {}, h('code', {}, l)))) : h('p', { class: 'muted' }, 'None listed.'));
    }).catch(() => requirements.replaceChildren(h('h4', {}, 'Requirements'), h('p', { class: 'muted' }, 'No requirements.txt.')));
  }
  return box;
}
