// The team of a workspace (owner only), when the installation has the team endpoints.

import { ApiError, api } from './api.js';
import { field, h, replace, table } from './dom.js';
import { t } from './i18n.js';
import { actionButton, errorBox, errorText, pageHeader, section } from './ui.js';

const MEMBERS = '/api/v1/workspace/members';

/** False when the API has no team endpoints (404) or refuses them: the page is hidden then. */
export async function teamAvailable() {
  try {
    await api(MEMBERS);
    return true;
  } catch (err) {
    if (!(err instanceof ApiError)) console.warn(err);
    return false;
  }
}

export async function renderTeam(root, ctx) {
  const errors = h('div', { 'aria-live': 'polite' });
  const holder = h('div');
  const username = h('input', { name: 'username', id: 'team-username', required: true, maxlength: 64, placeholder: '@username' });
  const addButton = h('button', { type: 'submit', class: 'primary' }, t('team.add'));
  const form = h('form', { class: 'inline-form' }, field(t('team.username'), username, t('team.addHint')), addButton);

  async function load() {
    try {
      const members = (await api(MEMBERS)).items;
      replace(holder, table(t('nav.team'), [t('team.member'), t('team.role'), t('common.actions')], members.map((m) => [
        h('span', { title: m.first_name }, m.username ? `@${m.username}` : m.first_name),
        t(`role.${m.role}`),
        m.role === 'owner' ? '' : actionButton(t('team.remove'), async () => {
          await api(`${MEMBERS}/${m.user_id}`, { method: 'DELETE' });
          await load();
        }, { kind: 'danger ghost', errorTarget: errors }),
      ]), { empty: t('team.none') }));
    } catch (err) {
      replace(holder, errorBox(err));
    }
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    addButton.disabled = true;
    errors.replaceChildren();
    try {
      await api(MEMBERS, { method: 'POST', body: { username: username.value.trim() } });
      // Said on the page, not only to screen readers: the new row alone is easy to miss.
      const added = t('team.added', { name: username.value.trim() });
      errors.replaceChildren(h('p', { class: 'notice ok', role: 'status', id: 'team-added' }, added));
      ctx.announce(added);
      form.reset();
      await load();
    } catch (err) {
      errors.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    } finally {
      addButton.disabled = false;
    }
  });
  replace(root, pageHeader(t('nav.team')), h('p', { class: 'hint' }, t('team.hint')), errors,
    section(t('team.members'), holder), section(t('team.addTitle'), form));
  await load();
}
