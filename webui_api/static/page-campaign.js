// One campaign: live progress over server-sent events, controls, charts, events, follow-ups.

import { api, withQuery } from './api.js';
import { barChart, progressBar } from './charts.js';
import { formatDateTime, formatNumber, formatTime, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, badge, errorBox, link, pageHeader, section } from './ui.js';
import { preflightReport, targetText } from './page-campaigns.js';
import { follow } from './sse.js';
import { draftEditor, exportsSection, planBox } from './campaign-results.js';

const COUNTS = ['pending', 'unconfirmed', 'invited', 'already_member', 'failed', 'skipped'];
const ALLOWED = {
  start: ['draft'],
  pause: ['running', 'waiting', 'scheduled'],
  resume: ['paused'],
  cancel: ['draft', 'approval', 'scheduled', 'running', 'waiting', 'paused'],
  // The owner's decision on a manager's large campaign (the API refuses anyone else).
  approve: ['approval'],
  reject: ['approval'],
  duplicate: ['draft', 'scheduled', 'running', 'waiting', 'paused', 'done', 'cancelled'],
};
const REPORT_EVERY_MS = 3000;

function reasonsChart(report) {
  const rows = Object.entries(report.reasons).sort((a, b) => b[1] - a[1])
    .map(([code, n]) => ({ label: report.reason_texts[code] ?? code, values: [{ value: n, kind: 'bar-bad' }] }));
  if (!rows.length) return h('p', { class: 'empty' }, t('campaign.noReasons'));
  return barChart(t('campaign.reasons'), rows);
}

function accountsChart(report) {
  if (!report.accounts.length) return h('p', { class: 'empty' }, t('campaign.noAccounts'));
  const rows = report.accounts.map((a) => ({
    label: a.label,
    values: [
      { value: a.invited, kind: 'bar-ok', title: t('count.invited') },
      { value: a.failed, kind: 'bar-bad', title: t('count.failed') },
    ],
  }));
  const limits = report.accounts[0].limits;
  return h('div', {},
    barChart(t('campaign.accounts'), rows, { legend: [{ kind: 'bar-ok', label: t('campaign.legendInvited') }, { kind: 'bar-bad', label: t('count.failed') }] }),
    table(t('campaign.accounts'), [t('accounts.account'), t('campaign.attempts'), t('campaign.today'), t('campaign.todayInChat')],
      report.accounts.map((a) => [a.label, String(a.attempts), `${a.today} / ${limits.daily_per_account}`, `${a.today_in_chat} / ${limits.daily_per_chat}`])));
}

// Whether the people the campaign added stayed a day and a week, in all and per source audience.
function retentionTable(retention, lang) {
  if (!retention.figures.added) return h('p', { class: 'empty' }, t('campaign.retentionNone'));
  const of = (n, left) => t('campaign.retentionOf', { n: formatNumber(n, lang), checked: formatNumber(n + left, lang) });
  const row = (label, f) => [label, formatNumber(f.added, lang), of(f.stayed_day, f.left_day), of(f.stayed_week, f.left_week)];
  const rows = [row(t('campaign.retentionAll'), retention.figures)];
  if (retention.audiences.length > 1 || retention.audiences[0]?.audience_id == null) {
    for (const a of retention.audiences) rows.push(row(a.name ?? t('campaign.retentionDeleted'), a.figures));
  } else {
    rows[0][0] = retention.audiences[0].name;
  }
  return table(t('campaign.retention'), [t('campaign.retentionAudience'), t('campaign.retentionAdded'),
    t('campaign.retentionDay'), t('campaign.retentionWeek')], rows);
}

function followUps(campaignId, report) {
  const holder = h('div');
  const more = h('div', { class: 'pager' });
  let items = report.follow_up.items;
  const draw = (next) => {
    replace(holder, table(t('campaign.followUp'), [t('members.username'), t('members.name'), t('campaign.reason')],
      items.map((f) => [f.username ? `@${f.username}` : (f.user_id ? String(f.user_id) : '—'), f.first_name ?? '—', f.reason_text ?? f.reason]),
      { empty: t('campaign.noFollowUp') }));
    replace(more, next ? actionButton(t('common.more'), async () => {
      const page = await api(withQuery(`/api/v1/campaigns/${campaignId}/report`, { cursor: next }));
      items = items.concat(page.follow_up.items);
      draw(page.follow_up.next_cursor);
    }, { kind: 'ghost' }) : null);
  };
  draw(report.follow_up.next_cursor);
  const inviteLink = report.follow_up.invite_link;
  const copy = inviteLink ? actionButton(t('campaign.copy'), async () => {
    await navigator.clipboard.writeText(inviteLink);
  }, { kind: 'ghost' }) : null;
  return h('div', {},
    h('p', { class: 'hint' }, t('campaign.followUpHint')),
    inviteLink ? h('p', { class: 'invite-link' }, h('code', { id: 'invite-link' }, inviteLink), ' ', copy) : h('p', { class: 'muted' }, t('campaign.noLink')),
    holder, more);
}

