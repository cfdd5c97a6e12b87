// The panel's shell: token, folder list, invitations, the create form, and the selected folder's tabs.
// Live: every event from the sidecar refetches what it names; nothing needs a reload.
import { createApi, connectEvents } from './api.js';
import { act, failure, fill, h, morph, morphChildren } from './dom.js';
import { ago, bytes, describeStatus, exact, plural, shortFp } from './format.js';
import { rateGraph } from './graph.js';
import { filesView } from './views/files.js';
import { membersView } from './views/members.js';
import { historyView } from './views/history.js';
import { conflictsView } from './views/conflicts.js';
import { chatView } from './views/chat.js';

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const TABS = [
  { id: 'files', label: 'Files', mount: filesView },
  { id: 'members', label: 'Members', mount: membersView },
  { id: 'history', label: 'History', mount: historyView },
  { id: 'conflicts', label: 'Conflicts', mount: conflictsView },
  { id: 'chat', label: 'Chat', mount: chatView },
];

// The host hands the panel its token in the URL fragment (`#token=`). Keep it for this tab's
// session (a reload still works) and take it out of the address bar.
function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  let token = hash.get('token') || hash.get('t');
  if (token) {
    try { sessionStorage.setItem('kinfolder-panel-token', token); } catch { /* storage off: the page works until reloaded */ }
    hash.delete('token');
    hash.delete('t');
    history.replaceState(null, '', location.pathname + location.search + (hash.toString() ? `#${hash}` : ''));
  } else {
    try { token = sessionStorage.getItem('kinfolder-panel-token'); } catch { token = null; }
  }
  return token || '';
}

const token = readToken();
const api = createApi(token);
const place = new URLSearchParams(location.hash.slice(1));
const state = {
  self: null,
  folders: null,
  invitations: [],
  friends: [],
  selected: place.get('folder'),
  tab: TABS.some((t) => t.id === place.get('tab')) ? place.get('tab') : 'files',
  view: null,
  unread: new Map(),
  live: false,
};

function rememberPlace() {
  const h2 = new URLSearchParams();
  if (state.selected) h2.set('folder', state.selected);
  if (state.tab !== 'files') h2.set('tab', state.tab);
  history.replaceState(null, '', location.pathname + location.search + (h2.toString() ? `#${h2}` : ''));
}

const selectedFolder = () => (state.folders || []).find((f) => f.id === state.selected);

function nameOf(fp) {
  if (state.self && fp === state.self.fingerprint) return `${state.self.name} (you)`;
  const friend = state.friends.find((f) => f.fingerprint === fp);
  return friend ? friend.name : shortFp(fp);
}

function showBanner(text, tone = 'error') {
  const b = $('banner');
  if (!text) { b.hidden = true; return; }
  b.hidden = false;
  b.dataset.tone = tone;
  fill(b, h('span', { testid: 'banner-text' }, text), h('button', { class: 'btn small link', testid: 'banner-close', onclick: () => showBanner(null), 'aria-label': 'Dismiss' }, '✕'));
}

function setConnection(s) {
  state.live = s === 'live';
  const c = $('connection');
  c.dataset.state = s;
  c.textContent = { live: '● Live', offline: '● Reconnecting…', waiting: '● Waiting for the folder service' }[s] || 'Connecting…';
  c.title = s === 'live' ? 'Updates arrive as they happen' : 'The live connection to Kinfolder is down; retrying';
  document.body.classList.toggle('disconnected', s === 'offline');
}

// ---- folder list -------------------------------------------------------------------------

function statusBadge(st, testid = 'folder-status') {
  const d = describeStatus(st);
  return h('span', { class: `badge ${d.tone}`, testid, dataset: { state: st.state } }, d.label);
}

const hasRate = (st) => st.rateBytesPerS > 0 || (st.rateHistory || []).some((r) => r > 0);

