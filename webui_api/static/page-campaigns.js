// Campaigns: the list, and a new campaign with its pre-flight report.

import { api, withQuery } from './api.js';
import { progressBar } from './charts.js';
import { every, field, formatDateTime, formatNumber, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, badge, errorBox, errorText, link, pageHeader, section } from './ui.js';
import { draftSelection } from './campaign-results.js';

export function targetText(target) {
  return target.title ? `${target.title} (${target.ref})` : target.ref;
}

/** The pre-flight as a report: who may invite, who may not and why, what is left to do. */
// `join(accountId)`: offered to the owner for each account not in the chat (can_join).
export function preflightReport(preflight, lang, { join = null, errors = null } = {}) {
  if (!preflight) return h('p', { class: 'empty' }, t('preflight.none'));
  const joiners = join ? (preflight.can_join ?? []) : [];
  const label = (id) => preflight.accounts[String(id)] ?? `#${id}`;
  const number = (n) => formatNumber(n, lang);
  const excluded = Object.entries(preflight.excluded);
  return h('div', { class: 'preflight', id: 'preflight' },
    h('p', { class: preflight.ready ? 'notice ok' : 'notice warn', role: 'status' },
      preflight.ready ? t('preflight.ready') : t('preflight.notReady')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('preflight.chat')), h('dd', {}, preflight.title ? `${preflight.title} · ${t(`chat.${preflight.kind}`)}` : '—'),
      h('dt', {}, t('preflight.toInvite')), h('dd', { id: 'preflight-to-invite' }, number(preflight.to_invite)),
      h('dt', {}, t('preflight.alreadyMembers')), h('dd', {}, number(preflight.already_members)),
      h('dt', {}, t('preflight.attemptedBefore')), h('dd', {}, number(preflight.attempted_before)),
      h('dt', {}, t('preflight.optedOut')), h('dd', {}, number(preflight.opted_out)),
      // Nobody to invite is not "about 0 days": there is no work to time.
      h('dt', {}, t('preflight.days')), h('dd', {}, preflight.days_to_finish === null || !preflight.to_invite ? '—' : t('preflight.daysValue', { n: preflight.days_to_finish })),
      h('dt', {}, t('preflight.limits')), h('dd', {}, t('preflight.limitsValue', preflight.limits)),
      h('dt', {}, t('preflight.checkedAt')), h('dd', {}, formatDateTime(preflight.checked_at, lang))),
    h('h3', {}, t('preflight.eligible')),
    preflight.eligible.length ? h('ul', {}, preflight.eligible.map((id) => h('li', {}, label(id)))) : h('p', { class: 'empty' }, t('preflight.noEligible')),
    preflight.unchecked.length ? [h('h3', {}, t('preflight.unchecked')), h('ul', {}, preflight.unchecked.map((id) => h('li', {}, label(id))))] : null,
    excluded.length ? [h('h3', {}, t('preflight.excluded')),
      h('ul', {}, excluded.map(([id, code]) => h('li', {}, `${label(id)} — ${preflight.exclusion_texts[code] ?? code}`)))] : null,
    joiners.length ? h('div', { class: 'buttons', id: 'preflight-join' },
      h('p', { class: 'hint' }, t('preflight.joinHint')),
      joiners.map((id) => actionButton(t('preflight.join', { account: label(id) }), () => join(id),
        { kind: 'ghost', errorTarget: errors, 'data-account': id }))) : null,
    preflight.warnings.length ? h('ul', { class: 'warnings' }, preflight.warnings.map((code) => h('li', {}, preflight.warning_texts[code] ?? code))) : null);
}

