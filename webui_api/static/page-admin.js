// The installation as its admins run it: users (block, unblock, the admin role), the
// installation's invite limits, and the health of every linked account. The API checks the
// role on every call; the navigation only hides these pages from others, and a page reached
// by its address says plainly that it is for admins.

import { ApiError, api, withQuery } from './api.js';
import { field, formatDateTime, formatNumber, h, replace } from './dom.js';
import { t } from './i18n.js';
import { limitName, phoneTable } from './page-audit.js';
import { accountLabel, actionButton, badge, errorBox, errorText, pageHeader, section } from './ui.js';

const TABS = [['users', '#/admin/users'], ['limits', '#/admin/limits'], ['accounts', '#/admin/accounts']];
const STATUSES = ['active', 'cooldown', 'parked', 'restricted', 'frozen', 'unauthorized', 'banned', 'disabled'];
const CEILING = 10_000_000; // core.installation.LIMIT_CEILING
const ZERO_ALLOWED = ['flood_buffer_s'];

function tabs(active) {
  return h('nav', { class: 'sub-nav', 'aria-label': t('admin.sections') },
    h('ul', {}, TABS.map(([name, href]) => h('li', {},
      h('a', { href, id: `admin-tab-${name}`, 'aria-current': name === active ? 'page' : null }, t(`admin.tab.${name}`))))));
}

/** The page's frame; a refusal (403) replaces its body with a plain sentence. */
function frame(root, active, ...body) {
  replace(root, pageHeader(t(`admin.tab.${active}`)), tabs(active), ...body);
}

function refused(holder, err) {
  if (err instanceof ApiError && err.status === 403) {
    replace(holder, h('p', { class: 'notice warn', id: 'admin-refused', role: 'alert' }, t('admin.refused')));
    return true;
  }
  return false;
}

// --- users -------------------------------------------------------------------------------

// The catalog's keys are words: `grant-admin` is `grant_admin` there.
const key = (action) => action.replace('-', '_');

function userLabel(user) {
  return user.username ? `@${user.username}` : user.first_name || `#${user.id}`;
}

export async function renderAdminUsers(root, ctx) {
  const errors = h('div', { 'aria-live': 'polite' });
  const holder = h('div', { id: 'admin-users' });
  const more = h('div', { class: 'pager' });
  const query = h('input', { id: 'user-search', name: 'q', type: 'search', maxlength: 33, placeholder: '@username', autocomplete: 'off' });
  const search = h('form', { class: 'search-form', role: 'search' },
    field(t('admin.users.search'), query),
    h('button', { type: 'submit', class: 'primary', id: 'user-search-go' }, t('admin.users.find')),
    h('small', { class: 'hint search-hint' }, t('admin.users.searchHint')));
  let items = [];
  let next = null;

  async function change(user, action) {
    if (['block', 'revoke-admin'].includes(action)
      && !window.confirm(t(`admin.users.confirm.${key(action)}`, { name: userLabel(user) }))) return;
    const fresh = await api(`/api/v1/admin/users/${user.id}/${action}`, { method: 'POST' });
    items = items.map((u) => (u.id === fresh.id ? fresh : u));
    ctx.announce(t(`admin.users.done.${key(action)}`, { name: userLabel(fresh) }));
    draw();
  }

  const button = (user, action, kind) => actionButton(t(`admin.users.${key(action)}`), () => change(user, action),
    { kind, errorTarget: errors, 'data-user': user.id, 'data-action': action });

  const controls = (user) => {
    if (user.configured_admin) return h('small', { class: 'muted' }, t('admin.users.configured'));
    if (user.id === ctx.me.id) return h('small', { class: 'muted' }, t('admin.users.yourself'));
    return h('div', { class: 'buttons' },
      user.blocked ? button(user, 'unblock', '') : button(user, 'block', 'danger ghost'),
      user.role === 'admin' ? button(user, 'revoke-admin', 'ghost') : button(user, 'grant-admin', 'ghost'));
  };

  const draw = () => {
    replace(holder, phoneTable(t('admin.tab.users'),
      [t('admin.users.user'), t('admin.users.role'), t('admin.users.state'), t('common.actions')],
      items.map((user) => [
        h('div', {}, h('strong', {}, userLabel(user)),
          h('small', { class: 'muted' }, [user.first_name, user.last_name].filter(Boolean).join(' ')),
          h('small', { class: 'muted' }, t('admin.users.telegramId', { id: user.telegram_id }))),
        t(`admin.role.${user.role}`),
        h('span', { class: `badge ${user.blocked ? 'status-banned' : 'status-active'}`, dataset: { state: user.blocked ? 'blocked' : 'active' } },
          t(user.blocked ? 'admin.users.blocked' : 'admin.users.active')),
        controls(user),
      ]), { empty: t('admin.users.none') }));
    replace(more, next ? actionButton(t('common.more'), () => load(next), { kind: 'ghost' }) : null);
  };

  let asked = 0;
  async function load(cursor) {
    const mine = ++asked; // a newer question (another filter) wins over an older answer
    errors.replaceChildren();
    try {
      const page = await api(withQuery('/api/v1/admin/users', { q: query.value.trim(), limit: 20, cursor }));
      if (!ctx.alive() || mine !== asked) return;
      items = cursor ? items.concat(page.items) : page.items;
      next = page.next_cursor;
      draw();
    } catch (err) {
      if (refused(holder, err)) {
        search.remove();
        return;
      }
      replace(errors, errorBox(err));
    }
  }

  search.addEventListener('submit', (event) => {
    event.preventDefault();
    load(null);
  });
  frame(root, 'users', h('p', { class: 'hint' }, t('admin.users.hint')), search, errors, section(t('admin.users.list'), holder, more));
  await load(null);
}

