// Opt-outs: the people this workspace never invites. Any member reads the list and its CSV;
// the owner adds (by Telegram id, or a username one of the audiences has), removes and imports.
// People who sent the bot /optout are on the installation's own list, which nobody else changes.

import { api, download, withQuery } from './api.js';
import { field, formatDateTime, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, errorBox, errorText, pageHeader, section } from './ui.js';

const BASE = '/api/v1/opt-outs';

export async function renderOptOuts(root, ctx) {
  const owner = ctx.workspace.role === 'owner';
  const errors = h('div', { 'aria-live': 'polite' });
  const holder = h('div', { id: 'optouts-list' });
  let items = [];

  function draw(total, nextCursor) {
    const rows = items.map((o) => [
      String(o.user_id),
      o.username ? `@${o.username}` : '—',
      o.reason ? t(`optouts.reason.${o.reason}`) : '—',
      formatDateTime(o.created_at, ctx.lang),
      ...(owner ? [actionButton(t('optouts.remove'), async () => {
        await api(`${BASE}/${o.user_id}`, { method: 'DELETE' });
        ctx.announce(t('optouts.removed', { id: o.user_id }));
        await load();
      }, { kind: 'danger ghost', errorTarget: errors, 'data-user': String(o.user_id) })] : []),
    ]);
    const headers = [t('optouts.userId'), t('optouts.username'), t('optouts.reason'), t('optouts.since'),
      ...(owner ? [t('common.actions')] : [])];
    const more = nextCursor ? actionButton(t('common.more'), async () => {
      const page = await api(withQuery(BASE, { cursor: nextCursor }));
      items = items.concat(page.items);
      draw(page.total, page.next_cursor);
    }, { errorTarget: errors }) : null;
    replace(holder, h('p', { id: 'optouts-total' }, t('optouts.total', { n: total })),
      table(t('nav.optouts'), headers, rows, { empty: t('optouts.none') }), more);
  }

  async function load() {
    try {
      const page = await api(BASE);
      items = page.items;
      draw(page.total, page.next_cursor);
    } catch (err) {
      replace(holder, errorBox(err));
    }
  }

  const exportButton = actionButton(t('optouts.export'), () => download(`${BASE}/export.csv`, 'opt-outs.csv'),
    { id: 'optouts-export', errorTarget: errors });
  const parts = [pageHeader(t('nav.optouts')), h('p', { class: 'hint' }, t('optouts.hint')), errors,
    section(t('optouts.listTitle'), holder, exportButton)];
  if (owner) parts.push(section(t('optouts.addTitle'), addForm(ctx, load)), section(t('optouts.importTitle'), importForm(load)));
  else parts.push(h('p', { class: 'hint' }, t('optouts.ownerOnly')));
  replace(root, ...parts);
  await load();
}

function addForm(ctx, onDone) {
  const person = h('input', { name: 'person', id: 'optout-person', required: true, maxlength: 33, placeholder: '123456789 / @username' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('optouts.add'));
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline-form' }, field(t('optouts.person'), person, t('optouts.personHint')), submit, result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = person.value.trim();
    submit.disabled = true;
    result.replaceChildren();
    try {
      const body = /^\d+$/.test(value) ? { user_id: Number(value) } : { username: value };
      const answer = await api(BASE, { method: 'POST', body });
      ctx.announce(t(answer.added ? 'optouts.added' : 'optouts.already', { id: answer.user_id }));
      form.reset();
      await onDone();
    } catch (err) {
      result.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function importForm(onDone) {
  const input = h('input', { type: 'file', name: 'file', id: 'optouts-file', accept: '.csv,text/csv,text/plain' });
  const result = h('div', { 'aria-live': 'polite', id: 'optouts-import-result' });
  const submit = h('button', { type: 'submit' }, t('optouts.import'));
  const form = h('form', { class: 'inline-form' }, field(t('optouts.importFile'), input, t('optouts.importHint')), submit, result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files?.[0];
    if (!file) return;
    submit.disabled = true;
    try {
      const report = await api(`${BASE}/import`, { method: 'POST', body: file, headers: { 'Content-Type': 'text/csv' } });
      replace(result, h('p', { class: 'notice', role: 'status' }, t('optouts.imported', report)),
        report.errors.length ? table(t('audiences.importErrors'), [t('audiences.line'), t('audiences.value'), t('audiences.problem')],
          report.errors.slice(0, 100).map((e) => [String(e.line), e.value, t(`optouts.problem.${e.problem}`)])) : null);
      form.reset();
      await onDone();
    } catch (err) {
      replace(result, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