function folderItem(f) {
  const d = describeStatus(f.status);
  const unread = state.unread.get(f.id) || 0;
  const progress = f.status.state === 'scanning' && f.status.scan
    ? h('progress', { max: Math.max(1, f.status.scan.total), value: f.status.scan.done, testid: 'scan-progress' })
    : null;
  return h('li', { class: `folder-item${f.id === state.selected ? ' selected' : ''}`, dataset: { folder: f.id } },
    h('button', { type: 'button', class: 'folder-button', testid: 'folder-item', dataset: { folder: f.id }, 'aria-current': f.id === state.selected ? 'true' : null, onclick: () => select(f.id) },
      h('span', { class: 'folder-name', testid: 'folder-name' }, f.name),
      statusBadge(f.status),
      h('span', { class: 'folder-detail', testid: 'folder-detail' }, d.detail),
      progress,
      h('span', { class: 'folder-extra' },
        f.status.conflicts ? h('span', { class: 'badge bad', testid: 'folder-conflicts' }, plural(f.status.conflicts, 'conflict')) : null,
        unread ? h('span', { class: 'badge busy', testid: 'folder-unread' }, `${unread} new`) : null,
        hasRate(f.status) ? rateGraph(f.status.rateHistory, { width: 96, height: 22 }) : null)));
}

function renderFolders(err) {
  const list = $('folder-list');
  if (err) return fill(list, h('li', {}, failure(err, 'folders-error')));
  if (!state.folders) return;
  if (state.folders.length === 0) {
    return fill(list, h('li', { class: 'state empty', testid: 'no-folders' }, 'No shared folders yet. Add a folder to share it with friends, or accept an invitation.'));
  }
  // In place: the list redraws on every status event, and a folder clicked meanwhile must open.
  morphChildren(list, state.folders.map(folderItem));
}

async function loadFolders() {
  try {
    state.folders = await api.folders();
    document.body.classList.remove('no-service');
    if (state.selected && !selectedFolder()) state.selected = null;
    if (!state.selected && state.folders.length) state.selected = state.folders[0].id;
    renderFolders();
    renderFolderView();
  } catch (err) {
    if (err.code === 'NO_FOLDER_SERVICE') return showHostStatus(err);
    renderFolders(err);
    if (!state.folders) fill($('folder-view'), failure(err, 'view-error'));
  }
}

/** Before the sidecar runs its folder service: say what is connected, from the older status call. */
async function showHostStatus(err) {
  document.body.classList.add('no-service');
  fill($('folder-list'), h('li', { class: 'state empty', testid: 'no-folder-service' }, err.message));
  try {
    const st = await api.status();
    fill($('folder-view'), h('div', { class: 'welcome', testid: 'host-status' },
      h('h2', {}, 'Kinfolder is connected to this node'),
      h('p', {}, `${st.self.displayName} · ${st.self.hostSoftware || ''}`),
      h('p', { class: 'muted' }, `Friends online: ${(st.peers || []).filter((p) => p.online).length} of ${(st.peers || []).length}. Shared folders appear here once the folder service runs.`)));
  } catch {
    fill($('folder-view'), failure(err, 'view-error'));
  }
}

// ---- invitations -------------------------------------------------------------------------

/** Where an accepted folder goes by default: beside the folders already here. */
function suggestRoot(name) {
  const root = state.folders && state.folders[0] && state.folders[0].root;
  const parent = root ? root.slice(0, root.lastIndexOf('/')) : '';
  return parent ? `${parent}/${name}` : '';
}

const typedRoots = new Map();

