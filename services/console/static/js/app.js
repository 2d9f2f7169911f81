// The console's shell: hash router, sign-in, navigation by role, errors shown to the user.
// Page contract (services/console/README.md): a page module exports
//   async function render(root, ctx)   (may return a cleanup function, called on leaving the page)
//   const strings = {zh: {...}, en: {...}} (optional)
// ctx = {api, t, user, navigate, params, query, asset, lang, showError, flash, refresh}.
import { api, ApiError } from './api.js';
import { language, setLanguage, translator, LANGUAGES } from './i18n.js';
import { ROUTES, NAV } from './routes.js';

const strings = {
  zh: { sign_out: '退出', home: '首页', signed_in_as: '{name}（{roles}）', need_sign_in: '请先登录',
        role_teacher: '教师', role_school_admin: '学校管理员', role_district_admin: '区管理员',
        role_moderator: '审核员', role_school_reviewer: '校级审核', role_platform_admin: '平台管理员',
        role_city_admin: '市级管理员', role_province_admin: '省级管理员' },
  en: { sign_out: 'Sign out', home: 'Home', signed_in_as: '{name} ({roles})', need_sign_in: 'Please sign in',
        role_teacher: 'teacher', role_school_admin: 'school admin', role_district_admin: 'district admin',
        role_moderator: 'moderator', role_school_reviewer: 'school reviewer', role_platform_admin: 'platform admin',
        role_city_admin: 'city admin', role_province_admin: 'province admin' },
};
const t = translator(strings);
const USER = 'lb.user';
let user = JSON.parse(sessionStorage.getItem(USER) || 'null');
let cleanup = null;
let rendering = 0;

/** The hashed URL of a file under /console/ (from the import map), e.g. asset('vendor/uppy/core.min.css'). */
export function asset(path) {
  return import.meta.resolve(`../${path}`);
}

/** Loads a stylesheet once (vendor CSS for a page). */
export function useStylesheet(path) {
  const href = asset(path);
  if (![...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === href)) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    document.head.append(link);
  }
}

let nextFlash = null;

/** A message for the user; `{next: true}` keeps it for the page being navigated to. */
export function flash(message, kind = 'info', { next = false } = {}) {
  if (next) { nextFlash = [message, kind]; return; }
  const box = document.getElementById('flash');
  box.className = `flash ${kind}`;
  box.textContent = message;
  box.hidden = !message;
}

/** Shows an API problem (its code and detail) or any other error to the user. */
export function showError(error) {
  if (error instanceof ApiError) {
    const fields = error.errors.map((e) => `${(e.loc || []).filter((p) => p !== 'body').join('.')}: ${e.msg}`);
    const text = error.code === 'network' ? translator()('network') : (error.detail || error.title);
    flash([`${text} [${error.code}]`, ...fields].join('\n'), 'error');
  } else {
    flash(`${translator()('error')}: ${error?.message || error}`, 'error');
    console.error(error);
  }
}

function visibleNav() {
  if (!user) return [];
  return NAV.filter((entry) => !entry.roles?.length || entry.roles.some((role) => user.roles.includes(role)))
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

function homeHash() {
  return visibleNav()[0]?.hash || '#/search';
}

export function navigate(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function match(hash) {
  const [path, queryText = ''] = hash.split('?');
  for (const [pattern, load] of Object.entries(ROUTES)) {
    const names = [];
    const regex = new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (m, name) => {
      names.push(name);
      return '([^/]+)';
    })}$`);
    const found = regex.exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { pattern, load, params, query: Object.fromEntries(new URLSearchParams(queryText)) };
    }
  }
  return null;
}

function drawChrome() {
  const lang = language();
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.getElementById('lang').value = lang;
  const nav = document.getElementById('nav');
  nav.replaceChildren(...visibleNav().map((entry) => {
    const link = document.createElement('a');
    link.href = entry.hash;
    link.textContent = entry.label[lang] || entry.label.zh;
    if (location.hash.split('?')[0].startsWith(entry.hash)) link.setAttribute('aria-current', 'page');
    return link;
  }));
  const who = document.getElementById('who');
  who.textContent = user ? t('signed_in_as', {
    name: user.real_name, roles: user.roles.map((r) => t(`role_${r}`)).join('、') }) : '';
  const signout = document.getElementById('signout');
  signout.hidden = !user;
  signout.textContent = t('sign_out');
}

async function route() {
  const ticket = ++rendering;
  const hash = location.hash || '#/';
  if (!user && !hash.startsWith('#/signin')) {
    sessionStorage.setItem('lb.after', hash === '#/' ? '' : hash);
    location.replace('#/signin');
    return;
  }
  if (hash === '#/' || hash === '#') {
    location.replace(homeHash());
    return;
  }
  if (cleanup) { try { cleanup(); } catch (error) { console.error(error); } cleanup = null; }
  flash(...(nextFlash || ['']));
  nextFlash = null;
  drawChrome();
  const main = document.getElementById('main');
  const found = match(hash);
  const root = document.createElement('div');
  root.className = 'page';
  main.replaceChildren(root);
  if (!found) {
    root.innerHTML = `<h1>${translator()('not_found')}</h1>`;
    return;
  }
  root.dataset.route = found.pattern;
  root.setAttribute('aria-busy', 'true');
  try {
    const page = await found.load();
    if (ticket !== rendering) return;
    const ctx = { api, t: translator(page.strings), user, navigate, params: found.params, query: found.query,
                  asset, useStylesheet, lang: language(), showError, flash, refresh: route,
                  signedIn: (me) => { user = me; sessionStorage.setItem(USER, JSON.stringify(me)); },
                  after: () => { const to = sessionStorage.getItem('lb.after'); sessionStorage.removeItem('lb.after');
                                 return to || homeHash(); } };
    const result = await page.render(root, ctx);
    if (ticket === rendering && typeof result === 'function') cleanup = result;
    else if (typeof result === 'function') result();
  } catch (error) {
    if (ticket === rendering) showError(error);
  } finally {
    root.removeAttribute('aria-busy');
    root.dataset.ready = 'true';  // tests and the benchmark wait for this
    performance.mark(`lb-ready ${found.pattern}`);
    drawChrome();
  }
}

function signOut() {
  api.signOut();
  user = null;
  sessionStorage.removeItem(USER);
  location.hash = '#/signin';
}

document.getElementById('lang').addEventListener('change', (event) => { setLanguage(event.target.value); route(); });
document.getElementById('signout').addEventListener('click', signOut);
// A 401 the refresh token could not cure: sign in again, then come back here.
window.addEventListener('lb:signed-out', () => {
  if (!user) return;
  user = null;
  sessionStorage.removeItem(USER);
  api.signOut();
  sessionStorage.setItem('lb.after', location.hash);
  location.hash = '#/signin';
});
window.addEventListener('hashchange', route);
if (!api.signedIn()) { user = null; sessionStorage.removeItem(USER); }
if (!LANGUAGES.includes(localStorage.getItem('lb.lang'))) setLanguage('zh');
route();
