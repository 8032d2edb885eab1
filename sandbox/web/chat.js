// The private chat of the chosen person with the bot: the transcript in order (edits and
// deletions stay visible, as the sandbox keeps them), photos, documents, inline buttons and
// a text box. The transcript is polled; only messages that changed are drawn again.

import { api } from './api.js';
import { announce, el, put, repeat } from './dom.js';
import { nameOf, state } from './state.js';
import { formatTime, getLanguage, t } from './texts.js';

const POLL_MS = 500;

let stop = () => {};
let drawn = new Map(); // message id -> {key, node}
let log = null;
let stuck = true; // the person reads the newest messages: keep them in view as the chat grows

function followNewest() {
  if (stuck && log) log.scrollTop = log.scrollHeight;
}

function buttonRows(message, person) {
  if (message.deleted || message.buttons.length === 0) return null;
  return el('div', { class: 'inline-buttons' }, message.buttons.map((row) => el('div', { class: 'button-row' },
    row.map((button) => (button.url
      ? el('a', { class: 'inline-button', href: button.url, target: '_blank', rel: 'noopener noreferrer' }, button.text)
      : el('button', {
        type: 'button', class: 'inline-button', data: { callback: button.data },
        onclick: async (event) => {
          const pressed = event.currentTarget;
          pressed.disabled = true;
          try {
            await api.press(person, message.id, button.data);
            announce(t('chat.pressed', { button: button.text }));
            await refresh();
          } catch (problem) {
            showError(problem);
          } finally {
            pressed.disabled = false;
          }
        },
      }, button.text))))));
}

function messageNode(message, person) {
  const fileUrl = api.fileUrl(person, message.id);
  const flags = [
    message.edited ? t('chat.edited') : null,
    message.deleted ? t('chat.deleted') : null,
  ].filter(Boolean);
  return el('article', {
    class: `message from-${message.from}${message.deleted ? ' deleted' : ''}`,
    data: { id: message.id, from: message.from },
    'aria-label': message.from === 'bot' ? t('chat.fromBot') : t('chat.fromPerson', { name: nameOf(person) }),
  },
  // The query string only changes with an edit, so a new QR code is loaded and an old one cached.
  message.photo ? el('img', {
    class: 'photo', src: `${fileUrl}?v=${message.edit_date ?? 0}`, alt: t('chat.photo'), onload: followNewest,
  }) : null,
  message.document ? el('a', { class: 'document', href: fileUrl, download: message.document.file_name },
    el('span', { class: 'document-icon', 'aria-hidden': 'true' }, 'CSV'), message.document.file_name) : null,
  message.text ? el('p', { class: 'text' }, message.text) : null,
  buttonRows(message, person),
  el('footer', { class: 'meta' },
    el('span', {}, `#${message.id}`),
    message.date ? el('time', {}, formatTime(message.date * 1000, getLanguage())) : null,
    flags.map((flag) => el('span', { class: 'flag' }, flag))));
}

function showError(problem) {
  const box = document.getElementById('chat-error');
  if (box) put(box, t('chat.failed', { problem: problem.message === 'network' ? t('error.unreachable') : problem.message }));
}

async function refresh() {
  const person = state.person;
  if (person === null || log === null) return;
  const messages = await api.messages(person);
  if (person !== state.person) return;
  let changed = false;
  for (const message of messages) {
    const key = JSON.stringify(message);
    const old = drawn.get(message.id);
    if (old?.key === key) continue;
    const node = messageNode(message, person);
    if (old) old.node.replaceWith(node);
    else log.append(node);
    drawn.set(message.id, { key, node });
    changed = true;
  }
  log.querySelector('.empty')?.remove();
  if (messages.length === 0 && !log.querySelector('.empty')) log.append(el('p', { class: 'empty' }, t('chat.empty')));
  if (changed) followNewest();
}

function composer(person) {
  const input = el('input', {
    id: 'composer-text', name: 'text', autocomplete: 'off', maxlength: 4096, required: true,
    placeholder: t('chat.placeholder'), 'aria-label': t('chat.message'),
  });
  const form = el('form', { id: 'composer', class: 'composer' },
    input, el('button', { id: 'composer-send', type: 'submit', class: 'primary' }, t('chat.send')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    const user = state.users.get(person) ?? {};
    const profile = { text, first_name: user.first_name ?? `User ${person}`, language_code: getLanguage() };
    if (user.username) profile.username = user.username;
    try {
      await api.send(person, profile);
    } catch (problem) {
      showError(problem);
      return;
    }
    put(document.getElementById('chat-error'));
    input.value = '';
    stuck = true;
    await refresh();
    followNewest();
  });
  return form;
}

export function mountChat(pane) {
  stop();
  drawn = new Map();
  const person = state.person;
  if (person === null) {
    log = null;
    put(pane, el('h2', { id: 'chat-title' }, t('chat.title')), el('p', { class: 'empty' }, t('chat.nobody')));
    return;
  }
  log = el('div', { id: 'chat-log', class: 'chat-log', role: 'log', 'aria-live': 'polite', tabindex: 0 });
  stuck = true;
  log.addEventListener('scroll', () => { stuck = log.scrollHeight - log.scrollTop - log.clientHeight < 40; });
  put(pane,
    el('h2', { id: 'chat-title' }, t('chat.titleAs', { name: nameOf(person) })),
    el('p', { class: 'hint' }, t('chat.hint')),
    log,
    el('p', { id: 'chat-error', class: 'error', role: 'alert' }),
    composer(person));
  stop = repeat(POLL_MS, refresh);
}