export async function renderCampaigns(root, ctx) {
  const holder = h('div');
  const more = h('div', { class: 'pager' });
  const status = h('select', { id: 'campaign-filter', 'aria-label': t('campaigns.filter') },
    h('option', { value: '' }, t('campaigns.all')),
    h('option', { value: 'running,waiting,paused,scheduled' }, t('campaigns.active')),
    ['draft', 'done', 'cancelled'].map((s) => h('option', { value: s }, t(`campaign.status.${s}`))));
  let items = [];
  let next = null;
  const listErrors = h('div', { 'aria-live': 'polite' });
  const picks = draftSelection({ errors: listErrors, onDeleted: () => load(), announce: ctx.announce });

  const draw = () => {
    picks.keep(items);
    replace(holder, table(t('nav.campaigns'),
      [t('drafts.column'), t('campaigns.name'), t('campaigns.target'), t('campaigns.status'), t('campaigns.progress'), t('count.invited'), t('common.created')],
      items.map((c) => {
        const bar = progressBar(c.name, { small: true });
        bar.update(c.progress.done, c.progress.total);
        return [picks.cell(c), link(`#/campaigns/${c.id}`, c.name), targetText(c.target), badge('campaign', c.status),
          h('div', {}, bar, h('small', {}, `${formatNumber(c.progress.done, ctx.lang)} / ${formatNumber(c.progress.total, ctx.lang)}`)),
          formatNumber(c.counts.invited, ctx.lang), formatDateTime(c.created_at, ctx.lang)];
      }), { empty: t('campaigns.none') }));
    replace(more, next ? actionButton(t('common.more'), () => load(next), { kind: 'ghost' }) : null);
  };
  async function load(cursor = null) {
    try {
      const page = await api(withQuery('/api/v1/campaigns', { limit: 20, cursor, status: status.value }));
      items = cursor ? items.concat(page.items) : page.items;
      next = page.next_cursor;
      draw();
    } catch (err) {
      replace(holder, errorBox(err));
    }
  }
  status.addEventListener('change', () => load());
  replace(root,
    pageHeader(t('nav.campaigns'), h('a', { class: 'button primary', href: '#/campaigns/new', id: 'new-campaign' }, t('campaigns.new'))),
    h('div', { class: 'toolbar' }, status, picks.toolbar), listErrors, holder, more);
  await load();
  // The first page stays current; pages loaded with "more" are left as they are.
  return every(5000, () => (next === null || items.length <= 20 ? load() : null));
}

function utcStart(value) {
  return value ? `${value}:00Z` : null; // <input type=datetime-local> gives YYYY-MM-DDTHH:MM
}

