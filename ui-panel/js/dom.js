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

/**
 * Makes `old` look like `fresh`, keeping in place every element the two share. Redrawing by
 * replacement loses clicks: status events redraw the header, tabs and folder list several
 * times a second, and a press that lands on one button and a release on its replacement is no
 * click at all. Elements are the same when tag and the data attributes that name what they
 * stand for (IDENTITY) agree; a kept element keeps its own listeners, so handlers may close over
 * those, and must read anything else from current state. Not for forms: an input's typed
 * value would be overwritten by the drawing's.
 */
export function morph(old, fresh) {
  if (!sameNode(old, fresh)) {
    old.replaceWith(fresh);
    return fresh;
  }
  if (old.nodeType === Node.TEXT_NODE) {
    if (old.data !== fresh.data) old.data = fresh.data;
    return old;
  }
  for (const a of [...old.attributes]) if (!fresh.hasAttribute(a.name)) old.removeAttribute(a.name);
  for (const a of fresh.attributes) if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
  for (const k of ['value', 'disabled']) if (k in old && old[k] !== fresh[k]) old[k] = fresh[k];
  morphChildren(old, [...fresh.childNodes]);
  return old;
}

/**
 * `morph` for a parent's children: each new child takes the first unused old one that is the
 * same (see morph), wherever it was (a row that moved down keeps its button), and is put in
 * its place; old ones left over are removed.
 */
export function morphChildren(parent, children) {
  const pool = new Map();
  for (const o of parent.childNodes) {
    const k = identityOf(o);
    if (k === undefined) continue;
    const q = pool.get(k);
    if (q) q.nodes.push(o);
    else pool.set(k, { nodes: [o], next: 0 });
  }
  let cursor = parent.firstChild;
  for (const c of children) {
    const k = identityOf(c);
    const q = k === undefined ? undefined : pool.get(k);
    const node = q && q.next < q.nodes.length ? morph(q.nodes[q.next++], c) : c;
    if (node === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
  return parent;
}

/** What a node stands for: two nodes with one key are the same (morph keeps the old one); undefined for nodes never kept. */
function identityOf(n) {
  if (n.nodeType === Node.TEXT_NODE) return '#text';
  if (n.nodeType !== Node.ELEMENT_NODE) return undefined;
  return JSON.stringify([n.nodeName, ...IDENTITY.map((k) => n.dataset[k] ?? null)]);
}

/** The data attributes that say which thing an element stands for (see morph). */
const IDENTITY = ['testid', 'key', 'folder', 'path', 'fingerprint', 'entry', 'version'];

function sameNode(a, b) {
  const k = identityOf(a);
  return k !== undefined && k === identityOf(b);
}
