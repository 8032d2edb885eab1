// A campaign's plan (the next attempt and the expected finish), its results as CSV files,
// a draft's editor, and the campaigns list's selection of drafts to delete together.

import { api, download } from './api.js';
import { field, formatDateTime, h, replace } from './dom.js';
import { t } from './i18n.js';
import { actionButton, errorBox, section } from './ui.js';

const LIMIT_FIELDS = ['daily_per_account', 'daily_per_chat', 'daily_per_target', 'pause_min_s', 'pause_max_s'];

function dayText(day, lang) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}

/** When the engine may next invite, and the day it should be done: reloaded on demand. */
export function planBox(campaignId, lang) {
  const el = h('dl', { class: 'facts', id: 'campaign-plan' });
  const load = async () => {
    try {
      const plan = await api(`/api/v1/campaigns/${campaignId}/plan`);
      const soon = plan.next_attempt_at && new Date(plan.next_attempt_at) <= new Date(Date.now() + 1000);
      const next = plan.next_attempt_at
        ? (soon ? t('plan.nextNow') : formatDateTime(plan.next_attempt_at, lang))
        : t('plan.nextNone');
      // Nobody left: no finishing day to promise (not "about 0 days").
      const finish = !plan.to_invite ? t('plan.nobodyLeft')
        : plan.finish_by ? t('plan.finishValue', { day: dayText(plan.finish_by, lang), n: plan.days_to_finish })
          : t('plan.cannotFinish');
      replace(el,
        h('dt', {}, t('plan.next')), h('dd', { id: 'plan-next', dataset: { at: plan.next_attempt_at ?? '' } }, next),
        h('dt', {}, t('plan.finish')), h('dd', { id: 'plan-finish' }, finish),
        h('dt', {}, t('plan.accounts')), h('dd', {}, String(plan.accounts)));
    } catch (err) {
      replace(el, errorBox(err));
    }
  };
  return { el, load };
}

/** The results as files: every attempt, and the people to send the invite link to. */
export function exportsSection(campaignId) {
  const errors = h('div', { 'aria-live': 'polite' });
  return section(t('exports.title'),
    h('p', { class: 'hint' }, t('exports.hint')),
    h('div', { class: 'buttons' },
      actionButton(t('exports.attempts'), () => download(`/api/v1/campaigns/${campaignId}/attempts.csv`, `campaign-${campaignId}-attempts.csv`),
        { kind: 'ghost', id: 'export-attempts', errorTarget: errors }),
      actionButton(t('exports.followUp'), () => download(`/api/v1/campaigns/${campaignId}/follow-up.csv`, `campaign-${campaignId}-follow-up.csv`),
        { kind: 'ghost', id: 'export-follow-up', errorTarget: errors })),
    errors);
}

/** A draft's name, audience, target, hours and limits; only what changed is sent. */
export async function draftEditor(campaign, { onSaved }) {
  const [audiences, plan] = await Promise.all([
    api('/api/v1/audiences?limit=100').then((page) => page.items).catch(() => []),
    api(`/api/v1/campaigns/${campaign.id}/plan`).catch(() => null),
  ]);
  const own = plan?.own_limits ?? {};
  const name = h('input', { id: 'draft-name', name: 'name', required: true, maxlength: 128, value: campaign.name });
  const audience = h('select', { id: 'draft-audience', name: 'audience_id' },
    audiences.map((a) => h('option', { value: a.id, selected: a.id === campaign.audience_id }, a.name)));
  const target = h('input', { id: 'draft-target', name: 'target', required: true, maxlength: 128, value: campaign.target.ref });
  const hours = h('input', { id: 'draft-hours', name: 'active_hours', maxlength: 5, value: campaign.active_hours ?? '', placeholder: '9-21' });
  const limits = Object.fromEntries(LIMIT_FIELDS.map((key) => [key, h('input', {
    id: `draft-${key}`, name: key, type: 'number', min: 1, inputmode: 'numeric',
    value: own[key] ?? '', placeholder: plan ? String(plan.limits[key] ?? '') : '',
  })]));
  const errors = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'draft-form', class: 'form' },
    field(t('draft.name'), name),
    field(t('draft.audience'), audience),
    field(t('draft.target'), target, t('draft.targetHint')),
    field(t('draft.hours'), hours, t('draft.hoursHint')),
    h('fieldset', { class: 'limits' }, h('legend', {}, t('draft.limits')),
      h('p', { class: 'hint' }, t('draft.limitsHint')),
      LIMIT_FIELDS.map((key) => field(t(`draft.limit.${key}`), limits[key]))),
    errors,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'draft-save' }, t('draft.save'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    if (name.value.trim() !== campaign.name) body.name = name.value;
    if (audience.value && Number(audience.value) !== campaign.audience_id) body.audience_id = Number(audience.value);
    if (target.value.trim() !== campaign.target.ref) body.target = target.value;
    if (hours.value.trim() !== (campaign.active_hours ?? '')) body.active_hours = hours.value.trim() || null;
    const chosen = Object.fromEntries(LIMIT_FIELDS.filter((k) => limits[k].value !== '').map((k) => [k, Number(limits[k].value)]));
    if (JSON.stringify(chosen) !== JSON.stringify(Object.fromEntries(LIMIT_FIELDS.filter((k) => k in own).map((k) => [k, own[k]])))) {
      body.limits = Object.keys(chosen).length ? chosen : null;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    errors.replaceChildren();
    try {
      const saved = Object.keys(body).length
        ? await api(`/api/v1/campaigns/${campaign.id}`, { method: 'PATCH', body }) : campaign;
      onSaved(saved);
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return h('details', { class: 'card', id: 'draft-edit' }, h('summary', {}, t('draft.edit')), form);
}

/** The campaigns list's checkboxes: drafts only; deleted together after one confirmation. */
export function draftSelection({ errors, onDeleted, announce }) {
  const chosen = new Set();
  const count = h('span', { id: 'drafts-chosen' });
  const button = actionButton('', async () => {
    const ids = [...chosen];
    if (!ids.length || !window.confirm(t('drafts.confirm', { n: ids.length }))) return;
    const answer = await api('/api/v1/campaign-deletions', { method: 'POST', body: { ids } });
    for (const id of answer.deleted) chosen.delete(id);
    announce(t('drafts.deleted', { n: answer.deleted.length }));
    await onDeleted();
  }, { kind: 'danger ghost', id: 'drafts-delete', errorTarget: errors });
  const sync = () => {
    button.textContent = t('drafts.delete', { n: chosen.size });
    button.disabled = chosen.size === 0;
    count.textContent = '';
  };
  sync();
  return {
    toolbar: h('div', { class: 'drafts-tools' }, button, count),
    /** The cell of one campaign: a checkbox for a draft, nothing for the others. */
    cell(c) {
      if (c.status !== 'draft') return '';
      const box = h('input', { type: 'checkbox', class: 'draft-pick', value: c.id, 'aria-label': t('drafts.pick', { name: c.name }), checked: chosen.has(c.id) });
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(c.id); else chosen.delete(c.id);
        sync();
      });
      return box;
    },
    /** Forget chosen drafts no longer listed as drafts (started or deleted elsewhere). */
    keep(items) {
      const drafts = new Set(items.filter((c) => c.status === 'draft').map((c) => c.id));
      for (const id of [...chosen]) if (!drafts.has(id)) chosen.delete(id);
      sync();
    },
  };
}
