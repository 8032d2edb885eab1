// The API client. The access token lives only in this module's memory; the refresh token is an
// HttpOnly cookie the browser sends to /api/v1/auth only. A reload refreshes through it.

import { getLanguage } from './i18n.js';

const REFRESH_EARLY_S = 60;

const session = {
  token: null,
  workspaceId: null,
  refreshing: null,
  timer: null,
  onLoggedOut: () => {},
};

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const error = body?.error ?? {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code ?? 'error';
    this.details = error.details ?? {};
    this.retryAfter = retryAfter;
  }
}

export function onLoggedOut(callback) {
  session.onLoggedOut = callback;
}

export function setWorkspace(id) {
  session.workspaceId = id;
}

export function loggedIn() {
  return session.token !== null;
}

function keep(tokens) {
  clearTimeout(session.timer);
  session.token = tokens?.access_token ?? null;
  if (session.token) {
    const wait = Math.max(10, (tokens.expires_in ?? 900) - REFRESH_EARLY_S) * 1000;
    session.timer = setTimeout(async () => {
      if (!(await refreshSession()) && !session.token) session.onLoggedOut();
    }, wait);
  }
}

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const retry = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  return new ApiError(response.status, body, Number.isFinite(retry) ? retry : null);
}

export async function login(username, code) {
  const response = await fetch('/api/v1/auth/verify', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'Accept-Language': getLanguage() },
    body: JSON.stringify({ username, code }),
  });
  if (!response.ok) throw await errorOf(response);
  keep(await response.json());
}

async function exchangeCookie() {
  try {
    const response = await fetch('/api/v1/auth/refresh', {
      method: 'POST', credentials: 'same-origin', headers: { 'Accept-Language': getLanguage() },
    });
    if (!response.ok) {
      keep(null);
      return false;
    }
    keep(await response.json());
    return true;
  } catch {
    return false; // offline: keep what we have and try again later
  }
}

/** Exchange the refresh cookie for a new access token, one exchange at a time, across the
 * panel's tabs too: a refresh token works once, and a second use of it would look like a
 * stolen token and end the session. */
export function refreshSession() {
  if (!session.refreshing) {
    const exchange = navigator.locks ? navigator.locks.request('tgi-refresh', exchangeCookie) : exchangeCookie();
    session.refreshing = exchange.finally(() => { session.refreshing = null; });
  }
  return session.refreshing;
}

export async function logout() {
  try {
    await api('/api/v1/auth/logout', { method: 'POST', retry: false });
  } finally {
    keep(null);
  }
}

function headersFor(extra, body) {
  const headers = { 'Accept-Language': getLanguage(), ...extra };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (session.workspaceId) headers['X-Workspace-Id'] = String(session.workspaceId);
  if (body !== undefined && !(body instanceof Blob) && !(body instanceof FormData)) {
    headers['Content-Type'] = 'application/json';
  }
  return headers;
}

/**
 * Call the API. JSON bodies are encoded, JSON answers decoded (`raw: true` gives the Response).
 * A 401 refreshes the token once and repeats the call; when that fails the user is logged out.
 */
export async function api(path, { method = 'GET', body, headers = {}, raw = false, signal, retry = true } = {}) {
  const payload = body === undefined || body instanceof Blob || body instanceof FormData ? body : JSON.stringify(body);
  const response = await fetch(path, {
    method, body: payload, signal, credentials: 'same-origin', headers: headersFor(headers, body),
  });
  if (response.status === 401 && retry && session.token) {
    if (await refreshSession()) return api(path, { method, body, headers, raw, signal, retry: false });
    session.onLoggedOut();
  }
  if (!response.ok) throw await errorOf(response);
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** A list endpoint's next page: `?cursor=` from the previous answer's `next_cursor`. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Fetch a file with the token and hand it to the browser as a download. */
export async function download(path, filename) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
