// The devhost page: friends, rooms, chat and plugin panels. Plain browser JS, no build step.
// Everything from the server is put into the DOM with textContent, never as HTML.
'use strict';

const token = new URLSearchParams(location.search).get('t') || '';
// Read before the first render rewrites the fragment.
const initialPlace = new URLSearchParams(location.hash.slice(1));
try { sessionStorage.setItem('devhost-token', token); } catch { /* storage may be off; the URL still has it */ }

const state = {
  self: null,
  certificate: '',
  peers: new Map(), // fingerprint -> HostPeer
  rooms: new Map(), // id -> HostChatRoom
  panels: [],
  selected: null, // { kind: 'peer'|'room', id }
  messages: new Map(), // id -> HostChatMessage, for the selected conversation
  undelivered: new Set(), // ids of my messages that reached nobody
  unread: new Map(), // conversation key -> count
  activeTab: 'chat', // 'chat' or a panel key
  historySeq: 0,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const headers = { 'x-devhost-token': token };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch('/api' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'UNAVAILABLE', 'the devhost is not answering');
  }
  if (res.status === 204) return undefined;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error || {};
    throw new ApiError(res.status, e.code || 'INTERNAL', e.message || `HTTP ${res.status}`);
  }
  return data;
}

// ---------------------------------------------------------------- helpers

const convKey = (kind, id) => `${kind}:${id}`;
const messageKey = (m) => (m.room ? convKey('room', m.room) : convKey('peer', m.peer));
const selectedKey = () => (state.selected ? convKey(state.selected.kind, state.selected.id) : null);

function shortFp(fp) {
  return fp ? fp.slice(-8).replace(/(.{4})(.{4})/, '$1 $2') : '';
}

function groupedFp(fp) {
  return (fp || '').replace(/(.{4})/g, '$1 ').trim();
}