/** The event log: oldest first by cursor; at the end it keeps up with new attempts. */
function eventLog(campaignId, lang) {
  const body = h('tbody');
  const more = h('div', { class: 'pager' });
  const heads = [t('events.at'), t('events.account'), t('events.user'), t('events.outcome'), t('campaign.reason')];
  const el = h('div', {}, h('div', { class: 'table-wrap stack-on-phone' }, h('table', { id: 'event-log' },
    h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
    body)), more);
  let cursor = 0;
  let atEnd = false;
  let busy = false;
  const load = async () => {
    if (busy) return;
    busy = true;
    try {
      const page = await api(withQuery(`/api/v1/campaigns/${campaignId}/events`, { cursor: cursor || null, limit: 50 }));
      for (const e of page.items) {
        const cell = (i, ...content) => h('td', { 'data-label': heads[i] }, ...content);
        body.append(h('tr', {},
          cell(0, h('time', { datetime: e.at, title: formatDateTime(e.at, lang) }, formatTime(e.at, lang))),
          cell(1, e.account ? (e.account.label ?? `#${e.account.id}`) : '—'),
          cell(2, e.user.username ? `@${e.user.username}` : String(e.user.id)),
          cell(3, h('span', { class: `badge outcome-${e.outcome}` }, t(`outcome.${e.outcome}`))),
          cell(4, e.reason_text ?? e.reason ?? '', e.error ? h('code', { class: 'rpc-error' }, ` ${e.error}`) : null)));
        cursor = e.id;
      }
      atEnd = page.next_cursor === null;
      replace(more, atEnd ? null : actionButton(t('common.more'), load, { kind: 'ghost' }));
    } finally {
      busy = false;
    }
  };
  return { el, load, caughtUp: () => atEnd };
}

// The stored pre-flight; the owner may let an account that is not in the chat join it
// (POST …/join), after which the page shows the check run again.
function preflightCard(campaign, ctx) {
  const errors = h('div', { 'aria-live': 'polite' });
  const owner = ctx.workspace?.role === 'owner';
  const join = async (accountId) => {
    const joined = await api(`/api/v1/campaigns/${campaign.id}/join`, { method: 'POST', body: { account_id: accountId } });
    ctx.announce(joined.message);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  };
  const open = Boolean(owner && campaign.preflight?.can_join?.length && !campaign.preflight.ready);
  return h('details', { class: 'card', id: 'preflight-card', open },
    h('summary', {}, t('preflight.title')), errors,
    preflightReport(campaign.preflight, ctx.lang, owner ? { join, errors } : {}));
}

