// Community search: groups and commentable channels found by keywords (as one of the
// workspace's linked accounts, POST /api/v1/search), each a click away from a collection.

import { api } from './api.js';
import { field, formatNumber, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { errorBox, link, pageHeader, section } from './ui.js';

const MIN = 3;
const MAX = 64;

/** What a collection of this result reads, and the source /parse would be given: its public
 * username; a basic group without one by its id (the searching account is in it). */
function collection(c) {
  const kind = c.kind === 'channel' ? 'comments' : 'members';
  if (c.username) return { kind, source: `@${c.username}` };
  if (c.kind === 'group') return { kind, source: `-${c.chat_id}` };
  return null;
}

function collectButton(c, ctx, status) {
  const plan = collection(c);
  if (!plan) return h('small', { class: 'hint' }, t('search.noCollect'));
  const button = h('button', { type: 'button', class: 'primary', dataset: { chat: String(c.chat_id) } }, t(`search.collect.${plan.kind}`));
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.replaceChildren();
    try {
      const task = await api('/api/v1/parse-tasks', { method: 'POST', body: { source: plan.source, kind: plan.kind } });
      const said = t('search.started', { source: task.source_title || task.source });
      replace(status, h('p', { class: 'notice ok', role: 'status', id: 'search-started', dataset: { task: String(task.id), audience: String(task.audience_id) } },
        said, ' ', link(`#/audiences/${task.audience_id}`, t('search.openAudience')), ' · ', link('#/tasks', t('search.openTasks'))));
      ctx.announce(said);
    } catch (err) {
      // A source Telegram does not know (or a person) is refused before anything is saved.
      replace(status, errorBox(err));
      button.disabled = false;
    }
  });
  return button;
}

export async function renderSearch(root, ctx) {
  // No minlength: the sentence below says it in the panel's language, not the browser's.
  const keywords = h('input', { type: 'search', name: 'keywords', id: 'search-keywords', maxlength: MAX, autocomplete: 'off' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'search-submit' }, t('search.submit'));
  const form = h('form', { class: 'search-form', role: 'search', id: 'community-search' },
    field(t('search.keywords'), keywords, t('search.keywordsHint')), submit);
  const status = h('div', { 'aria-live': 'polite', id: 'search-status' });
  const results = h('div', { id: 'search-results' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const words = keywords.value.trim();
    status.replaceChildren();
    if (words.length < MIN || words.length > MAX) {
      replace(results, h('p', { class: 'form-error', role: 'alert' }, t('search.tooShort', { min: MIN, max: MAX })));
      return;
    }
    submit.disabled = true;
    replace(results, h('p', { class: 'hint', role: 'status' }, t('search.searching')));
    try {
      const found = await api('/api/v1/search', { method: 'POST', body: { keywords: words } });
      const items = found.items;
      replace(results,
        h('p', { class: 'lead', id: 'search-count' }, items.length ? t('search.found', { n: items.length, keywords: words }) : t('search.nothing', { keywords: words })),
        items.length ? table(t('search.results'),
          [t('search.titleCol'), t('search.kind'), t('search.members'), t('search.username'), t('search.active'), t('common.actions')],
          items.map((c) => [c.title || '—', t(`chat.${c.kind}`), formatNumber(c.members, ctx.lang),
            c.username ? `@${c.username}` : t('search.noUsername'), formatNumber(c.recent_commenters, ctx.lang), collectButton(c, ctx, status)])) : null);
    } catch (err) {
      replace(results, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, pageHeader(t('nav.search')),
    section(t('search.title'), h('p', { class: 'hint' }, t('search.hint')), form),
    status, results);
}
