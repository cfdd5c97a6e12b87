// Members: who is in the folder with which role, online and in sync; admins invite, change roles, narrow and remove.
import { act, empty, failure, fill, h, loading } from '../dom.js';
import { ago, shortFp } from '../format.js';

const ROLES = ['reader', 'writer', 'admin'];
const SYNC_LABEL = { 'in-sync': 'in sync', behind: 'behind', ahead: 'has more', checking: 'checking', 'no-answer': 'online, Kinfolder not answering', offline: 'offline', 'not-joined': 'not joined yet', declined: 'declined' };

const parsePrefixes = (text) => text.split(',').map((p) => p.trim()).filter(Boolean);

export function manifestList(changes) {
  if (changes.length === 0) return empty('No changes yet.', 'no-manifest-changes');
  // Newest first, whatever order the service keeps them in.
  const newest = [...changes].sort((a, b) => b.version - a.version);
  return h('ol', { class: 'timeline' }, newest.map((c) => h('li', { testid: 'manifest-change', dataset: { version: c.version } },
    h('span', { class: 'muted small', dataset: { at: c.createdAtMs } }, `v${c.version} · ${ago(c.createdAtMs)}`), ' ',
    h('strong', {}, c.authorName), ' ', c.summary.join('; ') || 'signed a new version')));
}

