// Audiences: their sizes; one audience's people (pages, filters), CSV export and import.

import { api, download, withQuery } from './api.js';
import { field, formatDateTime, formatNumber, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, errorBox, link, pageHeader, section } from './ui.js';

const LAST_SEEN = ['online', 'recently', 'week', 'month', 'long_ago', 'unknown'];

export async function renderAudiences(root, ctx) {
  const holder = h('div');
  const more = h('div', { class: 'pager' });
  replace(root, pageHeader(t('nav.audiences')), holder, more);
  let items = [];
  const load = async (cursor) => {
    try {
      const page = await api(withQuery('/api/v1/audiences', { limit: 50, cursor }));
      items = cursor ? items.concat(page.items) : page.items;
      replace(holder, table(t('nav.audiences'),
        [t('audiences.name'), t('audiences.source'), t('audiences.size'), t('audiences.pending'), t('common.created')],
        items.map((a) => [link(`#/audiences/${a.id}`, a.name), a.source ?? '—', formatNumber(a.size, ctx.lang),
          formatNumber(a.pending_usernames, ctx.lang), formatDateTime(a.created_at, ctx.lang)]),
        { empty: t('audiences.none') }));
      replace(more, page.next_cursor ? actionButton(t('common.more'), () => load(page.next_cursor), { kind: 'ghost' }) : null);
    } catch (err) {
      replace(holder, errorBox(err));
    }
  };
  await load(null);
}

function filtersForm(onChange) {
  const text = h('input', { type: 'search', name: 'q', id: 'member-search' });
  const seen = h('select', { name: 'last_seen', id: 'member-last-seen' },
    h('option', { value: '' }, t('members.anyTime')),
    LAST_SEEN.map((v) => h('option', { value: v }, t(`lastSeen.${v}`))));
  const flags = ['username', 'premium', 'photo'].map((name) => h('input', { type: 'checkbox', name, id: `member-${name}` }));
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('members.search'), text),
    field(t('members.lastSeen'), seen),
    flags.map((box) => h('label', { class: 'check' }, box, t(`members.has.${box.name}`))));
  let timer = null;
  form.addEventListener('input', () => {  // the server filters: ask again once typing pauses
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  return {
    form,
    params() {
      const [username, premium, photo] = flags.map((box) => (box.checked ? 1 : null));
      return { q: text.value.trim(), last_seen: seen.value, username, premium, photo };
    },
  };
}

function importForm(audience, onDone) {
  const input = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,text/csv,text/plain' });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, t('audiences.import'));
  const form = h('form', { class: 'inline-form' }, field(t('audiences.importFile'), input, t('audiences.importHint')), submit, result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files?.[0];
    if (!file) return;
    submit.disabled = true;
    try {
      const report = await api(`/api/v1/audiences/${audience.id}/import`, {
        method: 'POST', body: file, headers: { 'Content-Type': 'text/csv' },
      });
      replace(result, h('p', { class: 'notice', role: 'status' }, t('audiences.imported', report)),
        report.errors.length ? table(t('audiences.importErrors'), [t('audiences.line'), t('audiences.value'), t('audiences.problem')],
          report.errors.slice(0, 100).map((e) => [String(e.line), e.value, t(`import.${e.problem}`)])) : null);
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

export async function renderAudience(root, ctx) {
  const id = ctx.params[0];
  let audience;
  try {
    audience = await api(`/api/v1/audiences/${id}`);
  } catch (err) {
    replace(root, pageHeader(t('nav.audiences')), errorBox(err));
    return;
  }
  const summary = h('p', { class: 'lead', id: 'audience-size' });
  const shown = h('p', { class: 'hint', 'aria-live': 'polite' });
  const holder = h('div');
  const more = h('div', { class: 'pager' });
  const errors = h('div');
  let members = [];
  let next = null;

  const drawSummary = () => {
    summary.textContent = t('audiences.summary', { size: formatNumber(audience.size, ctx.lang), pending: formatNumber(audience.pending_usernames, ctx.lang) });
  };
  const filters = filtersForm(() => load(null));
  const draw = () => {
    const visible = members;
    shown.textContent = t('members.shown', { shown: visible.length, size: audience.size });
    replace(holder, table(t('members.title'),
      [t('members.id'), t('members.username'), t('members.name'), t('members.lastSeen'), t('members.flags'), t('members.source')],
      visible.map((m) => [String(m.user_id), m.username ? `@${m.username}` : '—', [m.first_name, m.last_name].filter(Boolean).join(' ') || '—',
        t(`lastSeen.${m.last_seen}`), [m.premium ? t('members.premium') : null, m.photo ? t('members.photo') : null].filter(Boolean).join(', ') || '—',
        m.source ?? '—']),
      { empty: t('members.none') }));
    replace(more, next ? actionButton(t('members.loadMore'), () => load(next), { kind: 'ghost', id: 'members-more' }) : null);
  };
  let asked = 0;  // only the newest question's answer is drawn
  async function load(cursor) {
    const mine = ++asked;
    try {
      const page = await api(withQuery(`/api/v1/audiences/${id}/members`, { limit: 100, cursor, ...filters.params() }));
      if (mine !== asked) return;
      members = cursor ? members.concat(page.items) : page.items;
      next = page.next_cursor;
      draw();
    } catch (err) {
      replace(errors, errorBox(err));
    }
  }
  const refresh = async () => {
    audience = await api(`/api/v1/audiences/${id}`);
    drawSummary();
    await load(null);
  };
  drawSummary();
  const exportButton = actionButton(t('audiences.export'), () => download(`/api/v1/audiences/${id}/export.csv`, `audience-${id}.csv`),
    { id: 'export-csv', errorTarget: errors });
  replace(root,
    pageHeader(audience.name, h('p', {}, link('#/audiences', t('audiences.back')))),
    summary,
    errors,
    h('div', { class: 'grid two' },
      section(t('audiences.exportTitle'), h('p', { class: 'hint' }, t('audiences.exportHint')), exportButton),
      section(t('audiences.importTitle'), importForm(audience, refresh))),
    section(t('members.title'), filters.form, shown, holder, more));
  await load(null);
}
