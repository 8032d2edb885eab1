// Pieces shared by the pages: status badges, error boxes, buttons that wait for their action.

import { ApiError } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export function badge(group, status) {
  return h('span', { class: `badge status-${status}`, dataset: { status } }, t(`${group}.status.${status}`));
}

export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 429) return t('error.rateLimited', { wait: waitText(err.retryAfter ?? err.details.retry_after) });
    return err.message;
  }
  return t('error.network');
}

export function errorBox(err) {
  return h('p', { class: 'form-error', role: 'alert' }, errorText(err));
}

export function waitText(seconds) {
  const s = Math.max(1, Number(seconds) || 60);
  if (s < 90) return t('time.seconds', { n: s });
  return t('time.minutes', { n: Math.ceil(s / 60) });
}

/** A button whose click runs `action`; disabled while it runs; errors go to `errorTarget`. */
export function actionButton(label, action, { kind = '', errorTarget, ...attrs } = {}) {
  const button = h('button', { type: 'button', class: kind, ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    errorTarget?.replaceChildren();
    try {
      await action();
    } catch (err) {
      if (errorTarget) errorTarget.replaceChildren(errorBox(err));
      else console.warn(err);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}

export function pageHeader(title, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, title), ...extra);
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

export function link(href, text) {
  return h('a', { href }, text);
}

export function accountLabel(account) {
  return account.username ? `@${account.username}` : account.first_name || `#${account.id}`;
}
