// The sandbox page: chat with the bot as a person of the simulated world, that person's
// phone beside the chat, and the world itself (chats, invites, people, faults).

import { api } from './api.js';
import { announce, el, put } from './dom.js';
import { mountChat } from './chat.js';
import { mountPhone } from './phone.js';
import { mountWorld } from './world.js';
import { freeUserId, initialPerson, loadUsers, nameOf, people, rememberPerson, state } from './state.js';
import { LANGUAGES, getLanguage, rememberLanguage, setLanguage, startLanguage, t } from './texts.js';

const root = document.getElementById('app');

function languageSelect() {
  return el('select', {
    id: 'lang', 'aria-label': t('header.language'),
    onchange: (event) => { setLanguage(event.target.value); rememberLanguage(event.target.value); render(); },
  }, LANGUAGES.map((code) => el('option', { value: code, selected: code === getLanguage() }, t(`lang.${code}`))));
}

function personSelect() {
  return el('select', {
    id: 'person', 'aria-label': t('header.person'),
    onchange: (event) => choose(Number(event.target.value)),
  }, people().map((u) => el('option', { value: u.id, selected: u.id === state.person }, `${nameOf(u.id)} · ${u.id}`)));
}

function newPersonForm() {
  const error = el('p', { class: 'error', id: 'new-person-error', role: 'alert' });
  const idField = el('input', { name: 'id', type: 'number', min: 1, value: freeUserId(), required: true });
  const form = el('form', { id: 'new-person-form', class: 'inline-form', hidden: true },
    el('label', {}, t('person.firstName'), el('input', { name: 'first_name', required: true, maxlength: 64 })),
    el('label', {}, t('person.username'), el('input', { name: 'username', maxlength: 32, placeholder: 'newcomer' })),
    el('label', {}, t('person.phone'), el('input', { name: 'phone', maxlength: 16, placeholder: '+15550002001' })),
    el('label', {}, t('person.id'), idField),
    el('button', { type: 'submit', class: 'primary' }, t('person.create')),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const user = { id: Number(data.get('id')), first_name: String(data.get('first_name')).trim() };
    for (const name of ['username', 'phone']) {
      const value = String(data.get(name)).trim().replace(/^@/, '');
      if (value) user[name] = value;
    }
    try {
      await api.putUser(user);
    } catch (problem) {
      put(error, t('person.failed', { problem: problem.message }));
      return;
    }
    await loadUsers();
    announce(t('person.created', { name: nameOf(user.id) }));
    choose(user.id);
  });
  return form;
}

function header() {
  const form = newPersonForm();
  const toggle = el('button', {
    type: 'button', id: 'new-person', 'aria-expanded': 'false', 'aria-controls': 'new-person-form',
    onclick: () => {
      form.hidden = !form.hidden;
      toggle.setAttribute('aria-expanded', String(!form.hidden));
      if (!form.hidden) form.querySelector('input').focus();
    },
  }, t('person.new'));
  return el('header', { class: 'topbar' },
    el('div', { class: 'brand' },
      el('h1', {}, t('header.title')),
      el('p', { class: 'muted' }, t('header.subtitle'))),
    el('div', { class: 'controls' },
      el('span', { class: 'label' }, t('header.actingAs')), personSelect(), toggle, languageSelect()),
    form);
}

function choose(id) {
  state.person = id;
  rememberPerson(id);
  render();
}

function render() {
  document.documentElement.lang = getLanguage();
  document.title = t('header.title');
  const chat = el('section', { id: 'chat-pane', class: 'pane', 'aria-labelledby': 'chat-title' });
  const phone = el('aside', { id: 'phone-pane', class: 'pane phone', 'aria-labelledby': 'phone-title' });
  const world = el('section', { id: 'world-pane', class: 'pane', 'aria-labelledby': 'world-title' });
  put(root, header(), el('main', { class: 'layout' }, chat, phone, world));
  mountChat(chat);
  mountPhone(phone);
  mountWorld(world);
  root.removeAttribute('aria-busy');
}

async function start() {
  startLanguage(navigator.language);
  try {
    await loadUsers();
  } catch {
    put(root, el('p', { class: 'boot error' }, t('error.unreachable')));
    return;
  }
  state.person = initialPerson();
  if (state.person !== null) rememberPerson(state.person);
  render();
}

start();
