// One model version: stage and aliases (changed after a confirmation, by admins when access control is on),
// where it came from, its description and tags, its MLmodel (signature, flavors, requirements), its files with
// sizes and sha256, its promotion history, and the commands that serve and ship it.

import { h, append, fmt, tagMap } from './dom.js';
import { api, ADMIN, EDIT, readText, versionFileUrl } from './api.js';
import { navigate } from './nav.js';
import {
  pageHeader, section, facts, stageBadge, aliasChip, versionStatus, guarded, askFor, attempt, confirmAction, errorBox, copyButton,
} from './ui.js';
import { timeline, servePanel, tagEditor, history, filesTable } from './registry.js';

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

function involves(event, version) {
  return String(event.version) === version || (event.kind === 'alias' && String(event.from) === version);
}

export async function render(view) {
  const { signal, user } = view;
  const [name, version] = view.params;
  const [{ model_version: mv }, { registered_model: model }, files, events] = await Promise.all([
    api.get('model-versions/get', { name, version }, { signal }),
    api.get('registered-models/get', { name }, { signal }),
    api.get('pack/model-versions/files', { name, version }, { signal }).then((a) => a.files || []).catch((error) => error),
    history(name, signal),
  ]);
  view.title(`${name} v${version}`);
  const problems = h('div', { class: 'problems' });
  const refresh = () => navigate(location.pathname + location.search, { replace: true });
  const stage = mv.current_stage || 'None';
  const aliases = mv.aliases || [];
  const ready = mv.status === 'READY';

  // promotion: stage and aliases, each after a confirmation
  const next = { None: 'Staging', Staging: 'Production', Production: 'Archived', Archived: 'Staging' }[stage];
  const stageSelect = h('select', { id: 'stage-target', data: { focus: 'stage-target' } },
    STAGES.filter((s) => s !== stage).map((s) => h('option', { value: s, selected: s === next }, s)));
  const archive = h('input', { type: 'checkbox', id: 'archive-others', data: { focus: 'archive-others' } });
  async function transition() {
    const target = stageSelect.value;
    const others = archive.checked && ['Staging', 'Production'].includes(target);
    const ok = await confirmAction({
      title: `Move version ${version} to ${target}?`,
      body: h('div', {}, h('p', {}, `${name} version ${version} moves from ${stage} to ${target}.`),
        others ? h('p', {}, `Other versions now in ${target} move to Archived.`) : null,
        h('p', { class: 'muted' }, `Clients that load models:/${name}/${target} get this version from now on. The change is recorded in the promotion history.`)),
      confirm: `Move to ${target}`,
    });
    if (ok && await attempt(problems, () => api.post('model-versions/transition-stage', {
      name, version, stage: target, archive_existing_versions: others,
    }), `Version ${version} is now in ${target}`)) refresh();
  }
  const aliasInput = h('input', { type: 'text', id: 'alias-name', placeholder: 'champion', autocomplete: 'off', data: { focus: 'alias-name' } });
  async function setAlias(event) {
    event?.preventDefault();
    const alias = aliasInput.value.trim().replace(/^@/, '');
    if (!alias) return;
    const current = (model.aliases || []).find((a) => a.alias === alias);
    const ok = await confirmAction({
      title: `Point @${alias} at version ${version}?`,
      body: h('p', {}, current && current.version !== version
        ? `@${alias} moves from version ${current.version} to version ${version}; clients that load models:/${name}@${alias} get this version from now on.`
        : `Clients that load models:/${name}@${alias} get version ${version}.`),
      confirm: `Set @${alias}`,
    });
    if (ok && await attempt(problems, () => api.post('registered-models/alias', { name, alias, version }), `@${alias} now points at version ${version}`)) refresh();
  }
  async function removeAlias(alias) {
    const ok = await confirmAction({
      title: `Remove @${alias}?`,
      body: h('p', {}, `models:/${name}@${alias} stops resolving until the alias is set again.`),
      confirm: `Remove @${alias}`,
      danger: true,
    });
    if (ok && await attempt(problems, () => api.delete('registered-models/alias', { name, alias }), `@${alias} removed`)) refresh();
  }
  const promote = section('Promote',
    ready ? null : h('p', { class: 'warning' }, `This version is ${mv.status}: only READY versions can change stage or get an alias.`),
    h('div', { class: 'toolbar' },
      h('label', { for: 'stage-target' }, 'Move to stage'), stageSelect,
      h('span', { class: 'check' }, archive, h('label', { for: 'archive-others' }, 'Archive the versions now in that stage')),
      guarded(user, ADMIN, 'Move…', transition, { class: 'primary', disabled: !ready, data: { focus: 'transition' } })),
    h('form', { class: 'toolbar', on: { submit: setAlias } },
      h('label', { for: 'alias-name' }, 'Alias'), aliasInput,
      guarded(user, ADMIN, 'Set alias…', setAlias, { disabled: !ready, data: { focus: 'set-alias' } })),
    aliases.length ? h('ul', { class: 'inline-list' }, aliases.map((a) => h('li', {}, aliasChip(a),
      guarded(user, ADMIN, 'Remove', () => removeAlias(a), { class: 'small', 'aria-label': `Remove alias ${a}` })))) : null);

  async function editDescription() {
    const values = await askFor({ title: 'Description', confirm: 'Save', fields: [{ name: 'description', label: 'Description', value: mv.description, multiline: true }] });
    if (values && await attempt(problems, () => api.patch('model-versions/update', { name, version, description: values.description }), 'Description saved')) refresh();
  }

  const mlmodel = h('div', {}, h('p', { class: 'muted' }, 'Loading the MLmodel…'));
  const fileList = files instanceof Error ? [] : files;
  if (fileList.some((f) => f.path === 'MLmodel')) {
    import('./mlmodel.js').then(async ({ renderMLmodel }) => {
      const { text } = await readText(versionFileUrl(name, version, 'MLmodel'), 1024 * 1024, signal);
      mlmodel.replaceChildren(await renderMLmodel(text, { sibling: (file) => versionFileUrl(name, version, file), signal }));
    }).catch((error) => { if (error.name !== 'AbortError') mlmodel.replaceChildren(errorBox(error)); });
  } else {
    mlmodel.replaceChildren(h('p', { class: 'muted' }, 'This version has no MLmodel file.'));
  }

  const uris = [
    ...aliases.map((a) => [`models:/${name}@${a}`, 'alias']),
    ...(stage !== 'None' && stage !== 'Archived' ? [[`models:/${name}/${stage}`, 'stage']] : []),
    [`models:/${name}/${version}`, 'this version'],
  ];
  const source = mv.source || '';
  append(view.main, 
    pageHeader(`${name} version ${version}`, {
      crumbs: [['Models', '/models'], [name, `/models/${encodeURIComponent(name)}`]],
      badges: [stageBadge(stage), ...aliases.map((a) => aliasChip(a)), versionStatus(mv.status)],
    }),
    problems,
    promote,
    section('About this version', facts([
      ['Registered', mv.creation_timestamp ? fmt.time(mv.creation_timestamp) : ''],
      ['By', mv.user_id || ''],
      ['Last modified', mv.last_updated_timestamp ? fmt.time(mv.last_updated_timestamp) : ''],
      ['Source', source ? h('span', {}, h('code', {}, source), ' ', copyButton(source, 'Copy source')) : ''],
      ['Source run', mv.run_id ? h('a', { href: `/runs/${encodeURIComponent(mv.run_id)}` }, mv.run_id) : ''],
      ['Logged model', mv.model_id || ''],
      ['Status message', mv.status_message || ''],
    ])),
    section('Description', mv.description ? h('p', { class: 'description' }, mv.description) : h('p', { class: 'muted' }, 'No description.'),
      guarded(user, EDIT, mv.description ? 'Edit description' : 'Add a description', editDescription, { class: 'small' })),
    section('Promotion history', timeline(events.filter((e) => involves(e, version)), { name })),
    mlmodel,
    section('Files', files instanceof Error ? errorBox(files) : filesTable(fileList, (path) => versionFileUrl(name, version, path))),
    section('Tags', tagEditor(user, tagMap(mv.tags), {
      label: 'Version tags', where: problems, refresh,
      set: (key, value) => api.post('model-versions/set-tag', { name, version, key, value }),
      remove: (key) => api.delete('model-versions/delete-tag', { name, version, key }),
    })),
    servePanel(name, version, uris, { hasExample: fileList.some((f) => f.path === 'serving_input_example.json') }));
}