function hue(text) {
  let h = 0;
  for (const ch of text || '') h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

function avatar(name, seed, extraClass) {
  const initial = (name || '?').trim().charAt(0).toUpperCase() || '?';
  const a = el('span', { class: 'avatar' + (extraClass ? ' ' + extraClass : ''), 'aria-hidden': 'true', text: initial });
  a.style.setProperty('--h', String(hue(seed || name)));
  return a;
}

function formatTime(ms) {
  const d = new Date(ms);
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return time;
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
}

function iconNode(icon) {
  if (typeof icon === 'string' && /^data:image\//.test(icon)) {
    return el('img', { class: 'tab-icon', src: icon, alt: '' });
  }
  // An emoji or a few letters; anything longer is someone's mistake, not a label.
  return el('span', { class: 'tab-icon', 'aria-hidden': 'true', text: Array.from(icon || '🧩').slice(0, 2).join('') });
}

// ---------------------------------------------------------------- header and sidebar

function renderSelf() {
  const s = state.self;
  if (!s) return;
  $('me-name').textContent = s.displayName || 'Me';
  $('me-fp').textContent = shortFp(s.fingerprint);
  $('me-fp').title = 'Fingerprint ' + groupedFp(s.fingerprint);
  const a = $('me-avatar');
  a.textContent = (s.displayName || '?').charAt(0).toUpperCase();
  a.style.setProperty('--h', String(hue(s.fingerprint)));
  document.title = `${s.displayName} — Kinfolder devhost`;
}

function unreadBadge(key) {
  const n = state.unread.get(key) || 0;
  return n > 0 ? el('span', { class: 'badge', 'aria-label': `${n} unread`, text: String(n) }) : null;
}

function renderPeers() {
  const list = $('friends');
  list.replaceChildren();
  const peers = [...state.peers.values()].sort(
    (a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name),
  );
  for (const p of peers) {
    const key = convKey('peer', p.fingerprint);
    const current = selectedKey() === key;
    const status = p.online ? 'online' : 'offline';
    const btn = el('button', {
      type: 'button', class: 'contact', 'aria-current': current ? 'true' : null,
      'aria-label': `${p.name}, ${status}`, title: groupedFp(p.fingerprint),
      onclick: () => select('peer', p.fingerprint),
    },
    el('span', { class: 'avatar-wrap' }, avatar(p.name, p.fingerprint), el('span', { class: `dot ${status}`, 'aria-hidden': 'true' })),
    el('span', { class: 'contact-text' }, el('span', { class: 'contact-name', text: p.name }), el('span', { class: 'contact-sub', text: p.online ? 'online' : 'offline · ' + shortFp(p.fingerprint) })),
    unreadBadge(key));
    list.append(el('li', {}, btn));
  }
  $('friends-empty').hidden = peers.length > 0;
  $('friends-count').textContent = peers.length ? String(peers.length) : '';
}

function renderRooms() {
  const list = $('rooms');
  list.replaceChildren();
  const rooms = [...state.rooms.values()].sort((a, b) => a.title.localeCompare(b.title));
  for (const r of rooms) {
    const key = convKey('room', r.id);
    const n = r.members.length;
    const btn = el('button', {
      type: 'button', class: 'contact', 'aria-current': selectedKey() === key ? 'true' : null,
      'aria-label': `Room ${r.title}`, onclick: () => select('room', r.id),
    },
    el('span', { class: 'room-mark', 'aria-hidden': 'true', text: '#' }),
    el('span', { class: 'contact-text' }, el('span', { class: 'contact-name', text: r.title }), el('span', { class: 'contact-sub', text: `${n} member${n === 1 ? '' : 's'}` })),
    unreadBadge(key));
    list.append(el('li', {}, btn));
  }
  $('rooms-empty').hidden = rooms.length > 0;
  $('rooms-count').textContent = rooms.length ? String(rooms.length) : '';
}

// ---------------------------------------------------------------- chat

function conversationTitle() {
  const sel = state.selected;
  if (!sel) return { title: 'Chat', sub: '' };
  if (sel.kind === 'peer') {
    const p = state.peers.get(sel.id);
    return { title: p ? p.name : shortFp(sel.id), sub: `${p && p.online ? 'Online' : 'Offline'} · ${groupedFp(sel.id)}` };
  }
  const r = state.rooms.get(sel.id);
  const names = r ? r.members.map((fp) => (state.self && fp === state.self.fingerprint ? 'you' : state.peers.get(fp)?.name || shortFp(fp))) : [];
  return { title: '# ' + (r ? r.title : sel.id), sub: names.length ? 'Members: ' + names.join(', ') : '' };
}

function renderChatHead() {
  const { title, sub } = conversationTitle();
  $('chat-title').textContent = title;
  $('chat-sub').textContent = sub;
  $('btn-remove').hidden = !(state.selected && state.selected.kind === 'peer' && state.peers.has(state.selected.id));
  const enabled = !!state.selected;
  $('composer-text').disabled = !enabled;
  $('composer-send').disabled = !enabled;
  $('composer-text').placeholder = enabled ? `Message ${title}` : 'Select a conversation first';
}

function renderMessages() {
  const list = $('messages');
  const sel = state.selected;
  $('chat-none').hidden = !!sel;
  if (!sel) {
    const alone = state.peers.size === 0 && state.rooms.size === 0;
    $('chat-none-text').textContent = alone
      ? 'No friends yet — exchange certificates: send yours to a friend and add theirs.'
      : 'Select a friend or a room to start chatting.';
    $('chat-none-actions').hidden = !alone;
    list.hidden = true;
    $('messages-empty').hidden = true;
    return;
  }
  const msgs = [...state.messages.values()].sort((a, b) => a.sentAtMs - b.sentAtMs || a.id.localeCompare(b.id));
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.replaceChildren();
  let prev = null;
  for (const m of msgs) {
    const name = m.outgoing ? 'You' : m.fromName || shortFp(m.from);
    // Consecutive messages from one sender within five minutes read as one block.
    const continued = prev && prev.from === m.from && m.sentAtMs - prev.sentAtMs < 5 * 60 * 1000;
    const item = el('li', { class: 'message' + (m.outgoing ? ' outgoing' : '') + (continued ? ' continued' : '') });
    if (!continued) {
      const avatarName = m.outgoing && state.self ? state.self.displayName : name;
      item.append(avatar(avatarName, m.from, 'small'));
      item.append(el('div', { class: 'meta' }, el('span', { class: 'author', text: name }), el('time', { datetime: new Date(m.sentAtMs).toISOString(), text: formatTime(m.sentAtMs) })));
    }
    const body = el('div', { class: 'text', text: m.text });
    if (state.undelivered.has(m.id)) body.append(el('span', { class: 'undelivered', text: ' · not delivered (offline)' }));
    item.append(body);
    list.append(item);
    prev = m;
  }
  list.hidden = msgs.length === 0;
  $('messages-empty').hidden = msgs.length > 0;
  if (nearBottom || list.dataset.key !== selectedKey()) list.scrollTop = list.scrollHeight;
  list.dataset.key = selectedKey();
}

async function select(kind, id) {
  state.selected = { kind, id };
  rememberPlace();
  state.messages = new Map();
  state.undelivered = new Set();
  state.unread.delete(convKey(kind, id));
  $('composer-error').textContent = '';
  showTab('chat');
  renderPeers();
  renderRooms();
  renderChatHead();
  renderMessages();
  await loadHistory();
  $('composer-text').focus();
}

async function loadHistory() {
  const sel = state.selected;
  if (!sel) return;
  const seq = ++state.historySeq;
  try {
    const q = new URLSearchParams({ [sel.kind]: sel.id });
    const { messages } = await api('GET', '/chat?' + q);
    if (seq !== state.historySeq) return; // the user moved on meanwhile
    for (const m of messages) state.messages.set(m.id, m); // live ones that arrived meanwhile stay
    renderMessages();
  } catch (err) {
    if (seq === state.historySeq) $('composer-error').textContent = 'Could not load history: ' + err.message;
  }
}

function onChat(m) {
  const key = messageKey(m);
  if (m.room && !state.rooms.has(m.room)) void refreshState();
  if (key === selectedKey()) {
    state.messages.set(m.id, m);
    renderMessages();
  } else if (!m.outgoing) {
    state.unread.set(key, (state.unread.get(key) || 0) + 1);
    renderPeers();
    renderRooms();
  }
}

async function sendMessage(ev) {
  ev.preventDefault();
  const box = $('composer-text');
  const text = box.value;
  const sel = state.selected;
  if (!sel || !text.trim()) return;
  $('composer-error').textContent = '';
  $('composer-send').disabled = true;
  try {
    const { message, deliveredTo } = await api('POST', '/chat', { [sel.kind]: sel.id, text });
    box.value = '';
    autosize();
    if (sel.kind === 'peer' && deliveredTo.length === 0) state.undelivered.add(message.id);
    if (messageKey(message) === selectedKey()) {
      state.messages.set(message.id, message);
      renderMessages();
    }
  } catch (err) {
    $('composer-error').textContent = 'Not sent: ' + err.message;
  } finally {
    $('composer-send').disabled = !state.selected;
    box.focus();
  }
}

function autosize() {
  const box = $('composer-text');
  box.style.height = 'auto';
  box.style.height = Math.min(box.scrollHeight, 160) + 'px';
}

async function removeSelectedFriend() {
  const sel = state.selected;
  if (!sel || sel.kind !== 'peer') return;
  const p = state.peers.get(sel.id);
  if (!confirm(`Remove ${p ? p.name : sel.id} from your friends? You will need their certificate to add them again.`)) return;
  try {
    await api('DELETE', '/friends/' + encodeURIComponent(sel.id));
    state.peers.delete(sel.id);
    deselectIfGone();
    renderPeers();
  } catch (err) {
    $('composer-error').textContent = 'Could not remove: ' + err.message;
  }
}

function deselectIfGone() {
  const sel = state.selected;
  const gone = sel && (sel.kind === 'peer' ? !state.peers.has(sel.id) : !state.rooms.has(sel.id));
  if (gone) {
    state.selected = null;
    state.messages = new Map();
  }
  renderChatHead();
  renderMessages();
}

// ---------------------------------------------------------------- tabs and panels

const panelKey = (p) => `${p.pluginId}/${p.id}`;
const panelDomId = (p) => 'panel-' + Array.from(panelKey(p)).map((c) => (/[A-Za-z0-9_-]/.test(c) ? c : '_' + c.charCodeAt(0).toString(16))).join('');

function renderPanels() {
  const tabs = $('tabs');
  const views = $('panel-views');
  const wanted = new Map(state.panels.map((p) => [panelKey(p), p]));
  // Keep the iframes of panels that are still there, so switching tabs or a new panel elsewhere does not reload them.
  for (const tab of [...tabs.querySelectorAll('[data-panel]')]) {
    const p = wanted.get(tab.dataset.panel);
    const view = $(tab.getAttribute('aria-controls'));
    if (!p || (view && view.dataset.url !== p.url)) {
      tab.remove();
      if (view) view.remove();
      if (state.activeTab === tab.dataset.panel && !p) state.activeTab = 'chat';
    }
  }
  for (const p of state.panels) {
    const key = panelKey(p);
    const id = panelDomId(p);
    let tab = tabs.querySelector(`[data-panel="${CSS.escape(key)}"]`);
    if (!tab) {
      tab = el('button', { type: 'button', role: 'tab', id: 'tab-' + id, 'aria-controls': 'view-' + id, 'aria-selected': 'false', tabindex: '-1', 'data-panel': key, onclick: () => showTab(key) });
      const view = el('section', { class: 'view panel-view', role: 'tabpanel', id: 'view-' + id, 'aria-labelledby': 'tab-' + id, 'data-url': p.url, hidden: true });
      tabs.append(tab);
      views.append(view);
    } else {
      void loadPanelFrame(p, $('view-' + id), true);
    }
    tab.replaceChildren(iconNode(p.icon), el('span', { text: p.title }));
    tab.title = `${p.title} — ${p.pluginId}`;
  }
  showTab(state.activeTab);
}

// `refresh`: the panel was announced again (perhaps re-registered with a new token); reload the
// frame only if its address changed, so a panel in use is not reset for nothing.
async function loadPanelFrame(p, view, refresh) {
  if (refresh ? !view.dataset.loaded : view.dataset.loaded) return;
  view.dataset.loaded = '1';
  if (!refresh) view.replaceChildren(el('p', { class: 'placeholder', text: `Loading ${p.title}…` }));
  try {
    const { src } = await api('GET', `/panels/${encodeURIComponent(p.pluginId)}/${encodeURIComponent(p.id)}/frame`);
    const current = view.querySelector('iframe');
    if (current && current.getAttribute('src') === src) return;
    view.replaceChildren(el('iframe', {
      class: 'panel-frame', title: p.title, src, referrerpolicy: 'no-referrer',
      sandbox: 'allow-scripts allow-same-origin allow-forms',
    }));
  } catch (err) {
    delete view.dataset.loaded; // try again when the tab is opened next time
    view.replaceChildren(el('p', { class: 'error placeholder', role: 'alert', text: `Cannot show ${p.title}: ${err.message}` }));
  }
}

function showTab(key) {
  const panel = state.panels.find((p) => panelKey(p) === key);
  if (key !== 'chat' && !panel) key = 'chat';
  state.activeTab = key;
  rememberPlace();
  for (const tab of $('tabs').querySelectorAll('[role="tab"]')) {
    const on = (tab.dataset.panel || 'chat') === key;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    const view = $(tab.getAttribute('aria-controls'));
    if (view) view.hidden = !on;
  }
  if (panel) void loadPanelFrame(panel, $('view-' + panelDomId(panel)));
}

function onTabKey(ev) {
  const tabs = [...$('tabs').querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  let next = null;
  if (ev.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
  else if (ev.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
  else if (ev.key === 'Home') next = tabs[0];
  else if (ev.key === 'End') next = tabs[tabs.length - 1];
  if (!next) return;
  ev.preventDefault();
  next.focus();
  next.click();
}

// The place (conversation, tab) lives in the URL's fragment, so a reload or a bookmark comes back to it.
// The query keeps the token; the fragment never reaches a server.
function rememberPlace() {
  const h = new URLSearchParams();
  if (state.selected) h.set(state.selected.kind, state.selected.id);
  if (state.activeTab !== 'chat') h.set('tab', state.activeTab);
  const hash = h.toString();
  history.replaceState(null, '', location.pathname + location.search + (hash ? '#' + hash : ''));
}

function restorePlace() {
  const h = initialPlace;
  const tab = h.get('tab');
  const peer = h.get('peer');
  const room = h.get('room');
  if (peer && state.peers.has(peer)) void select('peer', peer);
  else if (room && state.rooms.has(room)) void select('room', room);
  if (tab) showTab(tab);
}

// ---------------------------------------------------------------- dialogs

function openCert() {
  $('cert-text').value = state.certificate;
  $('cert-status').textContent = '';
  $('dlg-cert').showModal();
  $('cert-text').select();
}

async function copyCert() {
  const text = state.certificate;
  try {
    await navigator.clipboard.writeText(text);
    $('cert-status').textContent = 'Copied to the clipboard.';
  } catch {
    $('cert-text').select();
    const ok = document.execCommand && document.execCommand('copy');
    $('cert-status').textContent = ok ? 'Copied to the clipboard.' : 'Could not copy: select the text and copy it by hand.';
  }
}

function openAdd() {
  $('add-error').textContent = '';
  $('add-text').value = '';
  $('add-text').removeAttribute('aria-invalid');
  $('dlg-add').showModal();
  $('add-text').focus();
}

async function submitAdd(ev) {
  ev.preventDefault();
  const cert = $('add-text').value;
  const err = $('add-error');
  err.textContent = '';
  if (!cert.trim()) {
    err.textContent = 'Paste a certificate first.';
    $('add-text').setAttribute('aria-invalid', 'true');
    return;
  }
  $('btn-add-submit').disabled = true;
  try {
    const { peer } = await api('POST', '/friends', { cert });
    state.peers.set(peer.fingerprint, peer);
    renderPeers();
    $('dlg-add').close();
    void select('peer', peer.fingerprint);
  } catch (e) {
    err.textContent = `Could not add this friend: ${e.message}`;
    $('add-text').setAttribute('aria-invalid', 'true');
  } finally {
    $('btn-add-submit').disabled = false;
  }
}

// ---------------------------------------------------------------- state and live updates

function applyPeers(peers) {
  state.peers = new Map(peers.map((p) => [p.fingerprint, p]));
  renderPeers();
  deselectIfGone();
}

async function refreshState() {
  const s = await api('GET', '/state');
  state.self = s.self;
  state.certificate = s.certificate;
  state.rooms = new Map(s.rooms.map((r) => [r.id, r]));
  state.panels = s.panels;
  renderSelf();
  renderRooms();
  applyPeers(s.peers);
  renderPanels();
}

function onLive(msg) {
  switch (msg.type) {
    case 'peers':
      applyPeers(msg.peers);
      break;
    case 'peer': {
      const e = msg.event;
      if (e.kind === 'removed') state.peers.delete(e.fingerprint);
      else state.peers.set(e.peer.fingerprint, e.peer);
      renderPeers();
      if (state.selected && state.selected.kind === 'peer') deselectIfGone();
      break;
    }
    case 'chat':
      onChat(msg.message);
      break;
    case 'panels':
      state.panels = msg.panels;
      renderPanels();
      break;
  }
}

function setConn(text, ok) {
  const c = $('conn');
  c.textContent = text;
  c.classList.toggle('ok', !!ok);
}

let retryMs = 500;
function connectLive(isReconnect) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws?t=${encodeURIComponent(token)}`);
  ws.onopen = async () => {
    retryMs = 500;
    setConn('Live', true);
    if (isReconnect) {
      // Whatever happened while we were away: take a fresh snapshot.
      try { await refreshState(); await loadHistory(); } catch { /* the next reconnect will retry */ }
    }
  };
  ws.onmessage = (ev) => {
    try { onLive(JSON.parse(ev.data)); } catch (err) { console.error('bad live message', err); }
  };
  ws.onclose = () => {
    setConn('Reconnecting…', false);
    setTimeout(() => connectLive(true), retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
}

function wire() {
  $('btn-cert').addEventListener('click', openCert);
  $('btn-copy').addEventListener('click', copyCert);
  $('btn-cert-close').addEventListener('click', () => $('dlg-cert').close());
  $('btn-add').addEventListener('click', openAdd);
  $('btn-start-cert').addEventListener('click', openCert);
  $('btn-start-add').addEventListener('click', openAdd);
  $('btn-add-cancel').addEventListener('click', () => $('dlg-add').close());
  $('add-form').addEventListener('submit', submitAdd);
  $('composer').addEventListener('submit', sendMessage);
  $('composer-text').addEventListener('input', autosize);
  $('composer-text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('btn-remove').addEventListener('click', removeSelectedFriend);
  $('tab-chat').addEventListener('click', () => showTab('chat'));
  $('tabs').addEventListener('keydown', onTabKey);
}

async function main() {
  wire();
  try {
    await refreshState();
  } catch (err) {
    setConn(err.status === 401 ? 'Not signed in' : 'Offline', false);
    $('chat-none-text').textContent = err.status === 401
      ? 'This page needs its access token: open the URL the devhost printed.'
      : 'Cannot reach the devhost: ' + err.message;
    return;
  }
  restorePlace();
  connectLive(false);
}

document.addEventListener('DOMContentLoaded', main);
