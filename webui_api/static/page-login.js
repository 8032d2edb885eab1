// The login page: a one-time code from the bot's /web_auth and the Telegram username.

import { ApiError, login } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { waitText } from './ui.js';

function loginError(err) {
  if (!(err instanceof ApiError)) return t('error.network');
  if (err.status === 429) return t('login.rateLimited', { wait: waitText(err.retryAfter ?? err.details.retry_after) });
  if (err.status === 400) return t('login.malformed');
  return err.message;
}

export function renderLogin(root, { notice, languageSwitcher, onLoggedIn }) {
  const username = h('input', {
    name: 'username', id: 'login-username', autocomplete: 'username', required: true, maxlength: 64,
    autocapitalize: 'none', spellcheck: 'false', placeholder: '@username',
  });
  const code = h('input', {
    name: 'code', id: 'login-code', autocomplete: 'one-time-code', required: true, maxlength: 32,
    autocapitalize: 'characters', spellcheck: 'false', placeholder: 'ABC123', 'aria-describedby': 'login-code-hint',
  });
  const error = h('p', { class: 'form-error', id: 'login-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'login-form', 'aria-labelledby': 'login-title' },
    h('label', { class: 'field', for: 'login-username' }, h('span', { class: 'field-label' }, t('login.username'))),
    username,
    h('label', { class: 'field', for: 'login-code' }, h('span', { class: 'field-label' }, t('login.code'))),
    code,
    h('small', { class: 'hint', id: 'login-code-hint' }, t('login.codeHint')),
    error,
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!username.value.trim() || !code.value.trim()) {
      error.textContent = t('login.fillBoth');
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.checking');
    try {
      await login(username.value.trim(), code.value.trim());
      await onLoggedIn();
    } catch (err) {
      error.textContent = loginError(err);
      error.hidden = false;
      code.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  });

  replace(root,
    h('header', { class: 'topbar login-bar' }, h('span', { class: 'brand' }, 'tg-inviter'), h('div', { class: 'topbar-tools' }, languageSwitcher())),
    h('main', { id: 'main', class: 'login-main' },
      h('div', { class: 'card login-card' },
        h('h1', { id: 'login-title' }, t('login.title')),
        notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
        h('ol', { class: 'steps' },
          h('li', {}, t('login.step1a'), h('code', {}, '/web_auth'), t('login.step1b')),
          h('li', {}, t('login.step2')),
          h('li', {}, t('login.step3'))),
        form)));
  username.focus();
}
