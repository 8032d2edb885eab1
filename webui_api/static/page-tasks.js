// Collection tasks: live progress (polling), pause/resume/cancel, and a form for a new one.

import { api, withQuery } from './api.js';
import { progressBar } from './charts.js';
import { every, field, formatDateTime, formatNumber, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, badge, errorBox, link, pageHeader, section } from './ui.js';

const ACTIVE = ['queued', 'running'];
const CONTROLS = { queued: ['pause', 'cancel'], running: ['pause', 'cancel'], paused: ['resume', 'cancel'] };
const LAST_SEEN = ['online', 'recently', 'week', 'month', 'long_ago'];

function select(name, values, chosen, prefix) {
  return h('select', { name, id: `task-${name}` }, values.map((v) => h('option', { value: v, selected: v === chosen }, t(`${prefix}.${v}`))));
}

// An invite link (t.me/+…, t.me/joinchat/…): a private chat that one account joins first.
const INVITE_LINK = /(^|\/)(\+|joinchat\/)[\w-]+\/?$/;

// Which account joins a private chat: the first that can work, or the one chosen here.
function joinerPicker() {
  const choice = h('select', { name: 'account', id: 'task-account' }, h('option', { value: '' }, t('tasks.joinerAny')));
  const holder = field(t('tasks.joiner'), choice, t('tasks.joinerHint'));
  holder.style.display = 'none'; // (a field's own display would win over `hidden`)
  let loaded = false;
  return {
    el: holder,
    value: () => (choice.value ? Number(choice.value) : null),
    async show(visible) {
      holder.style.display = visible ? '' : 'none';
      if (!visible || loaded) return;
      loaded = true;
      const page = await api(withQuery('/api/v1/accounts', { limit: 100 }));
      choice.append(...page.items.filter((a) => ['active', 'cooldown'].includes(a.status))
        .map((a) => h('option', { value: a.id }, a.username ? `@${a.username}` : a.first_name)));
    },
  };
}

function newTaskForm(onCreated) {
  const source = h('input', { name: 'source', id: 'task-source', required: true, maxlength: 128, placeholder: '@group, https://t.me/…' });
  const joiner = joinerPicker();
  source.addEventListener('input', () => joiner.show(INVITE_LINK.test(source.value.trim())).catch(() => {}));
  const kind = select('kind', ['members', 'comments', 'authors'], 'members', 'task.kind');
  const speed = select('speed', ['safe', 'medium', 'fast'], 'medium', 'task.speed');
  const priority = select('priority', ['high', 'normal', 'low'], 'normal', 'task.priority');
  const audience = h('input', { name: 'audience', id: 'task-audience', maxlength: 128 });
  const posts = h('input', { name: 'posts', id: 'task-posts', type: 'number', min: 1, max: 1000, value: 100 });
  const days = h('input', { name: 'days', id: 'task-days', type: 'number', min: 1, max: 365, value: 30 });
  const skips = ['skip_bots', 'skip_deleted', 'skip_scam', 'skip_admins'].map((name) => h('input', { type: 'checkbox', name, checked: true }));
  const needs = ['need_username', 'need_premium', 'need_photo'].map((name) => h('input', { type: 'checkbox', name }));
  const seen = LAST_SEEN.map((v) => h('input', { type: 'checkbox', name: 'last_seen', value: v }));
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('tasks.create'));
  const form = h('form', { class: 'stack-form', id: 'new-task' },
    h('div', { class: 'row' }, field(t('tasks.source'), source, t('tasks.sourceHint')), field(t('tasks.kindLabel'), kind), joiner.el),
    h('div', { class: 'row' }, field(t('tasks.speedLabel'), speed), field(t('tasks.priorityLabel'), priority), field(t('tasks.audience'), audience, t('tasks.audienceHint'))),
    h('div', { class: 'row' }, field(t('tasks.posts'), posts), field(t('tasks.days'), days)),
    h('fieldset', {}, h('legend', {}, t('tasks.filters')),
      [...skips, ...needs].map((box) => h('label', { class: 'check' }, box, t(`tasks.filter.${box.name}`)))),
    h('fieldset', {}, h('legend', {}, t('tasks.lastSeen')),
      seen.map((box) => h('label', { class: 'check' }, box, t(`lastSeen.${box.value}`)))),
    result, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    result.replaceChildren();
    const filters = Object.fromEntries([...skips, ...needs].map((box) => [box.name, box.checked]));
    filters.last_seen = seen.filter((box) => box.checked).map((box) => box.value);
    try {
      const task = await api('/api/v1/parse-tasks', {
        method: 'POST',
        body: {
          source: source.value.trim(), kind: kind.value, speed: speed.value, priority: priority.value,
          audience: audience.value.trim() || null, posts: Number(posts.value), days: Number(days.value), filters,
          ...(INVITE_LINK.test(source.value.trim()) && joiner.value() ? { account_id: joiner.value() } : {}),
        },
      });
      form.reset();
      result.replaceChildren(h('p', { class: 'notice', role: 'status' }, t('tasks.created', { source: task.source })));
      await onCreated();
    } catch (err) {
      result.replaceChildren(errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function renderTasks(root, ctx) {
  const errors = h('div');
  const holder = h('div');
  let tasks = [];

  const row = (task) => {
    const bar = progressBar(task.source_title || task.source, { small: true, id: `task-progress-${task.id}` });
    bar.update(task.progress.done, task.progress.total);
    const controls = (CONTROLS[task.status] ?? []).map((action) => actionButton(t(`tasks.${action}`), async () => {
      await api(`/api/v1/parse-tasks/${task.id}/${action}`, { method: 'POST' });
      ctx.announce(t(`tasks.done.${action}`));
      await load();
    }, { kind: action === 'cancel' ? 'danger ghost' : 'ghost', errorTarget: errors, 'data-task': task.id, 'data-action': action }));
    return [
      h('div', {}, h('strong', {}, task.source_title || task.source), h('div', { class: 'muted' }, `${task.source} · ${t(`task.kind.${task.kind}`)}`)),
      badge('task', task.status),
      h('div', {}, bar, h('small', {}, task.progress.total ? `${formatNumber(task.progress.done, ctx.lang)} / ${formatNumber(task.progress.total, ctx.lang)}` : formatNumber(task.progress.done, ctx.lang))),
      t('tasks.counts', { collected: task.collected, new: task.new, skipped: task.skipped }),
      link(`#/audiences/${task.audience_id}`, t('tasks.toAudience')),
      formatDateTime(task.created_at, ctx.lang),
      h('div', { class: 'buttons' }, controls, task.note ? h('small', { class: 'muted task-note' }, task.note) : null),
    ];
  };
  async function load() {
    try {
      const page = await api(withQuery('/api/v1/parse-tasks', { limit: 50 }));
      tasks = page.items;
      replace(holder, table(t('nav.tasks'),
        [t('tasks.sourceCol'), t('tasks.status'), t('tasks.progress'), t('tasks.collected'), t('tasks.audienceCol'), t('common.created'), t('common.actions')],
        tasks.map(row), { empty: t('tasks.none') }));
      errors.replaceChildren();
    } catch (err) {
      replace(errors, errorBox(err));
    }
  }
  replace(root, pageHeader(t('nav.tasks')), errors, section(t('tasks.list'), holder),
    h('details', { class: 'card' }, h('summary', {}, t('tasks.new')), newTaskForm(load)));
  await load();
  // Poll quickly while something is collecting, slowly otherwise.
  return every(() => (tasks.some((task) => ACTIVE.includes(task.status)) ? 2000 : 10000), load);
}
