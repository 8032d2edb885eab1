// The audit log: who changed what and when, newest first. A workspace's owner reads that
// workspace's log; an admin may read the whole installation's. Only named facts of an event
// are shown (never its session ids, addresses or browser), each through a sentence of the
// catalog; an action the catalog does not know yet is shown by its name.

import { ApiError, api, withQuery } from './api.js';
import { h, replace, table } from './dom.js';
import { CATALOG, t } from './i18n.js';
import { actionButton, errorBox, pageHeader } from './ui.js';

const PAGE = 50;

/** The details an event's sentence may use: plain numbers and short texts only. */
function facts(details) {
  const out = {};
  for (const [key, value] of Object.entries(details ?? {})) {
    if (typeof value === 'number' || (typeof value === 'string' && value && value.length <= 200)) out[key] = value;
  }
  if (details?.changed && typeof details.changed === 'object') {
    out.changed = Object.entries(details.changed).map(([name, value]) => `${limitName(name)}: ${value}`).join(', ');
  }
  if (out.username) out.username = `@${out.username}`;
  else if (out.user_id) out.username = `#${out.user_id}`;
  if (typeof out.from === 'string') out.from = t(`account.status.${out.from}`);
  if (typeof out.to === 'string') out.to = t(`account.status.${out.to}`);
  if (typeof out.status === 'string') out.status = t(`campaign.status.${out.status}`);
  if (typeof out.role === 'string') out.role = t(`admin.role.${out.role}`);
  if (typeof out.kind === 'string') out.kind = t(`task.kind.${out.kind}`);
  return out;
}

export function limitName(name) {
  const key = `limits.name.${name}`;
  return key in CATALOG.en ? t(key) : name;
}

/** An event in words: "Disabled account #3", or its action's name when no sentence exists. */
export function describe(entry) {
  const key = `audit.action.${entry.action}`;
  if (!(key in CATALOG.en)) return entry.action;
  const text = t(key, facts(entry.details));
  // A fact the event did not carry stays out of the sentence rather than showing as {name}.
  return text.replace(/\s*\(?\{\w+\}\)?/g, '');
}

/** A table that becomes one card per row on a phone, each cell named by its column. */
export function phoneTable(caption, headers, rows, options) {
  const wrap = table(caption, headers, rows, options);
  wrap.classList.add('stack-on-phone');
  for (const row of wrap.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, i) => { cell.dataset.label = headers[i]; });
  }
  return wrap;
}

/** To the second: events of one minute are told apart. */
function when(iso, lang) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

export function actorText(actor) {
  if (!actor) return t('audit.system');
  return actor.username ? `@${actor.username}` : `#${actor.id}`;
}

export async function renderAudit(root, ctx) {
  const isAdmin = ctx.me.role === 'admin';
  const errors = h('div', { 'aria-live': 'polite' });
  const holder = h('div', { id: 'audit-log' });
  const more = h('div', { class: 'pager' });
  const everything = isAdmin ? h('input', { type: 'checkbox', id: 'audit-all' }) : null;
  let items = [];
  let next = null;

  const hint = h('p', { class: 'hint', id: 'audit-hint' }, t('audit.hint'));

  const draw = () => {
    const all = Boolean(everything?.checked);
    hint.textContent = t(all ? 'audit.hintAll' : 'audit.hint');
    const headers = [t('audit.at'), t('audit.actor'), t('audit.action'), all ? t('audit.workspace') : null].filter(Boolean);
    replace(holder, phoneTable(t('nav.audit'), headers,
      items.map((entry) => [
        h('time', { datetime: entry.at }, when(entry.at, ctx.lang)),
        actorText(entry.actor),
        h('span', { class: 'audit-action', dataset: { action: entry.action } }, describe(entry)),
        all ? (entry.workspace_id === null ? '—' : `#${entry.workspace_id}`) : null,
      ].filter((cell) => cell !== null)), { empty: t('audit.none') }));
    replace(more, next ? actionButton(t('common.more'), () => load(next), { kind: 'ghost', id: 'audit-more' }) : null);
  };

  let asked = 0;
  async function load(cursor) {
    const mine = ++asked; // a newer question (another filter) wins over an older answer
    errors.replaceChildren();
    try {
      const page = await api(withQuery('/api/v1/audit', { limit: PAGE, cursor, all: everything?.checked ? 1 : null }));
      if (!ctx.alive() || mine !== asked) return;
      items = cursor ? items.concat(page.items) : page.items;
      next = page.next_cursor;
      draw();
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        replace(holder, h('p', { class: 'notice warn', id: 'audit-refused', role: 'alert' }, t('audit.ownerOnly')));
        replace(more);
        return;
      }
      replace(errors, errorBox(err));
    }
  }

  everything?.addEventListener('change', () => load(null));
  replace(root, pageHeader(t('nav.audit')),
    hint,
    everything ? h('label', { class: 'check' }, everything, t('audit.everything')) : null,
    errors, h('section', { class: 'card' }, holder, more));
  await load(null);
}
