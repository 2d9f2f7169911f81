// The one way the console talks to the API: base /api/v1, the bearer token kept in sessionStorage
// (gone when the tab closes), Accept-Language from the chosen UI language, and problem details
// (RFC 9457) turned into ApiError, which pages show with its code and detail.
import { acceptLanguage } from './i18n.js';

export const BASE = '/api/v1';
const TOKEN = 'lb.token';
const REFRESH = 'lb.refresh';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || `http.${status}`;
    this.title = problem.title || '';
    this.detail = problem.detail || '';
    this.errors = problem.errors || [];
  }
}

export function token() { return sessionStorage.getItem(TOKEN); }

export function setTokens(body) {
  if (body) {
    sessionStorage.setItem(TOKEN, body.access_token);
    if (body.refresh_token) sessionStorage.setItem(REFRESH, body.refresh_token);
  } else {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(REFRESH);
  }
}

/** Headers every call carries; Uppy's tus plugin gets the same. */
export function authHeaders() {
  const headers = { 'Accept-Language': acceptLanguage() };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  return headers;
}

function query(params) {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  if (response.status === 204) return null;
  if (type.includes('json')) return response.json();
  return response.text();
}

let refreshing = null;

async function refresh() {
  const refreshToken = sessionStorage.getItem(REFRESH);
  if (!refreshToken) return false;
  refreshing ??= fetch(`${BASE}/auth/refresh`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Accept-Language': acceptLanguage() },
    body: JSON.stringify({ refresh_token: refreshToken }),
  }).then(async (r) => { if (r.ok) { setTokens(await r.json()); return true; } return false; })
    .catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * request(method, path, {params, json, form, headers}) → the parsed body; throws ApiError.
 * A 401 is retried once after refreshing the access token.
 */
export async function request(method, path, { params, json, form, headers = {}, retried = false } = {}) {
  const init = { method, headers: { Accept: 'application/json, application/problem+json', ...authHeaders(), ...headers } };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = new URLSearchParams(form);
  }
  let response;
  try {
    response = await fetch(`${BASE}${path}${query(params)}`, init);
  } catch (error) {
    throw new ApiError(0, { code: 'network', detail: String(error.message || error) });
  }
  if (response.status === 401 && !retried && path !== '/auth/token' && await refresh()) {
    return request(method, path, { params, json, form, headers, retried: true });
  }
  const body = await parse(response);
  if (!response.ok) {
    const problem = typeof body === 'object' && body ? body : { detail: String(body || response.statusText) };
    const error = new ApiError(response.status, problem);
    if (response.status === 401) window.dispatchEvent(new CustomEvent('lb:signed-out'));
    throw error;
  }
  return body;
}

export const api = {
  get: (path, params) => request('GET', path, { params }),
  post: (path, json) => request('POST', path, { json }),
  patch: (path, json) => request('PATCH', path, { json }),
  put: (path, json) => request('PUT', path, { json }),
  del: (path) => request('DELETE', path),
  request,
  base: BASE,
  authHeaders,

  async signIn(username, password) {
    setTokens(await request('POST', '/auth/token', { form: { username, password } }));
    return request('GET', '/me');
  },
  signOut() { setTokens(null); },
  signedIn() { return Boolean(token()); },
};