function renderInvitations() {
  const box = $('invitations');
  box.hidden = state.invitations.length === 0;
  fill(box, h('h2', {}, 'Invitations'), state.invitations.map((inv) => {
    // What the person typed survives a redraw (another invitation arriving meanwhile).
    const root = h('input', { testid: 'invitation-root', value: typedRoots.get(inv.folder) ?? suggestRoot(inv.name), placeholder: '/home/me/' + inv.name, 'aria-label': `Where to put ${inv.name}`,
      oninput: (ev) => typedRoots.set(inv.folder, ev.currentTarget.value) });
    const errBox = h('div', { class: 'form-error' });
    const accept = h('button', { type: 'submit', class: 'btn primary small', testid: 'invitation-accept' }, 'Accept');
    const decline = h('button', { type: 'button', class: 'btn small', testid: 'invitation-decline' }, 'Decline');
    const form = h('form', { class: 'card invitation', testid: 'invitation', dataset: { folder: inv.folder } },
      h('p', {}, h('strong', {}, inv.from.name), ' invites you to ', h('strong', { testid: 'invitation-name' }, inv.name), ` as ${inv.role}`,
        inv.pathPrefixes && inv.pathPrefixes.length ? ` (only ${inv.pathPrefixes.join(', ')})` : '', '.'),
      h('p', { class: 'muted small' }, `${plural(inv.members, 'member')} · ${ago(inv.receivedAtMs)}`),
      h('label', { class: 'small' }, 'Put it in', root),
      errBox,
      h('div', { class: 'row' }, accept, decline));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!root.value.trim()) return fill(errBox, failure({ message: 'Choose where to put the folder.' }, 'action-error'));
      void act(accept, errBox, async () => {
        const summary = await api.accept(inv.folder, root.value.trim());
        state.selected = summary.id;
        await Promise.all([loadInvitations(), loadFolders()]);
      });
    });
    decline.addEventListener('click', () => act(decline, errBox, async () => { await api.decline(inv.folder); await loadInvitations(); }));
    return form;
  }));
}

async function loadInvitations() {
  try {
    state.invitations = await api.invitations();
    renderInvitations();
  } catch (err) {
    if (err.code === 'NO_FOLDER_SERVICE') return;
    const box = $('invitations');
    box.hidden = false;
    fill(box, h('h2', {}, 'Invitations'), failure(err, 'invitations-error'));
  }
}

// ---- create folder -----------------------------------------------------------------------

function setupCreateForm() {
  const form = $('create-folder-form');
  const toggle = $('add-folder');
  const show = (on) => {
    form.hidden = !on;
    toggle.setAttribute('aria-expanded', String(on));
    if (on) form.querySelector('input').focus();
  };
  toggle.addEventListener('click', () => show(form.hidden));
  $('create-cancel').addEventListener('click', () => show(false));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = form.elements.name.value.trim();
    const root = form.elements.root.value.trim();
    void act($('create-submit'), $('create-error'), async () => {
      const f = await api.createFolder(name, root);
      form.reset();
      show(false);
      state.selected = f.id;
      state.tab = 'files';
      await loadFolders();
    });
  });
}

// ---- the selected folder -----------------------------------------------------------------

function select(id) {
  if (state.selected === id) return;
  state.selected = id;
  state.tab = 'files';
  renderFolders();
  renderFolderView();
}

let mounted = { folder: null, tab: null };

/** The leave confirmation lives outside the header, which redraws on every status event. */
function leaveConfirm(f) {
  const slot = $('leave-slot');
  const errBox = h('div', { class: 'form-error' });
  fill(slot, h('div', { class: 'card confirm', testid: 'leave-confirm' },
    h('p', {}, `Stop syncing "${f.name}" on this computer? The files stay in ${f.root}.`),
    errBox,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn danger small', testid: 'leave-confirm-yes', onclick: (ev) => act(ev.currentTarget, errBox, async () => {
        await api.leaveFolder(f.id);
        state.selected = null;
        await loadFolders();
      }) }, 'Leave folder'),
      h('button', { type: 'button', class: 'btn small', testid: 'leave-cancel', onclick: () => fill(slot) }, 'Cancel'))));
}

