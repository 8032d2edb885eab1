// Audiences: their sizes, a new one from a CSV file; one audience's people (pages, filters),
// CSV export of everyone or of the people a filter shows, import, and deletion (the owner's).

import { api, download, withQuery } from './api.js';
import { field, formatDateTime, formatNumber, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, errorBox, link, pageHeader, section } from './ui.js';

const LAST_SEEN = ['online', 'recently', 'week', 'month', 'long_ago', 'unknown'];

/** A modal question with Cancel and a (danger) confirm button; resolves true or false. */
export function confirmDialog({ id, text, confirm }) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: 'danger', id: `${id}-yes` }, confirm);
    const no = h('button', { type: 'button', id: `${id}-no` }, t('dialog.cancel'));
    const dialog = h('dialog', { class: 'confirm-dialog', id, 'aria-describedby': `${id}-text` },
      h('p', { id: `${id}-text` }, text),
      h('div', { class: 'buttons' }, no, yes));
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => close(true));
    no.addEventListener('click', () => close(false));
    dialog.addEventListener('cancel', (event) => {  // Escape
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();  // the safe answer is the default
  });
}

/** What an import or a new audience took from the file, with the lines it left and why. */
function importReport(report, lang) {
  const skipped = report.errors.length;
  return [
    h('p', { class: 'notice ok', role: 'status', id: 'import-report' },
      t('audiences.taken', {
        lines: formatNumber(report.lines, lang), accepted: formatNumber(report.accepted, lang),
        new_members: formatNumber(report.new_members, lang), new_usernames: formatNumber(report.new_usernames, lang),
        skipped: formatNumber(skipped, lang),
      })),
    report.unreachable ? h('p', { class: 'notice warn', id: 'import-unreachable' },
      t('audiences.unreachable', { n: formatNumber(report.unreachable, lang) })) : null,
    skipped ? h('div', { id: 'import-errors' }, table(t('audiences.importErrors'), [t('audiences.line'), t('audiences.value'), t('audiences.problem')],
      report.errors.slice(0, 100).map((e) => [String(e.line), e.value || '—', t(`import.${e.problem}`)]))) : null,
  ];
}

function newAudienceForm(ctx, onDone) {
  const name = h('input', { type: 'text', name: 'name', id: 'new-audience-name', maxlength: 128, autocomplete: 'off' });
  const file = h('input', { type: 'file', name: 'file', id: 'new-audience-file', accept: '.csv,text/csv,text/plain' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'new-audience-create' }, t('audiences.create'));
  const result = h('div', { 'aria-live': 'polite', id: 'new-audience-result' });
  const form = h('form', { class: 'inline-form', id: 'new-audience' },
    field(t('audiences.newName'), name, t('audiences.newNameHint')),
    field(t('audiences.newFile'), file, t('audiences.newHint')),
    submit, result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!name.value.trim()) {
      replace(result, h('p', { class: 'form-error', role: 'alert' }, t('audiences.nameNeeded')));
      name.focus();
      return;
    }
    if (!chosen) {
      replace(result, h('p', { class: 'form-error', role: 'alert' }, t('audiences.chooseFile')));
      file.focus();
      return;
    }
    const body = new FormData();
    body.append('name', name.value.trim());
    body.append('file', chosen, chosen.name);
    submit.disabled = true;
    try {
      const made = await api('/api/v1/audiences', { method: 'POST', body });
      replace(result,
        h('p', { class: 'lead' }, t('audiences.created', { name: made.audience.name }), ' ',
          link(`#/audiences/${made.audience.id}`, t('audiences.open'))),
        importReport(made.report, ctx.lang));
      ctx.announce(t('audiences.created', { name: made.audience.name }));
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

export async function renderAudiences(root, ctx) {
  const holder = h('div', { id: 'audiences-list' });
  const more = h('div', { class: 'pager' });
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
  replace(root, pageHeader(t('nav.audiences')),
    h('div', {}, holder, more),
    section(t('audiences.newTitle'), newAudienceForm(ctx, () => load(null))));
  await load(null);
}

function filtersForm(onChange) {
  const text = h('input', { type: 'search', name: 'q', id: 'member-search', maxlength: 64 });
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

function importForm(audience, ctx, onDone) {
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
      replace(result, importReport(report, ctx.lang));
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

function deleteSection(audience, ctx) {
  const errors = h('div');
  const button = actionButton(t('audiences.delete'), async () => {
    const sure = await confirmDialog({
      id: 'delete-dialog',
      text: t('audiences.deleteConfirm', { name: audience.name, size: formatNumber(audience.size, ctx.lang) }),
      confirm: t('audiences.deleteYes'),
    });
    if (!sure) return;
    await api(`/api/v1/audiences/${audience.id}`, { method: 'DELETE' });
    ctx.announce(t('audiences.deleted', { name: audience.name }));
    ctx.navigate('#/audiences');
  }, { kind: 'danger', id: 'delete-audience', errorTarget: errors });
  return section(t('audiences.deleteTitle'), h('p', { class: 'hint' }, t('audiences.deleteHint')), button, errors);
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
  const holder = h('div', { id: 'members-list' });
  const more = h('div', { class: 'pager' });
  const errors = h('div');
  let members = [];
  let next = null;

  const drawSummary = () => {
    summary.textContent = t('audiences.summary', { size: formatNumber(audience.size, ctx.lang), pending: formatNumber(audience.pending_usernames, ctx.lang) });
  };
  const filters = filtersForm(() => load(null));
  const draw = () => {
    shown.textContent = t('members.shown', { shown: members.length, size: audience.size });
    replace(holder, table(t('members.title'),
      [t('members.id'), t('members.username'), t('members.name'), t('members.lastSeen'), t('members.flags'), t('members.source')],
      members.map((m) => [
        h('a', { href: `#/audiences/${id}/people/${m.user_id}`, class: 'person-link', title: t('members.open') }, String(m.user_id)),
        m.username ? `@${m.username}` : '—', [m.first_name, m.last_name].filter(Boolean).join(' ') || '—',
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
      errors.replaceChildren();
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
  // The filter as it stands when pressed: the same parameters the list was asked with.
  const exportShown = actionButton(t('members.exportShown'),
    () => download(withQuery(`/api/v1/audiences/${id}/export.csv`, filters.params()), `audience-${id}-filtered.csv`),
    { id: 'export-filtered', kind: 'ghost', errorTarget: errors });
  replace(root,
    pageHeader(audience.name, h('p', {}, link('#/audiences', t('audiences.back')))),
    summary,
    errors,
    h('div', { class: 'grid two' },
      section(t('audiences.exportTitle'), h('p', { class: 'hint' }, t('audiences.exportHint')), exportButton),
      section(t('audiences.importTitle'), importForm(audience, ctx, refresh))),
    section(t('members.title'), filters.form,
      h('div', { class: 'members-tools' }, shown, exportShown), holder, more),
    ctx.workspace.role === 'owner' ? deleteSection(audience, ctx) : null);
  await load(null);
}