// --- limits ------------------------------------------------------------------------------

/** The first problem of the values typed, in words; null when they may be sent. */
function problemOf(values, lang) {
  for (const [name, raw] of Object.entries(values)) {
    const low = ZERO_ALLOWED.includes(name) ? 0 : 1;
    const number = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(number) || number < low || number > CEILING) {
      return { name, text: t('limits.range', { name: limitName(name), low, high: formatNumber(CEILING, lang) }) };
    }
  }
  if ('pause_min_s' in values && 'pause_max_s' in values && Number(values.pause_max_s) < Number(values.pause_min_s)) {
    return { name: 'pause_max_s', text: t('limits.pauseOrder') };
  }
  return null;
}

export async function renderAdminLimits(root, ctx) {
  const result = h('div', { 'aria-live': 'polite', id: 'limits-result' });
  const holder = h('div', { id: 'admin-limits' });
  frame(root, 'limits', h('p', { class: 'hint' }, t('limits.hint')), holder);
  let view;
  try {
    view = await api('/api/v1/admin/limits');
  } catch (err) {
    if (!refused(holder, err)) replace(holder, errorBox(err));
    return;
  }

  function draw() {
    const inputs = {};
    const rows = Object.keys(view.maximum).map((name) => {
      const low = ZERO_ALLOWED.includes(name) ? 0 : 1;
      inputs[name] = h('input', {
        id: `limit-${name}`, name, type: 'number', inputmode: 'numeric', min: low, max: CEILING, step: 1,
        value: view.maximum[name], 'aria-label': limitName(name), required: true,
      });
      return [
        h('div', {}, h('strong', {}, limitName(name)), h('small', { class: 'muted' }, t(`limits.kind.${name.endsWith('_s') ? 'least' : 'most'}`))),
        String(view.configured[name]),
        inputs[name],
        h('span', { id: `limit-effective-${name}` }, String(view.effective[name])),
      ];
    });
    const save = h('button', { type: 'submit', class: 'primary', id: 'limits-save' }, t('limits.save'));
    // The browser's own checks would stop the form with a bubble no screen reader or test
    // sees: the panel checks and says what is wrong itself, and the API checks again.
    const form = h('form', { id: 'limits-form', novalidate: true },
      phoneTable(t('admin.tab.limits'), [t('limits.limit'), t('limits.configured'), t('limits.maximum'), t('limits.effective')], rows),
      result, h('div', { class: 'buttons' }, save));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      result.replaceChildren();
      for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
      const typed = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value]));
      const changed = Object.fromEntries(Object.entries(typed)
        .filter(([name, raw]) => String(view.maximum[name]) !== raw.trim()));
      if (Object.keys(changed).length === 0) {
        result.replaceChildren(h('p', { class: 'notice', role: 'status' }, t('limits.unchanged')));
        return;
      }
      const problem = problemOf(typed, ctx.lang);
      if (problem) {
        inputs[problem.name].setAttribute('aria-invalid', 'true');
        result.replaceChildren(h('p', { class: 'form-error', role: 'alert', id: 'limits-error' }, problem.text));
        inputs[problem.name].focus();
        return;
      }
      save.disabled = true;
      try {
        const body = Object.fromEntries(Object.entries(changed).map(([name, raw]) => [name, Number(raw)]));
        view = await api('/api/v1/admin/limits', { method: 'PUT', body });
        draw();
        result.replaceChildren(h('p', { class: 'notice ok', role: 'status', id: 'limits-saved' },
          t('limits.saved', { names: Object.keys(body).map(limitName).join(', ') })));
        ctx.announce(t('limits.saved', { names: Object.keys(body).map(limitName).join(', ') }));
      } catch (err) {
        const name = err instanceof ApiError ? err.details.field : null;
        if (name && inputs[name]) inputs[name].setAttribute('aria-invalid', 'true');
        result.replaceChildren(h('p', { class: 'form-error', role: 'alert', id: 'limits-error' }, errorText(err)));
      } finally {
        if (save.isConnected) save.disabled = false;
      }
    });
    replace(holder, section(t('limits.title'), form),
      view.stored ? null : h('p', { class: 'hint', id: 'limits-not-stored' }, t('limits.notStored')));
  }
  draw();
}

