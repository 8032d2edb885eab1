// The panel's entry point: session, header (user, workspace, language), hash routes.

import { api, loggedIn, logout, onLoggedOut, refreshSession, setWorkspace } from './api.js';
import { h, replace } from './dom.js';
import { LANGUAGES, getLanguage, preferredLanguage, rememberLanguage, setLanguage, t } from './i18n.js';
import { renderLogin } from './page-login.js';
import { renderDashboard } from './page-dashboard.js';
import { renderAccounts } from './page-accounts.js';
import { renderAccount } from './page-account.js';
import { renderLinking } from './page-linking.js';
import { renderAudience, renderAudiences } from './page-audiences.js';
import { renderPerson } from './page-person.js';
import { renderSearch } from './page-search.js';
import { renderTasks } from './page-tasks.js';
import { renderCampaigns, renderNewCampaign } from './page-campaigns.js';
import { renderCampaign } from './page-campaign.js';
import { renderTeam, teamAvailable } from './page-team.js';
import { renderOptOuts } from './page-optouts.js';
import { renderAudit } from './page-audit.js';
import { renderAdminAccounts, renderAdminLimits, renderAdminUsers } from './page-admin.js';

const WORKSPACE_KEY = 'tgi-workspace';

const ROUTES = [
  { path: /^\/?$/, nav: 'dashboard', render: renderDashboard },
  { path: /^\/accounts$/, nav: 'accounts', render: renderAccounts },
  { path: /^\/accounts\/link$/, nav: 'accounts', render: renderLinking },
  { path: /^\/accounts\/(\d+)$/, nav: 'accounts', render: renderAccount },
  { path: /^\/audiences$/, nav: 'audiences', render: renderAudiences },
  { path: /^\/audiences\/(\d+)$/, nav: 'audiences', render: renderAudience },
  { path: /^\/audiences\/(\d+)\/people\/(\d+)$/, nav: 'audiences', render: renderPerson },
  { path: /^\/search$/, nav: 'search', render: renderSearch },
  { path: /^\/tasks$/, nav: 'tasks', render: renderTasks },
  { path: /^\/campaigns$/, nav: 'campaigns', render: renderCampaigns },
  { path: /^\/campaigns\/new$/, nav: 'campaigns', render: renderNewCampaign },
  { path: /^\/campaigns\/(\d+)$/, nav: 'campaigns', render: renderCampaign },
  { path: /^\/team$/, nav: 'team', render: renderTeam, needs: 'team' },
  { path: /^\/opt-outs$/, nav: 'optouts', render: renderOptOuts },
  // Reached by their address by someone the API refuses, these pages say so themselves.
  { path: /^\/audit$/, nav: 'audit', render: renderAudit },
  { path: /^\/admin\/?$/, nav: 'admin', render: renderAdminUsers },
  { path: /^\/admin\/users$/, nav: 'admin', render: renderAdminUsers },
  { path: /^\/admin\/limits$/, nav: 'admin', render: renderAdminLimits },
  { path: /^\/admin\/accounts$/, nav: 'admin', render: renderAdminAccounts },
];
const NAV = ['dashboard', 'accounts', 'audiences', 'search', 'tasks', 'campaigns', 'team', 'optouts', 'audit', 'admin'];
const NAV_HREF = { dashboard: '#/', accounts: '#/accounts', audiences: '#/audiences', search: '#/search', tasks: '#/tasks', campaigns: '#/campaigns', team: '#/team', optouts: '#/opt-outs', audit: '#/audit', admin: '#/admin/users' };

const app = document.getElementById('app');
const state = { me: null, workspace: null, team: false, view: null, cleanup: null, renderId: 0 };

function announce(text) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

function languageSwitcher(onChange) {
  const select = h('select', { id: 'lang', 'aria-label': t('header.language') },
    LANGUAGES.map((code) => h('option', { value: code, selected: code === getLanguage() }, t(`lang.${code}`))));
  select.addEventListener('change', () => {
    rememberLanguage(select.value);
    setLanguage(select.value);
    onChange();
  });
  return select;
}

function workspaceName(w) {
  return w.personal ? t('header.personal', { name: w.name }) : w.name;
}

function workspaceSwitcher() {
  const select = h('select', { id: 'workspace', 'aria-label': t('header.workspace') },
    state.me.workspaces.map((w) => h('option', { value: w.id, selected: w.id === state.workspace.id },
      workspaceName(w))));
  select.addEventListener('change', async () => {
    chooseWorkspace(Number(select.value));
    await checkTeam();
    renderShell();
  });
  return select;
}

function chooseWorkspace(id) {
  const found = state.me.workspaces.find((w) => w.id === id) ?? state.me.workspaces[0];
  state.workspace = found;
  setWorkspace(found.id);
  localStorage.setItem(WORKSPACE_KEY, String(found.id));
}

async function checkTeam() {
  state.team = state.workspace.role === 'owner' && await teamAvailable();
}

