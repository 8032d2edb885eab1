// The accounts' history (the last 30 UTC days: attempts per day by outcome, and the status
// changes — flood waits, PEER_FLOOD rests, restrictions, freezes) and one account's page.

import { api } from './api.js';
import { barChart, meter } from './charts.js';
import { formatDateTime, formatNumber, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { badge, errorBox, link, pageHeader, section } from './ui.js';

const DAYS = 30;
// A refunded attempt (the account's refusal: a flood wait, PEER_FLOOD) spent nothing and says
// the account had to rest; the journal's `counted` marks it.
const REST_REASONS = ['flood', 'peer_flood'];

function kindOf(count) {
  if (count.outcome === 'invited') return 'ok';
  if (count.outcome === 'failed') return 'bad';
  if (count.outcome === 'retry' && REST_REASONS.includes(count.reason)) return 'rest';
  return 'other';
}

function dayLabel(day, lang) {
  // The day is a UTC day: formatted in UTC, so that it is the same date everywhere.
  return new Intl.DateTimeFormat(lang, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' })
    .format(new Date(`${day}T00:00:00Z`));
}

/** Attempts per UTC day, stacked by what came of them; only days with attempts are drawn. */
export function historyChart(history, lang, { id } = {}) {
  const days = new Map();
  for (const c of history.invites) {
    const day = days.get(c.day) ?? { ok: 0, bad: 0, other: 0, rest: 0 };
    day[kindOf(c)] += c.n;
    days.set(c.day, day);
  }
  const holder = h('div', { class: 'history', id });
  if (!days.size) return replace(holder, h('p', { class: 'empty' }, t('history.none', { days: history.days })));
  const ordered = [...days.entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1)); // newest first
  const rows = ordered.map(([day, n]) => ({
    label: dayLabel(day, lang),
    values: [
      { value: n.ok, kind: 'bar-ok', title: t('history.added') },
      { value: n.bad, kind: 'bar-bad', title: t('history.failed') },
      { value: n.other, kind: 'bar-other', title: t('history.other') },
      { value: n.rest, kind: 'bar-rest', title: t('history.rest') },
    ],
  }));
  const quiet = history.days - days.size;
  return replace(holder,
    barChart(t('history.chart', { days: history.days }), rows, {
      legend: [
        { kind: 'bar-ok', label: t('history.added') },
        { kind: 'bar-bad', label: t('history.failed') },
        { kind: 'bar-other', label: t('history.other') },
        { kind: 'bar-rest', label: t('history.rest') },
      ],
    }),
    quiet > 0 ? h('p', { class: 'muted' }, t('history.quiet', { n: quiet })) : null);
}

/** Status changes, newest first: when, (which account,) the status, why, until when. */
export function changesTable(history, lang, { accounts = false, limit = 50 } = {}) {
  const labels = Object.fromEntries(history.accounts.map((a) => [a.id, a.label]));
  const changes = history.changes.slice().reverse().slice(0, limit);
  const heads = [t('history.at'), ...(accounts ? [t('history.account')] : []), t('history.status'), t('history.reason'), t('history.until')];
  return table(t('history.changes'), heads, changes.map((c) => [
    formatDateTime(c.at, lang),
    ...(accounts ? [link(`#/accounts/${c.account_id}`, labels[c.account_id] ?? `#${c.account_id}`)] : []),
    badge('account', c.status),
    // Why in words; an active account needs no reason, another status is its own sentence.
    h('span', {}, c.reason_text ?? (c.status === 'active' ? '—' : c.status_text), c.reason ? h('code', { class: 'rpc-error' }, ` ${c.reason}`) : null),
    c.until ? formatDateTime(c.until, lang) : '—',
  ]), { empty: t('history.noChanges', { days: history.days }) });
}

/** Each account's part of those days: what came of its attempts, in all. */
function perAccount(history, lang) {
  const sums = new Map(history.accounts.map((a) => [a.id, { ok: 0, bad: 0, other: 0, rest: 0 }]));
  for (const c of history.invites) {
    const sum = sums.get(c.account_id);
    if (sum) sum[kindOf(c)] += c.n;
  }
  const n = (v) => formatNumber(v, lang);
  return table(t('history.perAccount', { days: history.days }),
    [t('history.account'), t('history.added'), t('history.failed'), t('history.other'), t('history.rest')],
    history.accounts.map((a) => {
      const sum = sums.get(a.id);
      return [link(`#/accounts/${a.id}`, a.label), n(sum.ok), n(sum.bad), n(sum.other), n(sum.rest)];
    }), { empty: t('accounts.none') });
}

/** The accounts page's history: every account of the workspace together. */
export async function accountsHistory(ctx) {
  const holder = h('div', { id: 'accounts-history' });
  try {
    const history = await api(`/api/v1/history?days=${DAYS}`);
    replace(holder, historyChart(history, ctx.lang, { id: 'history-chart' }), perAccount(history, ctx.lang),
      changesTable(history, ctx.lang, { accounts: true, limit: 20 }));
  } catch (err) {
    replace(holder, errorBox(err));
  }
  return section(t('history.title', { days: DAYS }), holder);
}

export async function renderAccount(root, ctx) {
  const id = ctx.params[0];
  const back = h('p', {}, link('#/accounts', t('account.back')));
  let page;
  try {
    page = await api(`/api/v1/accounts/${id}?days=${DAYS}`);
  } catch (err) {
    replace(root, pageHeader(t('nav.accounts')), back, errorBox(err));
    return null;
  }
  const lang = ctx.lang;
  const a = page.account;
  const facts = h('dl', { class: 'facts', id: 'account-facts' },
    h('dt', {}, t('account.status')), h('dd', { id: 'account-status' }, badge('account', a.status), ' ', page.status_text),
    page.reason_text || a.status_reason ? [h('dt', {}, t('account.reason')), h('dd', { id: 'account-reason' },
      page.reason_text ?? '', a.status_reason ? h('code', { class: 'rpc-error' }, ` ${a.status_reason}`) : null)] : null,
    h('dt', {}, t('account.restUntil')), h('dd', { id: 'account-rest' }, page.rest_until ? formatDateTime(page.rest_until, lang) : t('account.noRest')),
    h('dt', {}, t('account.today')), h('dd', {}, meter(t('accounts.usage', { name: page.label }), a.usage_today, page.limits.daily_per_account)),
    h('dt', {}, t('account.total')), h('dd', { id: 'account-total' }, t('account.totalValue', {
      attempts: formatNumber(page.totals.attempts, lang), invited: formatNumber(page.totals.invited, lang),
    })),
    h('dt', {}, t('account.limits')), h('dd', {}, t('account.limitsValue', page.limits)),
    h('dt', {}, t('account.lastCheck')), h('dd', { id: 'account-checked' }, page.last_checked_at ? formatDateTime(page.last_checked_at, lang) : t('account.neverChecked')),
    a.phone ? [h('dt', {}, t('accounts.phone')), h('dd', {}, a.phone)] : null);
  replace(root,
    pageHeader(page.label, back),
    section(t('account.facts'), facts),
    section(t('history.title', { days: DAYS }), historyChart(page.history, lang, { id: 'history-chart' }), changesTable(page.history, lang)));
  return null;
}