function folderHeader(f) {
  const d = describeStatus(f.status);
  // The button outlives this drawing (morph): it confirms for the folder selected when clicked.
  const leave = h('button', { type: 'button', class: 'btn small danger-outline', testid: 'leave-folder', onclick: () => leaveConfirm(selectedFolder() || f) }, 'Leave…');
  const st = f.status;
  return h('header', { class: 'folder-header', testid: 'folder-header' },
    h('div', { class: 'title-row' },
      h('h2', { testid: 'folder-title' }, f.name),
      statusBadge(st, 'folder-header-status'),
      h('span', { class: 'spacer' }),
      leave),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Path'), h('dd', { testid: 'folder-root', title: f.root }, f.root)),
      h('div', {}, h('dt', {}, 'Your role'), h('dd', { testid: 'folder-role' }, f.role + (f.pathPrefixes && f.pathPrefixes.length ? ` (only ${f.pathPrefixes.join(', ')})` : ''))),
      h('div', {}, h('dt', {}, 'State'), h('dd', { testid: 'folder-state-detail' }, d.detail)),
      hasRate(st)
        ? h('div', {}, h('dt', {}, 'Rate'), h('dd', { class: 'rate' }, `${bytes(st.rateBytesPerS)}/s`, rateGraph(st.rateHistory)))
        : null),
    st.state === 'scanning' && st.scan ? h('progress', { class: 'wide', max: Math.max(1, st.scan.total), value: st.scan.done, testid: 'header-scan-progress' }) : null);
}

function tabBar(f) {
  return h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Folder views' }, TABS.map((t) => {
    let badge = null;
    if (t.id === 'conflicts' && f.status.conflicts) badge = h('span', { class: 'count bad', testid: 'conflict-count' }, String(f.status.conflicts));
    if (t.id === 'chat' && state.unread.get(f.id)) badge = h('span', { class: 'count', testid: 'chat-unread' }, String(state.unread.get(f.id)));
    return h('button', { type: 'button', role: 'tab', testid: `tab-${t.id}`, 'aria-selected': String(t.id === state.tab), class: t.id === state.tab ? 'active' : '', onclick: () => showTab(t.id) }, t.label, badge);
  }));
}

function context(f) {
  return {
    api,
    folderId: f.id,
    folder: () => (state.folders || []).find((x) => x.id === f.id) || f,
    self: () => state.self,
    friends: () => state.friends,
    nameOf,
    showTab,
    banner: showBanner,
    linkInChat: async (path) => {
      await api.sendChat(f.id, `📎 ${path}`);
      showTab('chat');
    },
  };
}

function showTab(id, opts = {}) {
  state.tab = id;
  if (id === 'chat') state.unread.delete(state.selected);
  renderFolderView({ remount: true, opts });
  renderFolders();
}

/** Draws the selected folder: header and tab bar every time (status changes), the tab's view only when folder or tab changed. */
function renderFolderView({ remount = false, opts = {} } = {}) {
  const main = $('folder-view');
  rememberPlace();
  const f = selectedFolder();
  if (!f) {
    if (mounted.view) mounted.view.dispose?.();
    mounted = { folder: null, tab: null };
    if (state.folders && state.folders.length === 0) {
      fill(main, h('div', { class: 'welcome', testid: 'welcome' },
        h('h2', {}, 'Share a folder with your friends'),
        h('p', {}, 'Kinfolder keeps a folder in sync between you and the friends you choose, over your chat network\'s secure links.'),
        h('p', {}, 'Use ', h('strong', {}, '+ Add folder'), ' to share one, or accept an invitation when a friend sends you one.')));
    }
    return;
  }
  const sameView = mounted.folder === f.id && mounted.tab === state.tab && !remount;
  const header = folderHeader(f);
  const tabs = tabBar(f);
  if (sameView) {
    morph(main.querySelector('.folder-header'), header);
    morph(main.querySelector('.tabs'), tabs);
    return;
  }
  if (mounted.view) mounted.view.dispose?.();
  const tab = TABS.find((t) => t.id === state.tab);
  const view = tab.mount(context(f), opts);
  mounted = { folder: f.id, tab: state.tab, view };
  fill(main, header, h('div', { testid: 'leave-slot' }), tabs, h('div', { class: 'tab-body', role: 'tabpanel', testid: `view-${tab.id}` }, view.el));
}

