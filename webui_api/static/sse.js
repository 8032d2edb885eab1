// Server-sent events read with fetch(): EventSource cannot send the Authorization header.

import { api, ApiError, refreshSession } from './api.js';

function parseFrame(frame) {
  const event = { type: 'message', data: [], retry: null };
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue; // comments are heartbeats
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') event.type = value;
    else if (name === 'data') event.data.push(value);
    else if (name === 'retry') event.retry = Number.parseInt(value, 10);
  }
  return { ...event, data: event.data.join('\n') };
}

async function* frames(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      yield parseFrame(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
}

/**
 * Follow a stream of JSON events until it ends for good or `close()` is called. Reconnects
 * after a dropped connection and after the token expired (refreshing it first).
 *   handlers: { onEvent(type, data), onEnd(reason), onState('live' | 'reconnecting') }
 */
export function follow(path, handlers) {
  const controller = new AbortController();
  let retryMs = 3000;

  const run = async () => {
    while (!controller.signal.aborted) {
      let reason = null;
      try {
        const response = await api(path, { raw: true, signal: controller.signal, headers: { Accept: 'text/event-stream' } });
        handlers.onState?.('live');
        for await (const frame of frames(response.body, controller.signal)) {
          if (frame.retry) retryMs = frame.retry;
          if (frame.type === 'end') reason = JSON.parse(frame.data || '{}').reason ?? 'finished';
          else if (frame.data) handlers.onEvent(frame.type, JSON.parse(frame.data));
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.status === 404) reason = 'not_found';
        else if (err instanceof ApiError && err.status === 401) return; // logged out
      }
      if (controller.signal.aborted) return;
      if (reason === 'finished' || reason === 'not_found') {
        handlers.onEnd?.(reason);
        return;
      }
      if (reason === 'unauthorized' && !(await refreshSession())) return;
      handlers.onState?.('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, reason === 'unauthorized' ? 0 : retryMs));
    }
  };
  run();
  return { close: () => controller.abort() };
}