function navigation(active) {
  const shown = {
    team: state.team,
    audit: state.workspace.role === 'owner', // the workspace's log is its owner's (docs/permissions.md)
    admin: state.me.role === 'admin', // the installation's global role, from /me
  };
  const items = NAV.filter((name) => shown[name] ?? true);
  return h('nav', { class: 'main-nav', 'aria-label': t('nav.label') },
    h('ul', {}, items.map((name) => h('li', {},
      h('a', { href: NAV_HREF[name], 'aria-current': name === active ? 'page' : null, id: `nav-${name}` }, t(`nav.${name}`))))));
}

function header(active) {
  const me = state.me;
  const who = me.username ? `@${me.username}` : me.first_name;
  const logoutButton = h('button', { type: 'button', id: 'logout', class: 'ghost' }, t('header.logout'));
  logoutButton.addEventListener('click', async () => {
    logoutButton.disabled = true;
    try { await logout(); } catch { /* the session ends here either way */ }
    leave(t('login.loggedOut'));
  });
  // On a phone the header is one line, the brand and a menu button (app.css hides the
  // sections and the tools until it is pressed); a wider screen shows them all.
  const bar = h('header', { class: 'topbar', id: 'topbar' });
  const menu = h('button', { type: 'button', class: 'menu-button ghost', id: 'menu-button',
    'aria-expanded': 'false', 'aria-controls': 'topbar-menu' }, t('header.menu'));
  menu.addEventListener('click', () => {
    const open = !bar.classList.contains('open');
    bar.classList.toggle('open', open);
    menu.setAttribute('aria-expanded', String(open));
  });
  return replace(bar,
    h('a', { class: 'brand', href: '#/' }, 'tg-inviter'),
    menu,
    h('div', { class: 'topbar-menu', id: 'topbar-menu' },
    navigation(active),
    h('div', { class: 'topbar-tools' },
      state.me.workspaces.length > 1 ? workspaceSwitcher() : h('span', { class: 'workspace-name', id: 'workspace-name' }, workspaceName(state.workspace)),
      languageSwitcher(renderShell),
      h('span', { class: 'who', id: 'current-user', title: me.first_name }, who),
      logoutButton)));
}

function skipLink(main) {
  const skip = h('a', { class: 'skip-link', href: '#' }, t('nav.skip'));
  skip.addEventListener('click', (event) => { event.preventDefault(); main.focus(); });
  return skip;
}

function currentRoute() {
  const path = location.hash.replace(/^#/, '') || '/';
  for (const route of ROUTES) {
    const match = route.path.exec(path);
    if (match && (!route.needs || state[route.needs])) return { route, params: match.slice(1) };
  }
  return null;
}

async function renderShell() {
  if (!state.me) return;
  document.documentElement.lang = getLanguage();
  document.title = 'tg-inviter';
  const found = currentRoute();
  if (!found) {
    location.hash = '#/';
    return;
  }
  state.cleanup?.();
  state.cleanup = null;
  const renderId = ++state.renderId;
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(app, skipLink(main), header(found.route.nav), main);
  app.setAttribute('aria-busy', 'true');
  const ctx = {
    me: state.me,
    workspace: state.workspace,
    params: found.params,
    lang: getLanguage(),
    announce,
    navigate: (hash) => { location.hash = hash; },
    alive: () => renderId === state.renderId,
  };
  let cleanup = null;
  try {
    cleanup = await found.route.render(main, ctx);
  } catch (err) {
    console.error(err);
    main.append(h('p', { class: 'form-error', role: 'alert' }, t('error.page')));
  }
  if (renderId !== state.renderId) {
    cleanup?.();
    return;
  }
  state.cleanup = cleanup ?? null;
  app.setAttribute('aria-busy', 'false');
  main.querySelector('h1')?.focus({ preventScroll: true });
}

async function enter() {
  state.me = await api('/api/v1/me');
  setLanguage(preferredLanguage(state.me.language));
  const stored = Number(localStorage.getItem(WORKSPACE_KEY));
  chooseWorkspace(state.me.workspaces.some((w) => w.id === stored) ? stored : state.me.workspaces[0]?.id);
  await checkTeam();
  await renderShell();
}

function leave(notice) {
  state.cleanup?.();
  state.cleanup = null;
  state.me = null;
  state.renderId += 1;
  showLogin(notice);
}

function showLogin(notice) {
  document.documentElement.lang = getLanguage();
  app.setAttribute('aria-busy', 'false');
  const redraw = () => showLogin(notice);
  renderLogin(app, { notice, languageSwitcher: () => languageSwitcher(redraw), onLoggedIn: enter });
}

async function boot() {
  setLanguage(preferredLanguage(navigator.language));
  onLoggedOut(() => leave(t('login.sessionEnded')));
  window.addEventListener('hashchange', () => { if (state.me) renderShell(); });
  if (await refreshSession()) {
    try {
      await enter();
      return;
    } catch (err) {
      console.warn(err);
    }
  }
  if (!loggedIn()) showLogin();
}

boot();