// ---- live events -------------------------------------------------------------------------

function onEvent(e) {
  switch (e.type) {
    case 'ready':
      // (Re)connected: what happened while away is lost, so fetch everything shown.
      void Promise.all([loadFolders(), loadInvitations(), loadFriends()]).then(() => mounted.view && mounted.view.onEvent?.({ type: 'ready' }));
      return;
    case 'folders': return void loadFolders();
    case 'invitations': return void loadInvitations();
    case 'friends': return void loadFriends().then(() => mounted.view && mounted.view.onEvent?.(e));
    case 'status': {
      const f = (state.folders || []).find((x) => x.id === e.folder);
      if (!f) return void loadFolders();
      f.status = e.status;
      renderFolders();
      if (f.id === state.selected) renderFolderView();
      if (f.id === state.selected) mounted.view && mounted.view.onEvent?.(e);
      return;
    }
    case 'problem':
      showBanner(e.message + (e.folder ? ` (${((state.folders || []).find((x) => x.id === e.folder) || { name: e.folder }).name})` : ''), 'warn');
      return;
    case 'chat':
      if (e.folder !== state.selected || state.tab !== 'chat') {
        if (!e.line.outgoing) state.unread.set(e.folder, (state.unread.get(e.folder) || 0) + 1);
        renderFolders();
        if (e.folder === state.selected) renderFolderView();
        return;
      }
      mounted.view && mounted.view.onEvent?.(e);
      return;
    case 'conflicts':
      // The conflict count lives in the folder's status: fetch it now rather than wait for the next status event.
      void refreshFolder(e.folder);
      if (e.folder === state.selected && mounted.view) mounted.view.onEvent?.(e);
      return;
    default:
      if (e.folder && e.folder === state.selected && mounted.view) mounted.view.onEvent?.(e);
  }
}

async function refreshFolder(id) {
  try {
    const fresh = await api.folder(id);
    const i = (state.folders || []).findIndex((x) => x.id === id);
    if (i < 0) return;
    state.folders[i] = fresh;
    renderFolders();
    if (id === state.selected) renderFolderView();
  } catch { /* gone meanwhile: the folders event redraws the list */ }
}

async function loadFriends() {
  try { state.friends = await api.friends(); } catch { /* the member views say so when they need them */ }
}

async function loadSelf() {
  try {
    state.self = await api.self();
    $('self').textContent = `${state.self.name} · ${shortFp(state.self.fingerprint)}`;
    $('self').title = state.self.fingerprint;
  } catch (err) {
    if (err.status === 401) showBanner(err.message);
  }
}

// A socket that closes may mean the sidecar restarted (retry) or that our token is stale (stop:
// it will not become valid; the host hands a new one by reloading the frame).
async function checkToken(events) {
  try {
    await api.self();
  } catch (err) {
    if (err.status !== 401) return;
    events.close();
    setConnection('refused');
    $('connection').textContent = 'Not connected';
    showBanner(err.message);
  }
}

function start() {
  if (!token) {
    fill($('folder-list'));
    fill($('folder-view'), h('div', { class: 'state error', testid: 'no-token', role: 'alert' },
      h('h2', {}, 'This panel needs its access token'),
      h('p', {}, 'Open Shared folders from your chat host\'s window: the host hands the panel its token.')));
    setConnection('offline');
    $('connection').textContent = 'Not connected';
    return;
  }
  setupCreateForm();
  void loadSelf();
  void loadFriends();
  void loadFolders();
  void loadInvitations();
  const events = connectEvents(token, onEvent, (s) => {
    setConnection(s);
    if (s === 'offline') void checkToken(events);
  });
  // Relative times ("3 min ago") age: redraw the list each minute.
  setInterval(() => renderFolders(), 60_000);
}

// The full date behind any relative time, on hover.
document.addEventListener('mouseover', (ev) => {
  const t = ev.target.closest && ev.target.closest('[data-at]');
  if (t && !t.title) t.title = exact(Number(t.dataset.at));
});

start();