export function membersView(ctx) {
  const errBox = h('div', { class: 'form-error', testid: 'members-error' });
  const list = h('div', { testid: 'member-list' }, loading('members'));
  const inviteBox = h('div');
  const changes = h('div', { testid: 'manifest-history' });
  const el = h('section', { class: 'members' }, errBox, list, inviteBox, h('h3', {}, 'Changes to members'), changes);
  let members = [];
  const isAdmin = () => ctx.folder().role === 'admin';

  const edit = (button, body) => act(button, errBox, async () => {
    members = await ctx.api.editMember(ctx.folderId, body);
    render();
    void loadChanges();
  });

  function syncState(m) {
    if (m.self) return '';
    const peer = (ctx.folder().status.peers || []).find((p) => p.fingerprint === m.fingerprint);
    if (!peer) return '';
    // A checking peer's count is from the vector it said before its link came up: a lower bound.
    const lag = peer.state === 'behind' && peer.theyLackEntries ? ` (${peer.theyLackEntries} changes)`
      : peer.state === 'ahead' && peer.weLackEntries ? ` (${peer.weLackEntries} changes)`
        : peer.state === 'checking' && peer.weLackEntries ? ` (has at least ${peer.weLackEntries} more changes)` : '';
    return SYNC_LABEL[peer.state] + lag;
  }

  function memberRow(m) {
    const admin = isAdmin();
    const prefixes = (m.pathPrefixes || []).join(', ');
    const roleCell = admin && m.state !== 'revoked'
      ? h('select', { testid: 'member-role', 'aria-label': `Role of ${m.name}`, onchange: (ev) => edit(ev.currentTarget, { kind: 'role', fingerprint: m.fingerprint, role: ev.currentTarget.value }) },
        ROLES.map((r) => h('option', { value: r, selected: r === m.role }, r)))
      : h('span', { testid: 'member-role-text' }, m.role);
    const prefixCell = h('td', { testid: 'member-prefixes' }, prefixes || (m.role === 'writer' ? h('span', { class: 'muted' }, 'whole folder') : ''));
    const actions = h('td', { class: 'actions' });
    if (admin && m.state !== 'revoked') {
      const narrow = h('button', { type: 'button', class: 'btn small link', testid: 'member-narrow', onclick: () => {
        const input = h('input', { testid: 'member-narrow-input', value: prefixes, placeholder: 'docs/, photos/2024/', 'aria-label': `Paths ${m.name} may write` });
        fill(prefixCell, h('form', { class: 'inline', onsubmit: (ev) => {
          ev.preventDefault();
          void edit(ev.submitter, { kind: 'narrow', fingerprint: m.fingerprint, pathPrefixes: parsePrefixes(input.value) });
        } }, input, h('button', { type: 'submit', class: 'btn small', testid: 'member-narrow-save' }, 'Save')));
        input.focus();
      } }, 'Narrow');
      const remove = h('button', { type: 'button', class: 'btn small link danger-text', testid: 'member-remove', onclick: (ev) => {
        const b = ev.currentTarget;
        if (b.dataset.armed !== '1') {
          b.dataset.armed = '1';
          b.textContent = `Remove ${m.name}?`;
          return;
        }
        void edit(b, { kind: 'remove', fingerprint: m.fingerprint });
      } }, m.self ? 'Leave' : 'Remove');
      // Only writers are narrowed to paths (the service refuses it for others).
      actions.append(m.self || m.role !== 'writer' ? '' : narrow, m.self ? '' : remove);
    }
    return h('tr', { testid: 'member-row', dataset: { fingerprint: m.fingerprint, role: m.role, state: m.state } },
      h('td', {}, h('span', { class: `dot ${m.online ? 'on' : 'off'}`, testid: 'member-online', dataset: { online: String(m.online) }, title: m.online ? 'online' : 'offline' }),
        h('strong', { testid: 'member-name' }, m.name), m.self ? h('span', { class: 'muted' }, ' (you)') : '',
        h('div', { class: 'muted small mono', title: m.fingerprint }, shortFp(m.fingerprint))),
      h('td', {}, roleCell),
      prefixCell,
      h('td', { testid: 'member-state' }, m.state === 'active' ? syncState(m) || 'active' : m.state),
      actions);
  }

  // What the admin chose in the invite form, kept across redraws (members and friends events redraw it).
  const chosen = { friend: '', role: 'writer', prefixes: '' };

  function inviteForm() {
    if (!isAdmin()) {
      return h('p', { class: 'muted', testid: 'members-readonly' }, `Only admins change who is in this folder. You are a ${ctx.folder().role}.`);
    }
    const taken = new Set(members.filter((m) => m.state !== 'declined').map((m) => m.fingerprint));
    const candidates = ctx.friends().filter((f) => !taken.has(f.fingerprint));
    if (ctx.friends().length === 0) return empty('You have no friends on this node yet: add friends in your chat host to invite them.', 'no-friends');
    if (candidates.length === 0) return empty('All your friends are members of this folder.', 'no-candidates');
    const friend = h('select', { name: 'friend', testid: 'invite-friend', 'aria-label': 'Friend', onchange: () => { chosen.friend = friend.value; } },
      candidates.map((f) => h('option', { value: f.fingerprint, selected: f.fingerprint === chosen.friend }, `${f.name}${f.online ? '' : ' (offline)'}`)));
    const role = h('select', { name: 'role', testid: 'invite-role', 'aria-label': 'Role', onchange: () => { chosen.role = role.value; } }, ROLES.map((r) => h('option', { value: r, selected: r === chosen.role }, r)));
    const prefixes = h('input', { name: 'prefixes', testid: 'invite-prefixes', placeholder: 'optional: docs/, photos/', 'aria-label': 'Only these paths (writers)', value: chosen.prefixes, oninput: () => { chosen.prefixes = prefixes.value; } });
    const submit = h('button', { type: 'submit', class: 'btn primary small', testid: 'invite-submit' }, 'Invite');
    return h('form', { class: 'card form invite', testid: 'invite-form', onsubmit: (ev) => {
      ev.preventDefault();
      const p = parsePrefixes(prefixes.value);
      Object.assign(chosen, { friend: '', role: 'writer', prefixes: '' });
      void edit(submit, { kind: 'invite', fingerprint: friend.value, role: role.value, ...(p.length ? { pathPrefixes: p } : {}) });
    } },
    h('h3', {}, 'Invite a friend'),
    h('div', { class: 'row wrap' }, friend, role, prefixes, submit),
    h('p', { class: 'hint' }, 'Readers receive the files; writers also change them (only under the listed paths, if any); admins also manage members.'));
  }

  function render() {
    fill(list, members.length === 0 ? empty('No members.', 'no-members') : h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['Member', 'Role', 'May write', 'State', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, members.map(memberRow))));
    fill(inviteBox, inviteForm());
  }

  async function load() {
    try {
      members = await ctx.api.members(ctx.folderId);
      render();
    } catch (err) {
      fill(list, failure(err, 'members-load-error'));
    }
  }

  async function loadChanges() {
    try {
      fill(changes, manifestList(await ctx.api.manifestHistory(ctx.folderId)));
    } catch (err) {
      fill(changes, failure(err));
    }
  }

  void load();
  void loadChanges();
  return {
    el,
    onEvent(e) {
      if (e.type === 'members' || e.type === 'ready') { void load(); void loadChanges(); }
      else if (e.type === 'friends') fill(inviteBox, inviteForm());
      // Status arrives often: touch only the state cells, so a half-typed narrow or open select survives.
      else if (e.type === 'status') {
        for (const tr of list.querySelectorAll('[data-testid="member-row"]')) {
          const m = members.find((x) => x.fingerprint === tr.dataset.fingerprint);
          if (m && m.state === 'active') tr.querySelector('[data-testid="member-state"]').textContent = syncState(m) || 'active';
        }
      }
    },
  };
}
