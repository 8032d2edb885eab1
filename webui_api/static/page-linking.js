// Linking a Telegram account (#/accounts/link) and unlinking one (a button for the accounts
// page). The login itself runs in the API (/api/v1/account-logins): this page shows its QR
// code, polls it (the API renews the code in place), and sends the answers it waits for.
// The password goes to the API once and is never kept here: the field is emptied at once.

import { ApiError, api } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { accountLabel, actionButton, errorText, pageHeader } from './ui.js';
import { confirmDialog } from './page-audiences.js';

const LOGINS = '/api/v1/account-logins';
const POLL_MS = 1000;
const ENDED = ['linked', 'expired', 'failed'];

function secondsUntil(iso) {
  return Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return `${m}:${s}`;
}

/** One labelled input and a submit button; `send(value)` gets the typed value. */
function answerForm(id, label, input, buttonText, send) {
  const button = h('button', { type: 'submit', class: 'primary', id: `${id}-submit` }, buttonText);
  const form = h('form', { class: 'stack-form link-form', id: `${id}-form` },
    h('label', { class: 'field', for: input.id }, h('span', { class: 'field-label' }, label), input),
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = input.value;
    if (input.type === 'password') input.value = ''; // not kept in the page a moment longer
    button.disabled = true;
    try {
      await send(value);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return form;
}

export async function renderLinking(root, ctx) {
  const status = h('div', { class: 'link-status', 'aria-live': 'polite', id: 'link-status' });
  const body = h('div', { class: 'link-body', id: 'link-body' });
  replace(root,
    pageHeader(t('linking.title'), h('p', {}, h('a', { href: '#/accounts', id: 'link-back' }, t('linking.back')))),
    h('section', { class: 'card link-card' }, status, body));

  let login = null;
  let shownUrl = null;
  let stopped = false;
  let poller = null;
  let ticker = null;
  const qrImage = h('img', { id: 'link-qr', class: 'link-qr', width: 264, height: 264, alt: t('linking.qrAlt') });
  const countdown = h('p', { class: 'muted link-countdown', id: 'link-countdown' });

  function showError(err) {
    spoken = null;
    status.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
  }

  function tick() {
    if (!login || ENDED.includes(login.state)) {
      countdown.textContent = '';
      return;
    }
    const parts = [t('linking.endsIn', { time: clock(secondsUntil(login.expires_at)) })];
    if (login.qr) parts.unshift(t('linking.qrValid', { n: secondsUntil(login.qr.expires_at) }));
    countdown.textContent = parts.join(' · ');
  }

  async function call(path, options) {
    try {
      const answer = await api(path, options);
      if (options?.method === 'POST') spoken = null; // an answer's refusal is said again
      show(answer);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // The login is gone (it ended long ago, or the API restarted): say so, offer a new one.
        show({ state: 'failed', message: t('linking.gone'), problem: null, qr: null });
        return;
      }
      showError(err);
    }
  }

  const methodSwitch = (method) => h('div', { class: 'toolbar link-actions' },
    method === 'qr'
      ? actionButton(t('linking.usePhone'), () => start('phone'), { kind: 'ghost', id: 'link-use-phone' })
      : actionButton(t('linking.useQr'), () => start('qr'), { kind: 'ghost', id: 'link-use-qr' }),
    actionButton(t('linking.cancel'), async () => {
      await cancel();
      ctx.navigate('#/accounts');
    }, { kind: 'ghost', id: 'link-cancel' }));

  function stageView() {
    const one = `${LOGINS}/${login.id}`;
    if (login.state === 'waiting' && login.qr) {
      if (login.qr.url !== shownUrl) {
        // Shown as an image made from the API's SVG: no markup of the answer enters the page.
        qrImage.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(login.qr.svg)}`;
        qrImage.dataset.url = login.qr.url;
        shownUrl = login.qr.url;
      }
      return [
        h('div', { class: 'link-qr-box' }, qrImage),
        countdown,
        h('div', { class: 'toolbar' },
          actionButton(t('linking.newQr'), () => call(`${one}/qr`, { method: 'POST' }), { kind: 'ghost', id: 'link-new-qr' })),
        methodSwitch('qr'),
      ];
    }
    if (login.state === 'password') {
      const input = h('input', { type: 'password', id: 'link-password', name: 'password', required: true, maxlength: 256, autocomplete: 'off' });
      setTimeout(() => input.focus(), 0);
      return [
        answerForm('link-password', t('linking.password'), input, t('linking.send'),
          (value) => call(`${one}/password`, { method: 'POST', body: { password: value } })),
        countdown,
        methodSwitch(login.method),
      ];
    }
    if (login.state === 'phone') {
      const input = h('input', { type: 'tel', id: 'link-phone', name: 'phone', required: true, maxlength: 32, autocomplete: 'tel', placeholder: '+44 7911 123456' });
      return [
        answerForm('link-phone', t('linking.phone'), input, t('linking.sendCode'),
          (value) => call(`${one}/phone`, { method: 'POST', body: { phone: value } })),
        countdown,
        methodSwitch('phone'),
      ];
    }
    if (login.state === 'code') {
      const input = h('input', { type: 'text', id: 'link-code', name: 'code', required: true, maxlength: 32, inputmode: 'numeric', autocomplete: 'one-time-code' });
      setTimeout(() => input.focus(), 0);
      return [
        answerForm('link-code', t('linking.code'), input, t('linking.send'),
          (value) => call(`${one}/code`, { method: 'POST', body: { code: value } })),
        countdown,
        methodSwitch('phone'),
      ];
    }
    // Ended without an account: say why, and offer to start again.
    return [h('div', { class: 'toolbar link-actions' },
      actionButton(t('linking.again'), () => start(login.method ?? 'qr'), { kind: 'primary', id: 'link-again' }),
      h('a', { href: '#/accounts', class: 'button ghost' }, t('linking.back')))];
  }

  let drawn = null;
  let spoken = null;
  function show(next) {
    if (stopped) return;
    const previous = login;
    login = { ...previous, ...next };
    // The status region is read out when it changes: redrawn only when its words do, not on
    // every poll.
    const said = `${login.state}|${login.message}|${login.problem?.message ?? ''}`;
    if (said !== spoken) {
      spoken = said;
      const problem = login.problem && !ENDED.includes(login.state)
        ? h('p', { class: 'form-error', role: 'alert', id: 'link-problem' }, login.problem.message) : null;
      const failedClass = ENDED.includes(login.state) && login.state !== 'linked' ? 'form-error' : 'lead';
      status.replaceChildren(h('p', { class: failedClass, id: 'link-message', dataset: { state: login.state } }, login.message), problem ?? '');
    }
    if (login.state === 'linked') {
      stop();
      ctx.announce(login.message);
      sessionStorage.setItem('tgi-linked', login.message);
      ctx.navigate('#/accounts');
      return;
    }
    // Redraw the stage only when it changed (a poll must not empty a field being typed in).
    const key = `${login.id}:${login.state}`;
    if (drawn !== key || (login.state === 'waiting' && login.qr?.url !== shownUrl)) {
      drawn = key;
      replace(body, stageView());
    }
    tick();
    if (ENDED.includes(login.state)) stop();
  }

  function stop() {
    clearTimeout(poller);
    clearInterval(ticker);
    poller = null;
    ticker = null;
  }

  function poll() {
    clearTimeout(poller);
    poller = setTimeout(async () => {
      if (stopped || !login || ENDED.includes(login.state)) return;
      if (!document.hidden) await call(`${LOGINS}/${login.id}`);
      if (!stopped && login && !ENDED.includes(login.state)) poll();
    }, POLL_MS);
  }

  async function cancel() {
    stop();
    const open = login && !ENDED.includes(login.state) ? login.id : null;
    login = null;
    if (open) {
      try { await api(`${LOGINS}/${open}`, { method: 'DELETE' }); } catch { /* it ends by itself within minutes */ }
    }
  }

  async function start(method) {
    await cancel();
    drawn = null;
    spoken = null;
    shownUrl = null;
    status.replaceChildren(h('p', { class: 'muted' }, t('linking.starting')));
    body.replaceChildren();
    try {
      show(await api(LOGINS, { method: 'POST', body: { method } }));
    } catch (err) {
      showError(err);
      return;
    }
    if (!login || ENDED.includes(login.state)) return;
    ticker = setInterval(tick, 1000);
    poll();
  }

  await start('qr');
  return () => {
    stopped = true;
    cancel();
  };
}

/** The accounts page's Unlink button (the owner's only: the API refuses anyone else). */
export function unlinkButton(account, { errorTarget, onDone }) {
  return actionButton(t('linking.unlink'), async () => {
    const name = accountLabel(account);
    const text = t('linking.unlinkConfirm', { name });
    if (!(await confirmDialog({ id: 'unlink-dialog', text, confirm: t('linking.unlink') }))) return;
    await api(`/api/v1/accounts/${account.id}`, { method: 'DELETE' });
    await onDone(t('linking.unlinked', { name }));
  }, { kind: 'danger ghost', errorTarget, 'data-unlink': account.id });
}

/** What the last login said when it linked an account (shown once, on the accounts page). */
export function linkedNotice() {
  const text = sessionStorage.getItem('tgi-linked');
  sessionStorage.removeItem('tgi-linked');
  return text ? h('p', { class: 'notice ok', role: 'status', id: 'linked-notice' }, text) : null;
}
