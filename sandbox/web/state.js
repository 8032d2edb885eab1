// What the parts of the page share: the person it acts as and the world's people.

import { api } from './api.js';

export const state = {
  person: null, // the user id the page chats and scans as
  users: new Map(), // the world's users by id
};

const PERSON_KEY = 'person';

/** The people shown in the picker: anyone who could chat with a bot. */
export function people() {
  return [...state.users.values()].filter((u) => !u.bot && !u.deleted);
}

export function nameOf(id) {
  const user = state.users.get(id);
  if (!user) return id === null || id === undefined ? '—' : `#${id}`;
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
  return user.username ? `${name} @${user.username}` : name;
}

export async function loadUsers() {
  state.users = new Map((await api.users()).map((u) => [u.id, u]));
}

/** The person named in the address (#person=1002), else Alice, else the first person. */
export function initialPerson() {
  const wanted = Number(new URLSearchParams(location.hash.slice(1)).get(PERSON_KEY));
  const candidates = people();
  const found = candidates.find((u) => u.id === wanted) ?? candidates.find((u) => u.username === 'alice');
  return (found ?? candidates[0])?.id ?? null;
}

export function rememberPerson(id) {
  history.replaceState(null, '', `#${PERSON_KEY}=${id}`);
}

/** A free user id for a new person: the first one from 2001 up. */
export function freeUserId() {
  let id = 2001;
  while (state.users.has(id)) id += 1;
  return id;
}
