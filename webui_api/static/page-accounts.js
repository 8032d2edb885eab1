// Linked accounts: status, cool-downs, today's usage against the limits, disable/enable.

import { api, withQuery } from './api.js';
import { meter } from './charts.js';
import { formatDateTime, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { accountLabel, actionButton, badge, errorBox, link, pageHeader } from './ui.js';
import { accountsHistory } from './page-account.js';
import { linkedNotice, unlinkButton } from './page-linking.js';

async function fetchLimits() {
  try {
    return await api('/api/v1/limits');
  } catch {
    return null; // no limits endpoint: the numbers are shown without a bar
  }
}

// Statuses that last until a time: a flood wait, a day's rest, and the end @SpamBot gave.
const UNTIL_SHOWN = ['cooldown', 'parked', 'restricted'];
const FROZEN_UNTIL = /^frozen_until:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})Z$/;

function statusCell(account, lang) {
  const until = UNTIL_SHOWN.includes(account.status) ? account.cooldown_until : null;
  // A frozen account's reason carries the day Telegram deletes it unless an appeal is accepted.
  const deadline = account.status === 'frozen' ? FROZEN_UNTIL.exec(account.status_reason ?? '') : null;
  return h('div', { class: 'status-cell' },
    badge('account', account.status),
    until ? h('small', {}, t('accounts.until', { time: formatDateTime(until, lang) })) : null,
    deadline ? h('small', {}, t('accounts.frozenDeadline', { time: formatDateTime(`${deadline[1]}:00Z`, lang) })) : null,
    account.status_reason && !deadline ? h('small', { class: 'muted' }, account.status_reason) : null);
}

export async function renderAccounts(root, ctx) {
  const errors = h('div', { 'aria-live': 'polite' });
  const holder = h('div');
  const more = h('div', { class: 'pager' });
  const linkButton = h('a', { href: '#/accounts/link', class: 'button primary', id: 'link-account' }, t('linking.start'));
  replace(root, pageHeader(t('nav.accounts'), linkButton), h('p', { class: 'hint' }, t('accounts.hint')), errors, holder, more);
  errors.replaceChildren(linkedNotice() ?? '');
  const owner = ctx.workspace.role === 'owner'; // unlinking is the owner's (docs/permissions.md)
  const limits = await fetchLimits();
  let accounts = [];
  let next = null;

  const row = (account) => [
    h('div', {}, h('strong', {}, link(`#/accounts/${account.id}`, accountLabel(account))), h('div', { class: 'muted' }, account.first_name)),
    account.phone ?? '—',
    statusCell(account, ctx.lang),
    limits ? meter(t('accounts.usage', { name: accountLabel(account) }), account.usage_today, limits.daily_per_account) : String(account.usage_today),
    h('div', { class: 'toolbar' },
      account.status === 'disabled'
        ? actionButton(t('accounts.enable'), () => toggle(account, 'enable'), { errorTarget: errors, 'data-account': account.id })
        : actionButton(t('accounts.disable'), () => toggle(account, 'disable'), { kind: 'ghost', errorTarget: errors, 'data-account': account.id }),
      owner ? unlinkButton(account, { errorTarget: errors, onDone: unlinked }) : null),
  ];

  async function unlinked(text) {
    errors.replaceChildren(h('p', { class: 'notice ok', role: 'status', id: 'unlinked-notice' }, text));
    ctx.announce(text);
    await load(null);
  }

  const draw = () => {
    replace(holder, table(t('nav.accounts'),
      [t('accounts.account'), t('accounts.phone'), t('accounts.status'), t('accounts.today'), t('common.actions')],
      accounts.map(row), { empty: t('accounts.none') }));
    replace(more, next ? actionButton(t('common.more'), () => load(next), { kind: 'ghost' }) : null);
  };

  async function toggle(account, action) {
    const fresh = await api(`/api/v1/accounts/${account.id}/${action}`, { method: 'POST' });
    accounts = accounts.map((a) => (a.id === fresh.id ? fresh : a));
    ctx.announce(t(`accounts.${action}d`, { name: accountLabel(fresh) }));
    draw();
  }

  async function load(cursor) {
    try {
      const page = await api(withQuery('/api/v1/accounts', { limit: 50, cursor }));
      accounts = cursor ? accounts.concat(page.items) : page.items;
      next = page.next_cursor;
      draw();
    } catch (err) {
      replace(errors, errorBox(err));
    }
  }
  await load(null);
  if (ctx.alive()) root.append(await accountsHistory(ctx));
}
