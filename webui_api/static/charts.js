// Progress bars and bar charts drawn here, as DOM and inline SVG (no chart library).

import { h, s } from './dom.js';

/** A progress bar with role=progressbar; `update(done, total)` moves it. */
export function progressBar(label, { id, small = false } = {}) {
  const fill = h('div', { class: 'progress-fill' });
  const el = h('div', {
    class: small ? 'progress small' : 'progress', role: 'progressbar', id,
    'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 0, 'aria-valuenow': 0,
  }, fill);
  el.update = (done, total) => {
    const max = Math.max(total ?? 0, done ?? 0, 0);
    const pct = max > 0 ? Math.min(100, (100 * (done ?? 0)) / max) : 0;
    el.setAttribute('aria-valuemax', String(max));
    el.setAttribute('aria-valuenow', String(done ?? 0));
    el.setAttribute('aria-valuetext', total ? `${done} / ${total} (${Math.floor(pct)}%)` : String(done ?? 0));
    fill.style.width = `${pct}%`; // CSSOM, not an inline style attribute: allowed by the CSP
  };
  return el;
}

/** A usage meter: value against a limit, with the numbers beside it. */
export function meter(label, value, limit) {
  const bar = progressBar(label, { small: true });
  bar.update(value, limit);
  if (limit && value >= limit) bar.classList.add('full');
  return h('div', { class: 'meter' }, bar, h('span', { class: 'meter-text' }, limit ? `${value} / ${limit}` : String(value)));
}

// Each row is its label on a line of its own with the bar below it, so that a long reason
// ("Telegram allows adding …") is never cut at the left edge, however narrow the screen.
const LABEL_H = 18;
const BAR_H = 16;
const ROW = LABEL_H + BAR_H + 8;
const CHART_W = 360; // near a phone's width, so that text keeps about its size there
const VALUE_W = 44;
const LABEL_CHARS = 46; // about what fits across CHART_W at the label's 13px (the full text is its title)

/**
 * Horizontal bars. rows: [{label, values: [{value, kind, title}]}]; the values of one row are
 * stacked. kinds are CSS classes (bar-ok, bar-bad, …) so colours follow the theme.
 */
export function barChart(title, rows, { legend = [] } = {}) {
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((sum, v) => sum + v.value, 0)));
  const plotW = CHART_W - VALUE_W;
  const height = Math.max(ROW, rows.length * ROW) + 4;
  const chart = s('svg', {
    class: 'chart', viewBox: `0 0 ${CHART_W} ${height}`, role: 'img', 'aria-label': title,
    preserveAspectRatio: 'xMinYMin meet',
  }, s('title', {}, title));
  rows.forEach((row, i) => {
    const y = 2 + i * ROW;
    const label = row.label.length > LABEL_CHARS ? `${row.label.slice(0, LABEL_CHARS - 1)}…` : row.label;
    chart.append(s('text', { x: 0, y: y + LABEL_H - 5, class: 'chart-label' }, s('title', {}, row.label), label));
    let x = 0;
    let total = 0;
    const barY = y + LABEL_H;
    for (const part of row.values) {
      const w = (plotW * part.value) / max;
      if (w > 0) {
        chart.append(s('rect', { x, y: barY, width: Math.max(w, 1), height: BAR_H, rx: 3, class: `bar ${part.kind}` },
          s('title', {}, `${row.label}: ${part.title ?? ''} ${part.value}`.trim())));
      }
      x += w;
      total += part.value;
    }
    chart.append(s('text', { x: x + 6, y: barY + BAR_H - 3, class: 'chart-value' }, String(total)));
  });
  const legendEl = legend.length
    ? h('ul', { class: 'legend' }, legend.map((item) => h('li', {}, h('span', { class: `swatch ${item.kind}`, 'aria-hidden': 'true' }), item.label)))
    : null;
  return h('figure', { class: 'chart-figure' }, chart, legendEl);
}
