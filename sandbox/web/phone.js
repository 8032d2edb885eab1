// The chosen person's phone, logged in to the simulated Telegram: it scans the bot's QR
// code (Settings → Devices → Link Desktop Device) and receives phone login codes.
//
// The QR code is an image in the chat; rather than reading it, the phone scans the newest
// QR login waiting in the world (GET /sandbox/world/qr), which is the bot's while one
// person links at a time.

import { api } from './api.js';
import { announce, el, put, repeat } from './dom.js';
import { nameOf, state } from './state.js';
import { formatTime, getLanguage, t } from './texts.js';

const POLL_MS = 1000;

let stop = () => {};
let waiting = [];
let scanned = null; // the name the last scan logged in, shown until the next QR code waits

function newest(tokens) {
  return [...tokens].sort((a, b) => b.expires_at.localeCompare(a.expires_at))[0] ?? null;
}

function drawQr(box, button) {
  button.disabled = waiting.length === 0;
  if (waiting.length > 0) put(box, t('phone.qrWaiting', { count: waiting.length }));
  else put(box, scanned ? t('phone.scanned', { name: scanned }) : t('phone.qrNone'));
}

function drawCodes(list, codes) {
  if (codes.length === 0) {
    put(list, el('li', { class: 'empty' }, t('phone.codesNone')));
    return;
  }
  put(list, [...codes].reverse().map((code) => el('li', { class: code.valid ? 'code valid' : 'code' },
    el('strong', { class: 'code-value' }, code.code),
    el('span', {}, t(`phone.codeType.${code.type}`)),
    el('time', {}, formatTime(code.at, getLanguage())),
    el('span', { class: 'flag' }, code.valid ? t('phone.codeValid') : t('phone.codeUsed')))));
}

export function mountPhone(pane) {
  stop();
  scanned = null;
  const person = state.person;
  const user = state.users.get(person);
  if (!user) {
    put(pane, el('h2', { id: 'phone-title' }, t('phone.title')), el('p', { class: 'empty' }, t('chat.nobody')));
    return;
  }
  const qrState = el('p', { id: 'phone-qr-state', class: 'muted' });
  const error = el('p', { id: 'phone-error', class: 'error', role: 'alert' });
  const scan = el('button', { id: 'phone-scan', type: 'button', class: 'primary', disabled: true }, t('phone.scan'));
  scan.addEventListener('click', async () => {
    const token = newest(waiting);
    if (!token) return;
    scan.disabled = true;
    try {
      await api.scanQr(token.url, person);
    } catch (problem) {
      put(error, t('phone.scanFailed', { problem: problem.message }));
      return;
    }
    put(error);
    scanned = nameOf(person);
    waiting = waiting.filter((w) => w.url !== token.url);
    announce(t('phone.scanned', { name: scanned }));
    drawQr(qrState, scan);
  });
  const codes = el('ul', { id: 'phone-codes', class: 'codes' });
  put(pane, el('div', { class: 'phone-frame' },
    el('div', { class: 'phone-notch', 'aria-hidden': 'true' }),
    el('h2', { id: 'phone-title' }, t('phone.titleOf', { name: user.first_name })),
    el('p', { class: 'muted' }, user.phone ?? t('phone.noNumber'),
      user.password ? ` · ${t('phone.twoFactor')}` : ''),
    el('section', { class: 'phone-card' },
      el('h3', {}, t('phone.linkTitle')),
      el('p', { class: 'hint' }, t('phone.linkHint')),
      scan, qrState, error),
    el('section', { class: 'phone-card' },
      el('h3', {}, t('phone.codesTitle')),
      el('p', { class: 'hint' }, t('phone.codesHint')),
      codes)));
  stop = repeat(POLL_MS, async () => {
    const [tokens, sent] = await Promise.all([api.pendingQr(), api.loginCodes(person)]);
    if (person !== state.person) return;
    if (tokens.length > 0) scanned = null;
    waiting = tokens;
    drawQr(qrState, scan);
    drawCodes(codes, sent);
  });
}
