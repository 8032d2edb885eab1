// Small DOM helpers. Data always goes in as text (textContent / attributes), never as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h('button', {class: 'primary', onclick}, 'Save') */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  appendChildren(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, attrs);
  appendChildren(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

export function formatNumber(value, lang) {
  return new Intl.NumberFormat(lang).format(value ?? 0);
}

export function formatDateTime(iso, lang) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatTime(iso, lang) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang, { timeStyle: 'medium' }).format(new Date(iso));
}

/** A labelled form field: <label>text <input …></label> with an optional hint. */
export function field(label, control, hint) {
  return h('label', { class: 'field' },
    h('span', { class: 'field-label' }, label),
    control,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

/** A table with a header row; rows are arrays of cells (nodes or text). */
// Every table becomes one card per row on a phone (app.css, .stack-on-phone), each cell
// named by its column (data-label), so no page scrolls sideways at 375 px.
export function table(caption, headers, rows, { empty } = {}) {
  const body = h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c, i) => h('td', { 'data-label': headers[i] ?? null }, c)))));
  const tableEl = h('table', {},
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    body);
  return h('div', { class: 'table-wrap stack-on-phone' }, tableEl, rows.length === 0 && empty ? h('p', { class: 'empty' }, empty) : null);
}

/** Repeats `fn` every `ms` while the page is shown; returns the stop function. */
export function every(ms, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch (err) { console.warn(err); }
    }
    if (!stopped) timer = setTimeout(tick, typeof ms === 'function' ? ms() : ms);
  };
  timer = setTimeout(tick, typeof ms === 'function' ? ms() : ms);
  return () => { stopped = true; clearTimeout(timer); };
}
