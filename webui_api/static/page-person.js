// One person of an audience: their profile as collected, their opt-outs, and every campaign
// of the workspace that had them to invite (chat, when, outcome, follow-up, did they stay).

import { api, withQuery } from './api.js';
import { formatDateTime, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, errorBox, link, pageHeader, section } from './ui.js';

function personName(m) {
  return [m.first_name, m.last_name].filter(Boolean).join(' ') || (m.username ? `@${m.username}` : String(m.user_id));
}

function optOutText(opt, lang) {
  if (opt.everywhere) return t('person.optOutEverywhere');
  if (opt.workspace) {
    const reason = opt.reason ? t(`optouts.reason.${opt.reason}`) : '—';
    return t('person.optOutWorkspace', { reason, since: formatDateTime(opt.since, lang) });
  }
  return t('person.optOutNone');
}

function outcome(c) {
  const words = t(`person.state.${c.state}`);
  return h('span', { class: `outcome outcome-${c.state}`, dataset: { state: c.state } },
    c.reason_text ? `${words}: ${c.reason_text}` : words);
}

function retention(r, lang) {
  if (!r) return '—';
  if (r.left) return r.left_at ? t('person.leftAt', { when: formatDateTime(r.left_at, lang) }) : t('person.retention.left');
  if (r.stayed_week) return t('person.retention.week');
  if (r.stayed_day) return t('person.retention.day');
  return t('person.retention.pending');
}

function followUp(c) {
  if (!c.follow_up) return '—';
  return h('span', { class: 'follow-up' }, t('person.followUpYes'),
    c.invite_link ? [' ', h('code', { class: 'invite-link' }, c.invite_link)] : null);
}

export async function renderPerson(root, ctx) {
  const [audienceId, userId] = ctx.params;
  const base = `/api/v1/audiences/${audienceId}/members/${userId}`;
  let first;
  let audience;
  try {
    [audience, first] = await Promise.all([api(`/api/v1/audiences/${audienceId}`), api(withQuery(base, { limit: 20 }))]);
  } catch (err) {
    replace(root, pageHeader(t('nav.audiences')), h('p', {}, link(`#/audiences/${audienceId}`, t('audiences.back'))), errorBox(err));
    return;
  }
  const m = first.member;
  const holder = h('div', { id: 'person-campaigns' });
  const more = h('div', { class: 'pager' });
  let items = first.campaigns;
  const draw = (cursor) => {
    replace(holder, table(t('person.campaigns'),
      [t('person.campaign'), t('person.chat'), t('person.when'), t('person.outcome'), t('person.followUp'), t('person.retention')],
      items.map((c) => [
        link(`#/campaigns/${c.campaign_id}`, c.campaign_name),
        c.chat_title || c.chat_ref,
        formatDateTime(c.retention?.added_at ?? c.at, ctx.lang),
        outcome(c),
        followUp(c),
        retention(c.retention, ctx.lang)]),
      { empty: t('person.none') }));
    replace(more, cursor ? actionButton(t('common.more'), async () => {
      const page = await api(withQuery(base, { limit: 20, cursor }));
      items = items.concat(page.campaigns);
      draw(page.next_cursor);
    }, { kind: 'ghost', id: 'person-more' }) : null);
  };
  draw(first.next_cursor);
  replace(root,
    pageHeader(personName(m), h('p', {}, link(`#/audiences/${audienceId}`, t('person.back', { name: audience.name })))),
    h('div', { class: 'grid two' },
      section(t('person.profile'), h('dl', { class: 'facts', id: 'person-facts' },
        h('dt', {}, t('members.id')), h('dd', {}, String(m.user_id)),
        h('dt', {}, t('members.username')), h('dd', {}, m.username ? `@${m.username}` : '—'),
        h('dt', {}, t('members.name')), h('dd', {}, [m.first_name, m.last_name].filter(Boolean).join(' ') || '—'),
        h('dt', {}, t('members.lastSeen')), h('dd', {}, t(`lastSeen.${m.last_seen}`)),
        h('dt', {}, t('members.source')), h('dd', {}, m.source ?? '—'))),
      section(t('person.optOut'), h('p', { id: 'person-optout', dataset: { workspace: String(first.opt_out.workspace), everywhere: String(first.opt_out.everywhere) } },
        optOutText(first.opt_out, ctx.lang)))),
    section(t('person.campaigns'), h('p', { class: 'hint' }, t('person.campaignsHint')), holder, more));
}
