// The simulated world: its chats with their members (who joined when, added by whom), the
// invite calls accounts made and how each ended, its people (and how inviting them ends),
// and the faults that the next calls will meet.

import { api } from './api.js';
import { announce, el, put, repeat } from './dom.js';
import { loadUsers, nameOf, state } from './state.js';
import { formatDateTime, getLanguage, t } from './texts.js';

const POLL_MS = 1500;
const TABS = ['chats', 'invites', 'people', 'faults'];
const INVITE_METHODS = ['InviteToChannelRequest', 'AddChatUserRequest'];
const SHOWN_CALLS = 200;
// What the sandbox can inject (docs/sandbox.md, "Control API: the world"); the error codes
// are Telegram's, from Telethon's error list.
const FAULT_METHODS = ['InviteToChannelRequest', 'AddChatUserRequest', 'GetParticipantsRequest',
  'ResolveUsernameRequest', 'ExportLoginTokenRequest', 'SendCodeRequest'];
const FAULT_ERRORS = ['FLOOD_WAIT_60', 'PEER_FLOOD', 'USER_PRIVACY_RESTRICTED', 'AUTH_KEY_UNREGISTERED'];
const OUTCOMES = ['ok', 'privacy', 'not_mutual', 'too_many_channels', 'missing_invitee', 'deactivated', 'silent',
  'phantom'];

let stop = () => {};
let tab = 'chats';
let chosenChat = null;
const shown = new Map(); // element id -> the JSON it was last drawn from

/** Draw `build()` into `node` only when `data` changed, so open selects and focus survive. */
function drawIfChanged(node, data, build) {
  const key = JSON.stringify([getLanguage(), data]);
  if (shown.get(node.id) === key && node.childElementCount > 0) return;
  shown.set(node.id, key);
  put(node, build());
}

function table(id, caption, headers, rows, empty) {
  return el('div', { class: 'table-wrap' },
    el('table', { id },
      el('caption', { class: 'visually-hidden' }, caption),
      el('thead', {}, el('tr', {}, headers.map((text) => el('th', { scope: 'col' }, text)))),
      el('tbody', {}, rows)),
    rows.length === 0 ? el('p', { class: 'empty' }, empty) : null);
}

const when = (iso) => formatDateTime(iso, getLanguage());
/** Another tab was chosen while this one was loading: draw nothing. */
const stale = (panel, name) => panel.dataset.tab !== name;

// ---- chats ---------------------------------------------------------------------------------
async function drawChats(panel) {
  const chats = await api.chats();
  if (stale(panel, 'chats')) return;
  if (chosenChat === null && chats.length > 0) chosenChat = chats[0].id;
  const list = panel.querySelector('#chat-list') ?? panel.appendChild(el('div', { id: 'chat-list', class: 'chat-list' }));
  const detail = panel.querySelector('#chat-detail') ?? panel.appendChild(el('div', { id: 'chat-detail' }));
  drawIfChanged(list, [chats, chosenChat], () => chats.map((chat) => el('button', {
    type: 'button', class: 'chat-item', data: { chat: chat.id }, 'aria-pressed': String(chat.id === chosenChat),
    onclick: () => { chosenChat = chat.id; refresh(); },
  },
  el('strong', {}, chat.title),
  el('span', { class: 'muted' }, [t(`chat.kind.${chat.type}`), chat.username ? `@${chat.username}` : `${chat.id}`,
    t('world.members', { count: chat.member_count })].join(' · ')))));
  if (chosenChat === null) return;
  const chat = await api.chat(chosenChat);
  if (stale(panel, 'chats') || chat.id !== chosenChat) return;
  detail.dataset.chat = chat.id;
  drawIfChanged(detail, chat, () => {
    // Newest first: the people an invite just added are at the top.
    const rows = [...chat.members].reverse().map((member) => el('tr', { data: { user: member.id } },
      el('td', {}, nameOf(member.id)),
      el('td', {}, el('time', {}, when(member.joined_at))),
      el('td', {}, member.inviter === null || member.inviter === member.id ? '—' : nameOf(member.inviter)),
      el('td', {}, chat.creator === member.id ? t('world.creator') : (chat.admins[member.id] ? t('world.admin') : ''))));
    return [
      el('h3', {}, chat.title, ' ', el('span', { class: 'muted' }, `${chat.id}`)),
      el('p', { class: 'muted' }, [t(`chat.kind.${chat.type}`), chat.hidden_members ? t('world.hidden') : null,
        t('world.members', { count: chat.member_count })].filter(Boolean).join(' · ')),
      table('chat-members', t('world.membersOf', { title: chat.title }),
        [t('world.person'), t('world.joined'), t('world.addedBy'), t('world.role')], rows, t('world.noMembers')),
    ];
  });
}

// ---- invites -------------------------------------------------------------------------------
async function drawInvites(panel) {
  const calls = (await Promise.all(INVITE_METHODS.map((m) => api.calls(m)))).flat()
    .sort((a, b) => b.at.localeCompare(a.at)).slice(0, SHOWN_CALLS);
  if (stale(panel, 'invites')) return;
  const box = panel.querySelector('#invites') ?? panel.appendChild(el('div', { id: 'invites' }));
  drawIfChanged(box, calls, () => [
    el('p', { class: 'hint' }, t('world.invitesHint')),
    table('invite-calls', t('tab.invites'), [t('world.time'), t('world.account'), t('world.invitee'), t('world.outcome')],
      calls.map((call) => el('tr', { class: call.error ? 'refused' : 'done' },
        el('td', {}, el('time', {}, when(call.at))),
        el('td', {}, nameOf(call.account)),
        el('td', {}, call.users.map(nameOf).join(', ') || '—'),
        el('td', {}, el('span', { class: call.error ? 'badge bad' : 'badge ok' }, call.error ?? t('world.ok'))))),
      t('world.noInvites')),
  ]);
}

