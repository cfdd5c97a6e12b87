// Building DOM without innerHTML: every string from the API lands as text, never as markup.

/** h('button', { class: 'x', testid: 'y', onclick: fn }, 'label', child, [more]) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** The three states every list has before it has data. */
export const loading = (what) => h('p', { class: 'state loading', testid: 'loading', role: 'status' }, `Loading ${what}…`);
export const empty = (text, testid = 'empty') => h('p', { class: 'state empty', testid }, text);
export const failure = (err, testid = 'error') =>
  h('p', { class: 'state error', testid, role: 'alert', dataset: { code: err.code || 'ERROR' } }, err.message || String(err));

/** Runs an action from a button: disables it meanwhile and shows the API's refusal next to it. */
export async function act(button, errorBox, fn) {
  if (button) button.disabled = true;
  if (errorBox) fill(errorBox);
  try {
    return await fn();
  } catch (err) {
    if (errorBox) fill(errorBox, failure(err, 'action-error'));
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}