// --- account health ----------------------------------------------------------------------

const UNTIL_SHOWN = ['cooldown', 'parked', 'restricted'];

export async function renderAdminAccounts(root, ctx) {
  const errors = h('div', { 'aria-live': 'polite' });
  const holder = h('div', { id: 'admin-accounts' });
  const more = h('div', { class: 'pager' });
  const status = h('select', { id: 'health-status', 'aria-label': t('health.filter') },
    h('option', { value: '' }, t('health.all')),
    STATUSES.map((s) => h('option', { value: s }, t(`account.status.${s}`))));
  let items = [];
  let next = null;

  const draw = () => {
    replace(holder, phoneTable(t('admin.tab.accounts'),
      [t('accounts.account'), t('health.workspace'), t('accounts.status'), t('health.reason'), t('health.until'), t('health.checked')],
      items.map((a) => [
        h('div', {}, h('strong', {}, accountLabel(a)), h('small', { class: 'muted' }, a.phone ?? '')),
        `#${a.workspace_id}`,
        h('span', { dataset: { account: a.id } }, badge('account', a.status)),
        a.status_reason ? h('code', { class: 'reason' }, a.status_reason) : '—',
        UNTIL_SHOWN.includes(a.status) && a.cooldown_until ? formatDateTime(a.cooldown_until, ctx.lang) : '—',
        a.last_checked_at ? formatDateTime(a.last_checked_at, ctx.lang) : t('health.never'),
      ]), { empty: t('health.none') }));
    replace(more, next ? actionButton(t('common.more'), () => load(next), { kind: 'ghost' }) : null);
  };

  let asked = 0;
  async function load(cursor) {
    const mine = ++asked; // a newer question (another filter) wins over an older answer
    errors.replaceChildren();
    try {
      const page = await api(withQuery('/api/v1/admin/accounts', { status: status.value, limit: 50, cursor }));
      if (!ctx.alive() || mine !== asked) return;
      items = cursor ? items.concat(page.items) : page.items;
      next = page.next_cursor;
      draw();
    } catch (err) {
      if (refused(holder, err)) {
        status.remove();
        return;
      }
      replace(errors, errorBox(err));
    }
  }

  status.addEventListener('change', () => load(null));
  frame(root, 'accounts', h('p', { class: 'hint' }, t('health.hint')), h('div', { class: 'toolbar' }, status), errors,
    section(t('health.list'), holder, more));
  await load(null);
}