// ---- people --------------------------------------------------------------------------------
async function drawPeople(panel) {
  await loadUsers();
  if (stale(panel, 'people')) return;
  const users = [...state.users.values()];
  const box = panel.querySelector('#people-box') ?? panel.appendChild(el('div', { id: 'people-box' }));
  drawIfChanged(box, users, () => [
    el('p', { class: 'hint' }, t('world.peopleHint')),
    table('people', t('tab.people'), [t('world.id'), t('world.person'), t('world.phone'), t('world.inviteOutcome')],
      users.map((user) => el('tr', { data: { user: user.id } },
        el('td', {}, String(user.id)),
        el('td', {}, nameOf(user.id), user.bot ? ` (${t('world.bot')})` : '', user.deleted ? ` (${t('world.deleted')})` : ''),
        el('td', {}, user.phone ?? '—', user.password ? ` · ${t('phone.twoFactor')}` : ''),
        el('td', {}, el('select', {
          'aria-label': t('world.inviteOutcomeOf', { name: nameOf(user.id) }),
          onchange: async (event) => {
            try {
              await api.putUser({ id: user.id, invite_outcome: event.target.value });
              announce(t('world.outcomeSet', { name: nameOf(user.id), outcome: t(`outcome.${event.target.value}`) }));
            } catch (problem) {
              announce(problem.message);
            }
          },
        }, OUTCOMES.map((o) => el('option', { value: o, selected: o === user.invite_outcome }, t(`outcome.${o}`))))))),
      t('world.noPeople')),
  ]);
}

// ---- faults --------------------------------------------------------------------------------
function faultForm(panel) {
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { id: 'fault-form', class: 'inline-form' },
    el('label', {}, t('fault.method'), el('select', { name: 'method' },
      FAULT_METHODS.map((m) => el('option', { value: m }, m)))),
    el('label', {}, t('fault.error'), el('select', { name: 'error' },
      FAULT_ERRORS.map((e) => el('option', { value: e }, `${e} — ${t(`fault.about.${e}`)}`)))),
    el('label', {}, t('fault.count'), el('input', { name: 'count', type: 'number', min: 1, max: 1000, value: 1 })),
    el('label', { class: 'check' }, el('input', { name: 'mine', type: 'checkbox' }),
      t('fault.onlyPerson', { name: nameOf(state.person) })),
    el('button', { type: 'submit', class: 'primary' }, t('fault.add')),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const fault = { method: data.get('method'), error: data.get('error'), count: Number(data.get('count')) };
    if (data.get('mine') && state.person !== null) fault.account = state.person;
    try {
      await api.addFault(fault);
    } catch (problem) {
      put(error, problem.message);
      return;
    }
    put(error);
    announce(t('fault.added', { error: fault.error, method: fault.method }));
    await refresh();
  });
  panel.append(el('p', { class: 'hint' }, t('fault.hint')), form);
}

async function drawFaults(panel) {
  if (!panel.querySelector('#fault-form')) faultForm(panel);
  const faults = await api.faults();
  if (stale(panel, 'faults')) return;
  const box = panel.querySelector('#faults') ?? panel.appendChild(el('div', { id: 'faults' }));
  drawIfChanged(box, faults, () => table('fault-list', t('tab.faults'),
    [t('fault.method'), t('fault.error'), t('fault.remaining'), t('world.account')],
    faults.map((f) => el('tr', {}, el('td', {}, f.method), el('td', {}, f.error), el('td', {}, String(f.remaining)),
      el('td', {}, f.account === null ? t('fault.anyone') : nameOf(f.account)))),
    t('fault.none')));
}

const DRAW = { chats: drawChats, invites: drawInvites, people: drawPeople, faults: drawFaults };
let panelNode = null;

async function refresh() {
  if (panelNode === null) return;
  const drawing = tab;
  const panel = panelNode;
  if (panel.dataset.tab !== drawing) {
    shown.clear();
    panel.replaceChildren();
    panel.dataset.tab = drawing;
  }
  await DRAW[drawing](panel);
}

export function mountWorld(pane) {
  stop();
  shown.clear();
  panelNode = el('div', { id: 'world-panel', role: 'tabpanel', 'aria-labelledby': `tab-${tab}` });
  const tabs = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('world.title') },
    TABS.map((name) => el('button', {
      type: 'button', role: 'tab', id: `tab-${name}`, 'aria-selected': String(name === tab),
      onclick: (event) => {
        tab = name;
        for (const other of tabs.children) other.setAttribute('aria-selected', String(other === event.currentTarget));
        panelNode.setAttribute('aria-labelledby', `tab-${name}`);
        refresh();
      },
    }, t(`tab.${name}`))));
  put(pane, el('h2', { id: 'world-title' }, t('world.title')), tabs, panelNode);
  stop = repeat(POLL_MS, refresh);
}