export async function renderNewCampaign(root, ctx) {
  // The chats where an account may add people (read from the accounts' dialogs): picking
  // one fills the target; typing a link or an id still works.
  const [audiences, chats] = await Promise.all([
    api('/api/v1/audiences?limit=100').then((page) => page.items).catch(() => []),
    api('/api/v1/chats?can_invite=1').then((page) => page.items).catch(() => []),
  ]);
  const name = h('input', { name: 'name', id: 'campaign-name', required: true, maxlength: 128 });
  // An empty audience cannot be chosen (a campaign of nobody could never start), so it is
  // never the one offered first either.
  const first = audiences.find((a) => a.size > 0);
  const audience = h('select', { name: 'audience_id', id: 'campaign-audience', required: true },
    h('option', { value: '', selected: !first }, t('campaigns.pickAudience')),
    audiences.map((a) => h('option', { value: a.id, disabled: a.size === 0, selected: a === first },
      a.size === 0 ? t('campaigns.audienceEmpty', { name: a.name }) : `${a.name} (${formatNumber(a.size, ctx.lang)})`)));
  const target = h('input', { name: 'target', id: 'campaign-target', required: true, maxlength: 128, placeholder: '@group, https://t.me/+…' });
  const chatLabel = (c) => t('campaigns.pickChatOption', {
    title: c.title, members: c.members === null ? '?' : formatNumber(c.members, ctx.lang),
    accounts: c.accounts.filter((a) => a.may_invite).map((a) => a.label).join(', '),
  });
  const picker = h('select', { id: 'campaign-chat', disabled: !chats.length },
    h('option', { value: '' }, t('campaigns.pickChatPrompt')),
    chats.map((c) => h('option', { value: c.target }, chatLabel(c))));
  picker.addEventListener('change', () => {
    if (!picker.value) return;
    target.value = picker.value;
    const chosen = chats.find((c) => c.target === picker.value);
    if (chosen && !name.value.trim()) name.value = chosen.title.slice(0, 128);
  });
  const start = h('input', { name: 'start_at', id: 'campaign-start', type: 'datetime-local' });
  const hours = h('input', { name: 'active_hours', id: 'campaign-hours', placeholder: '9-21', pattern: '\\d{1,2}-\\d{1,2}', maxlength: 5 });
  // The campaign's own limits: each optional, the installation's when empty; the API
  // refuses anything looser than the installation's with a sentence naming the limit.
  const LIMITS = ['daily_per_account', 'daily_per_chat', 'daily_per_target', 'pause_min_s', 'pause_max_s'];
  const limitInputs = Object.fromEntries(LIMITS.map((key) => [key, h('input', {
    name: key, id: `campaign-${key.replaceAll('_', '-')}`, type: 'number', min: 1, step: 1, inputmode: 'numeric',
  })]));
  const limitsBox = h('details', { class: 'limits', id: 'campaign-limits' },
    h('summary', {}, t('campaigns.limits')),
    h('p', { class: 'hint' }, t('campaigns.limitsHint')),
    ...LIMITS.map((key) => field(t(`campaigns.limit.${key}`), limitInputs[key])));
  const chosenLimits = () => {
    const chosen = {};
    for (const key of LIMITS) {
      const raw = limitInputs[key].value.trim();
      if (raw) chosen[key] = Number(raw);
    }
    return Object.keys(chosen).length ? chosen : null;
  };
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('campaigns.check'));
  const form = h('form', { class: 'stack-form', id: 'campaign-form' },
    field(t('campaigns.name'), name),
    field(t('campaigns.audience'), audience, audiences.length ? null : t('campaigns.noAudiences')),
    field(t('campaigns.pickChat'), picker, chats.length ? null : t('campaigns.pickChatNone')),
    field(t('campaigns.target'), target, t('campaigns.targetHint')),
    h('div', { class: 'row' }, field(t('campaigns.start'), start, t('campaigns.startHint')), field(t('campaigns.hours'), hours, t('campaigns.hoursHint'))),
    limitsBox,
    submit);

  const offer = (campaign) => {
    const errors = h('div');
    const startButton = actionButton(t('campaign.start'), async () => {
      const started = await api(`/api/v1/campaigns/${campaign.id}/start`, { method: 'POST' });
      if (started.status === 'approval') ctx.announce(t('campaign.sentForApproval'));
      ctx.navigate(`#/campaigns/${campaign.id}`);
    }, { kind: 'primary', errorTarget: errors, disabled: Boolean(campaign.start_problem), id: 'preflight-start',
      'aria-describedby': campaign.start_problem ? 'preflight-start-problem' : null });
    // The reason Start is disabled: the API's sentence for its one rule (start_problem).
    const why = campaign.start_problem
      ? h('p', { class: 'notice warn', id: 'preflight-start-problem' }, campaign.start_problem_text) : null;
    const keep = actionButton(t('campaigns.keepDraft'), async () => ctx.navigate(`#/campaigns/${campaign.id}`), { id: 'preflight-keep' });
    const drop = actionButton(t('campaign.cancel'), async () => {
      await api(`/api/v1/campaigns/${campaign.id}/cancel`, { method: 'POST' });
      ctx.navigate('#/campaigns');
    }, { kind: 'danger ghost', errorTarget: errors, id: 'preflight-cancel' });
    // The owner may let an account that is not in the chat join it; the report is redrawn
    // with the check run again.
    const join = async (accountId) => {
      const joined = await api(`/api/v1/campaigns/${campaign.id}/join`, { method: 'POST', body: { account_id: accountId } });
      ctx.announce(joined.message);
      offer(joined.campaign);
    };
    const joining = ctx.workspace?.role === 'owner' ? { join, errors } : {};
    replace(result, section(t('preflight.title'), preflightReport(campaign.preflight, ctx.lang, joining), errors, why,
      h('div', { class: 'buttons' }, startButton, keep, drop)));
    const heading = result.querySelector('h2');
    heading.tabIndex = -1;
    heading.focus(); // the report appears below the form: take screen readers and the view there
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    replace(result, h('p', { class: 'notice', role: 'status' }, t('campaigns.checking')));
    try {
      const campaign = await api('/api/v1/campaigns', {
        method: 'POST',
        body: { name: name.value.trim(), audience_id: Number(audience.value), target: target.value.trim(),
          start_at: utcStart(start.value), active_hours: hours.value.trim() || null, limits: chosenLimits() },
      });
      form.querySelectorAll('input, select, button').forEach((el) => { el.disabled = true; });
      offer(campaign);
    } catch (err) {
      replace(result, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
      submit.disabled = false;
    }
  });
  replace(root, pageHeader(t('campaigns.new'), h('p', {}, link('#/campaigns', t('campaigns.back')))),
    section(t('campaigns.settings'), form), result);
  name.focus();
}
