// The dashboard: accounts by status, work in progress, today's invites and results.
//
// Every figure comes from one place (GET /api/v1/overview) and its label says what it
// counts: people by result are the campaigns' own counters, summed, so they are the numbers
// of the campaign pages; today's figures are invite attempts and people added.

import { api } from './api.js';
import { progressBar } from './charts.js';
import { every, formatNumber, h, replace } from './dom.js';
import { t } from './i18n.js';
import { badge, errorBox, link, pageHeader, section } from './ui.js';

const ACTIVE_CAMPAIGNS = 'running,waiting,paused,scheduled';
const ACCOUNT_STATUSES = ['active', 'cooldown', 'parked', 'restricted', 'frozen', 'unauthorized', 'banned', 'disabled'];
// In the order and with the labels of a campaign's page (page-campaign.js).
const COUNTS = ['pending', 'unconfirmed', 'invited', 'already_member', 'failed', 'skipped'];

function stat(label, value, id) {
  return h('div', { class: 'stat', id }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
}

function accountsCard(result, lang) {
  if (result.status === 'rejected') return section(t('dash.accounts'), errorBox(result.reason));
  const accounts = result.value.items;
  const byStatus = Object.fromEntries(ACCOUNT_STATUSES.map((s) => [s, 0]));
  for (const a of accounts) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
  return section(t('dash.accounts'),
    h('div', { class: 'stats' }, stat(t('dash.accountsTotal'), formatNumber(accounts.length, lang), 'stat-accounts')),
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

function todayCard(result, lang) {
  if (result.status === 'rejected') return section(t('dash.today'), errorBox(result.reason));
  const { today } = result.value;
  return section(t('dash.today'),
    h('div', { class: 'stats' },
      stat(t('dash.attemptsToday'), formatNumber(today.attempts, lang), 'today-attempts'),
      stat(t('dash.addedToday'), formatNumber(today.added, lang), 'today-added')),
    h('p', { class: 'hint' }, t('dash.todayHint')));
}

function resultsCard(result, lang) {
  if (result.status === 'rejected') return section(t('dash.outcomes'), errorBox(result.reason));
  const { counts } = result.value;
  return section(t('dash.outcomes'),
    h('p', { class: 'hint' }, t('dash.outcomesHint')),
    h('div', { class: 'stats', id: 'overview-counts' },
      COUNTS.map((key) => stat(t(`count.${key}`), formatNumber(counts[key] ?? 0, lang), `overview-${key}`))));
}

export async function renderDashboard(root, ctx) {
  const grid = h('div', { class: 'grid' });
  replace(root, pageHeader(t('nav.dashboard')), grid);
  const load = async () => {
    const [accounts, overview, tasks, campaigns] = await Promise.allSettled([
      api('/api/v1/accounts?limit=100'),
      api('/api/v1/overview'),
      api('/api/v1/parse-tasks?limit=50'),
      api(`/api/v1/campaigns?status=${ACTIVE_CAMPAIGNS}&limit=50`),
    ]);
    if (!ctx.alive()) return;
    replace(grid, accountsCard(accounts, ctx.lang), todayCard(overview, ctx.lang), campaignsCard(campaigns),
      resultsCard(overview, ctx.lang), tasksCard(tasks));
  };
  await load();
  return every(5000, load);
}