export async function renderCampaign(root, ctx) {
  const id = ctx.params[0];
  let campaign;
  try {
    campaign = await api(`/api/v1/campaigns/${id}`);
  } catch (err) {
    replace(root, pageHeader(t('nav.campaigns')), errorBox(err));
    return null;
  }
  const lang = ctx.lang;
  const statusHolder = h('span', { id: 'campaign-status' });
  const waiting = h('p', { class: 'hint', id: 'campaign-waiting' });
  const live = h('span', { class: 'live', id: 'stream-state', 'aria-hidden': 'true' });
  const bar = progressBar(t('campaign.progress'), { id: 'campaign-progress' });
  const progressText = h('p', { class: 'progress-text', id: 'campaign-progress-text' });
  const countValues = Object.fromEntries(COUNTS.map((key) => [key, h('span', { class: 'stat-value', id: `count-${key}` })]));
  const counts = h('div', { class: 'stats', id: 'campaign-counts' }, COUNTS.map((key) => h('div', { class: `stat count-${key}` },
    countValues[key], h('span', { class: 'stat-label' }, t(`count.${key}`)))));
  let drawnStatus = null;
  const controls = h('div', { class: 'buttons', id: 'campaign-controls' });
  const controlErrors = h('div', { 'aria-live': 'polite' });
  const reasons = h('div');
  const accounts = h('div');
  const follow_up = h('div');
  const retention = h('div', { id: 'campaign-retention' });
  const events = eventLog(id, lang);
  const plan = planBox(id, lang);

  const drawState = (state) => {
    if (state.status !== drawnStatus) replace(statusHolder, badge('campaign', state.status));
    waiting.textContent = state.status === 'waiting' && state.waiting_reason ? t(`campaign.waiting.${state.waiting_reason}`)
      : state.status === 'paused' && state.paused_reason ? t(`campaign.paused.${state.paused_reason}`) : '';
    bar.update(state.progress.done, state.progress.total);
    const pct = state.progress.total ? Math.floor((100 * state.progress.done) / state.progress.total) : 0;
    progressText.textContent = t('campaign.progressText', {
      done: formatNumber(state.progress.done, lang), total: formatNumber(state.progress.total, lang), pct,
    });
    for (const key of COUNTS) countValues[key].textContent = formatNumber(state.counts[key], lang);
    // Buttons are redrawn only when the status changes, so keyboard focus stays put.
    if (state.status === drawnStatus) return;
    drawnStatus = state.status;
    if (state.status !== 'draft' && editor) {
      editor.remove();
      editor = null;
    }
    plan.load();
    const hadFocus = controls.contains(document.activeElement);
    const owner = ctx.workspace?.role === 'owner';
    const offered = Object.keys(ALLOWED).filter((action) => ALLOWED[action].includes(state.status)
      && (owner || !['approve', 'reject'].includes(action)));
    // A draft the pre-flight does not let start (the API's one rule, start_problem): Start
    // is disabled and the sentence beside it says why.
    const blocked = state.status === 'draft' ? state.start_problem_text : null;
    replace(controls, offered.map((action) => actionButton(
      t(`campaign.${action}`), () => control(action),
      { kind: action === 'cancel' ? 'danger ghost' : (action === 'duplicate' ? 'ghost' : 'primary'), errorTarget: controlErrors, 'data-action': action, id: `campaign-${action}`,
        disabled: action === 'start' && Boolean(blocked), 'aria-describedby': action === 'start' && blocked ? 'campaign-start-problem' : null })),
    blocked ? h('p', { class: 'notice warn', id: 'campaign-start-problem' }, blocked) : null);
    if (hadFocus) controls.querySelector('button')?.focus();
  };

  async function control(action) {
    if (action === 'cancel' && !window.confirm(t('campaign.cancelConfirm'))) return;
    const answer = await api(`/api/v1/campaigns/${id}/${action}`, { method: 'POST' });
    if (action === 'duplicate') {
      ctx.navigate(`#/campaigns/${answer.id}`);
      return;
    }
    campaign = answer;
    drawState(answer);
    ctx.announce(t('campaign.nowStatus', { status: t(`campaign.status.${answer.status}`) }));
    if (['start', 'resume', 'approve'].includes(action)) startStream();
  }

  let reportAt = 0;
  let reportTimer = null;
  const loadReport = async () => {
    reportAt = Date.now();
    try {
      const report = await api(`/api/v1/campaigns/${id}/report`);
      replace(reasons, reasonsChart(report));
      replace(accounts, accountsChart(report));
      replace(follow_up, followUps(id, report));
      replace(retention, retentionTable(await api(`/api/v1/campaigns/${id}/retention`), lang));
      plan.load(); // an attempt moves the next one
    } catch (err) {
      replace(reasons, errorBox(err));
    }
    if (events.caughtUp()) await events.load();
  };
  const reportSoon = () => {
    if (reportTimer) return;
    const wait = Math.max(0, REPORT_EVERY_MS - (Date.now() - reportAt));
    reportTimer = setTimeout(() => { reportTimer = null; loadReport(); }, wait);
  };

  let stream = null;
  function startStream() {
    stream?.close();
    stream = follow(`/api/v1/campaigns/${id}/stream`, {
      onEvent: (type, data) => {
        if (type !== 'campaign') return;
        const changed = JSON.stringify(data.counts) !== JSON.stringify(campaign.counts);
        campaign = { ...campaign, ...data };
        drawState(campaign);
        if (changed) reportSoon();
      },
      onState: (state) => { live.dataset.state = state; live.textContent = t(`campaign.stream.${state}`); },
      onEnd: () => { live.dataset.state = 'ended'; live.textContent = ''; reportSoon(); },
    });
  }

  // A draft's editor; it goes once the campaign starts (a started campaign is not edited).
  let editor = campaign.status === 'draft'
    ? await draftEditor(campaign, { onSaved: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }) : null;
  drawState(campaign);
  replace(root,
    pageHeader(campaign.name, h('p', {}, link('#/campaigns', t('campaigns.back')))),
    h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'progress-title' }, t('campaign.progress')), statusHolder, live),
      h('p', { class: 'muted' }, t('campaign.target', { target: targetText(campaign.target) }),
        campaign.active_hours ? ` · ${t('campaign.hours', { hours: campaign.active_hours })}` : '',
        campaign.start_at ? ` · ${t('campaign.startAt', { time: formatDateTime(campaign.start_at, lang) })}` : ''),
      bar, progressText, waiting, counts, controls, controlErrors, plan.el),
    editor,
    h('div', { class: 'grid two' }, section(t('campaign.reasons'), reasons), section(t('campaign.accounts'), accounts)),
    section(t('campaign.followUp'), follow_up),
    section(t('campaign.retention'), retention),
    section(t('campaign.events'), events.el),
    exportsSection(id),
    preflightCard(campaign, ctx));
  await Promise.all([loadReport(), events.load()]);
  // A draft changes only when someone acts on it: no stream, so no "live" badge.
  if (!['draft', 'done', 'cancelled'].includes(campaign.status)) startStream();
  return () => {
    stream?.close();
    clearTimeout(reportTimer);
  };
}
