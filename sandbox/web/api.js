// The sandbox's control API on this page's own origin (docs/sandbox.md lists every call).

export class ControlError extends Error {}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ControlError('network');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ControlError(data?.error?.message ?? `HTTP ${response.status}`);
  return data;
}

const get = (path) => call('GET', path);
const post = (path, body) => call('POST', path, body);

export const api = {
  users: async () => (await get('/sandbox/world/users')).users,
  putUser: (user) => post('/sandbox/world/users', { users: [user] }),
  chats: async () => (await get('/sandbox/world/chats')).chats,
  chat: (id) => get(`/sandbox/world/chats/${encodeURIComponent(id)}`),
  calls: async (method) => (await get(`/sandbox/world/calls?method=${encodeURIComponent(method)}`)).calls,
  faults: async () => (await get('/sandbox/world/faults')).faults,
  addFault: (fault) => post('/sandbox/world/faults', fault),
  pendingQr: async () => (await get('/sandbox/world/qr')).tokens,
  scanQr: (url, userId) => post('/sandbox/world/qr/scan', { url, user_id: userId }),
  loginCodes: async (userId) => (await get(`/sandbox/world/users/${userId}/login_codes`)).codes,
  messages: async (userId) => (await get(`/sandbox/chat/${userId}/messages`)).messages,
  send: (userId, body) => post(`/sandbox/chat/${userId}/send`, body),
  press: (userId, messageId, data) => post(`/sandbox/chat/${userId}/press`, { message_id: messageId, data }),
  fileUrl: (userId, messageId) => `/sandbox/chat/${userId}/files/${messageId}`,
};
