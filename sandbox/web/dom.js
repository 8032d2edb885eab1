// Building elements from data. Text from the sandbox (names, messages) only ever goes in as
// text nodes or attribute values, never as HTML.

/** el('button', {class: 'small', onclick}, 'Send'); null, undefined and false are skipped. */
export function el(tag, props = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = value;
    else if (name === 'data') Object.assign(node.dataset, value);
    else if (typeof value === 'function' && name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  fill(node, kids);
  return node;
}

function fill(node, kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
}

/** Swap everything inside `node` for `kids`. */
export function put(node, ...kids) {
  node.replaceChildren();
  fill(node, kids);
  return node;
}

/** Runs `job` now and then again `ms` after each run ends, while the tab is visible. */
export function repeat(ms, job) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await job(); } catch (error) { console.warn(error); }
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return () => { stopped = true; clearTimeout(timer); };
}

/** Tell screen readers (and tests) what just happened. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = text;
}
