// The server's REST API as the page calls it: MLflow's routes under /ajax-api/ (answered compressed), pack's
// own extensions under .../mlflow/pack/, and the file routes. Credentials are the browser's own (the server
// asks for them with HTTP basic when --auth is on); writes are same-origin requests the server checks.

const BASE = '/ajax-api/2.0/mlflow/';

/** An error answer of the API: its HTTP status, MLflow error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function request(method, path, { params, body, signal } = {}) {
  const init = { method, signal, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(BASE + path + query(params), init);
  const text = await response.text();
  let document = {};
  try {
    document = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(response.status, 'BAD_RESPONSE', `the server answered ${response.status} without JSON`);
  }
  if (!response.ok) {
    throw new ApiError(response.status, document.error_code || 'ERROR', document.message || response.statusText);
  }
  return document;
}

export const api = {
  get: (path, params, options) => request('GET', path, { ...options, params }),
  post: (path, body, options) => request('POST', path, { ...options, body }),
  patch: (path, body, options) => request('PATCH', path, { ...options, body }),
  delete: (path, body, options) => request('DELETE', path, { ...options, body }),
};

let current = null;

/** Who is using the page and what their role allows ({username, role, auth}). */
export function me() {
  if (!current) current = api.get('pack/users/current').catch(() => ({ username: '', role: 'reader', auth: true }));
  return current;
}

const LEVELS = { reader: 1, editor: 2, admin: 3 };
export const READ = 1;
export const EDIT = 2;
export const ADMIN = 3;

/** Whether ``user`` may do what needs ``level`` (EDIT: log and register; ADMIN: stages, aliases, deletes). */
export function allowed(user, level) {
  return (LEVELS[user.role] || 0) >= level;
}

/** The role a level needs, for messages. */
export function roleFor(level) {
  return level === ADMIN ? 'admin' : level === EDIT ? 'editor' : 'reader';
}

/** The URL of a run's file. */
export function runFileUrl(runId, path) {
  return `/get-artifact${query({ run_id: runId, path })}`;
}

/** The URL of a registered version's file (verified against its checksums by the server). */
export function versionFileUrl(name, version, path) {
  return `/model-versions/get-artifact${query({ name, version, path })}`;
}

/** The first ``limit`` bytes of a file as text: {text, truncated}. */
export async function readText(url, limit, signal) {
  const response = await fetch(url, { credentials: 'same-origin', signal });
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = (await response.json()).message || message;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, 'ERROR', message);
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= limit) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes.length - offset));
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return { text: new TextDecoder().decode(bytes), truncated };
}

/** Every page of a paged search (up to ``cap`` items). */
export async function all(path, body, key, { cap = 10000, signal } = {}) {
  const items = [];
  let token;
  do {
    const page = await api.post(path, { ...body, page_token: token }, { signal });
    items.push(...(page[key] || []));
    token = page.next_page_token;
  } while (token && items.length < cap);
  return items;
}
