// The dashboard: accounts by status, work in progress, today's invites and results.

import { api } from './api.js';
import { progressBar } from './charts.js';
import { every, formatNumber, h, replace } from './dom.js';
import { t } from './i18n.js';
import { badge, errorBox, link, pageHeader, section } from './ui.js';

const ACTIVE_CAMPAIGNS = 'running,waiting,paused,scheduled';
const ACCOUNT_STATUSES = ['active', 'cooldown', 'parked', 'restricted', 'frozen', 'unauthorized', 'banned', 'disabled'];
const OUTCOMES = ['invited', 'already_member', 'failed', 'skipped'];
const TODAY = [...OUTCOMES, 'retry'];

function stat(label, value, id) {
  return h('div', { class: 'stat', id }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
}

function accountsCard(result, lang) {
  if (result.status === 'rejected') return section(t('dash.accounts'), errorBox(result.reason));
  const accounts = result.value.items;
  const byStatus = Object.fromEntries(ACCOUNT_STATUSES.map((s) => [s, 0]));
  for (const a of accounts) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
  const invitesToday = accounts.reduce((sum, a) => sum + a.usage_today, 0);
  return section(t('dash.accounts'),
    h('div', { class: 'stats' },
      stat(t('dash.accountsTotal'), formatNumber(accounts.length, lang), 'stat-accounts'),
      stat(t('dash.invitesToday'), formatNumber(invitesToday, lang), 'stat-invites-today')),
    accounts.length === 0
      ? h('p', { class: 'empty' }, t('accounts.none'))
      : h('ul', { class: 'status-list' }, ACCOUNT_STATUSES.filter((s) => byStatus[s] > 0)
        .map((s) => h('li', {}, badge('account', s), ' ', formatNumber(byStatus[s], lang)))),
    h('p', {}, link('#/accounts', t('dash.toAccounts'))));
}

function tasksCard(result) {
  if (result.status === 'rejected') return section(t('dash.tasks'), errorBox(result.reason));
  const active = result.value.items.filter((task) => ['queued', 'running', 'paused'].includes(task.status));
  return section(t('dash.tasks'),
    active.length === 0 ? h('p', { class: 'empty' }, t('dash.noTasks')) : h('ul', { class: 'work-list' }, active.map((task) => {
      const bar = progressBar(task.source_title || task.source, { small: true });
      bar.update(task.progress.done, task.progress.total);
      return h('li', {}, h('div', { class: 'work-title' }, h('span', {}, task.source_title || task.source), badge('task', task.status)), bar);
    })),
    h('p', {}, link('#/tasks', t('dash.toTasks'))));
}

function campaignsCard(result) {
  if (result.status === 'rejected') return section(t('dash.campaigns'), errorBox(result.reason));
  const items = result.value.items;
  return section(t('dash.campaigns'),
    items.length === 0 ? h('p', { class: 'empty' }, t('dash.noCampaigns')) : h('ul', { class: 'work-list' }, items.map((c) => {
      const bar = progressBar(c.name, { small: true });
      bar.update(c.progress.done, c.progress.total);
      return h('li', {}, h('div', { class: 'work-title' }, link(`#/campaigns/${c.id}`, c.name), badge('campaign', c.status)), bar);
    })),
    h('p', {}, link('#/campaigns', t('dash.toCampaigns'))));
}

function outcomesCard(result, lang) {
  if (result.status === 'rejected') return null;
  const totals = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
  for (const c of result.value.items) for (const o of OUTCOMES) totals[o] += c.counts[o] ?? 0;
  return section(t('dash.outcomes'),
    h('p', { class: 'hint' }, t('dash.outcomesHint')),
    h('div', { class: 'stats' }, OUTCOMES.map((o) => stat(t(`count.${o}`), formatNumber(totals[o], lang), `stat-${o}`))));
}

// Every attempt of the workspace since 00:00 UTC, from the invite journal.
function todayCard(result, lang) {
  if (result.status === 'rejected') return section(t('dash.today'), errorBox(result.reason));
  const { outcomes } = result.value;
  return section(t('dash.today'),
    h('div', { class: 'stats' }, TODAY.map((o) => stat(t(`count.${o}`), formatNumber(outcomes[o] ?? 0, lang), `today-${o}`))));
}

export async function renderDashboard(root, ctx) {
  const grid = h('div', { class: 'grid' });
  replace(root, pageHeader(t('nav.dashboard')), grid);
  const load = async () => {
    const [accounts, today, tasks, campaigns] = await Promise.allSettled([
      api('/api/v1/accounts?limit=100'),
      api('/api/v1/invites/today'),
      api('/api/v1/parse-tasks?limit=50'),
      api(`/api/v1/campaigns?status=${ACTIVE_CAMPAIGNS}&limit=50`),
    ]);
    replace(grid, accountsCard(accounts, ctx.lang), todayCard(today, ctx.lang), campaignsCard(campaigns),
      outcomesCard(campaigns, ctx.lang), tasksCard(tasks));
  };
  await load();
  return every(5000, load);
}
