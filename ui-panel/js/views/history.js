// History: a file's versions (restore one), recently deleted files (bring back), the activity feed, and member changes.
import { act, empty, failure, fill, h, loading, morphChildren } from '../dom.js';
import { ago, bytes, dirOf } from '../format.js';
import { manifestList } from './members.js';

const OP_WORDS = { put: 'changed', delete: 'deleted', move: 'moved' };

export function historyView(ctx, opts = {}) {
  let path = opts.path || '';
  const errBox = h('div', { class: 'form-error', testid: 'history-error' });
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  const pathInput = h('input', { testid: 'versions-path', value: path, placeholder: 'path/in/folder.txt', 'aria-label': 'File path' });
  const versions = h('div', { testid: 'version-list' });
  const deleted = h('div', { testid: 'deleted-list' }, loading('deleted files'));
  const activity = h('div', { testid: 'activity-list' }, loading('activity'));
  const changes = h('div', { testid: 'manifest-history' }, loading('member changes'));
  const mayWrite = () => ctx.folder().role !== 'reader';
  const readerNote = () => (mayWrite() ? null : h('p', { class: 'muted small', testid: 'history-readonly' }, 'You are a reader here: you can look back, but only writers restore.'));
  let items = [];
  let timer = null;

  const el = h('section', { class: 'history' },
    errBox,
    notice,
    h('div', { class: 'columns' },
      h('div', {},
        h('h3', {}, 'Versions of a file'),
        h('form', { class: 'row', onsubmit: (ev) => { ev.preventDefault(); path = pathInput.value.trim(); void loadVersions(); } },
          pathInput, h('button', { type: 'submit', class: 'btn small', testid: 'versions-show' }, 'Show')),
        versions,
        h('h3', {}, 'Recently deleted'),
        deleted),
      h('div', {},
        h('h3', {}, 'Activity'),
        activity,
        h('h3', {}, 'Changes to members'),
        changes)));

  const restore = (button, p, version) => act(button, errBox, async () => {
    await ctx.api.restore(ctx.folderId, p, version);
    // The lists redraw as the restore lands; the notice stays to say it worked (and everyone receives it).
    fill(notice, h('p', { class: 'badge ok', testid: 'restored' }, `Restored ${p}: every member receives it.`));
    void loadDeleted();
    if (path) void loadVersions();
  });

  async function loadVersions() {
    if (!path) return fill(versions, empty('Choose a file in Files (Versions), or type its path.', 'no-path'));
    fill(versions, loading('versions'));
    try {
      const list = await ctx.api.versions(ctx.folderId, path);
      if (list.length === 0) return fill(versions, empty(`No kept versions of ${path}.`, 'no-versions'));
      fill(versions, readerNote(), h('table', { class: 'table' },
        h('tbody', {}, list.map((v) => h('tr', { testid: 'version-row', dataset: { version: v.version } },
          h('td', { dataset: { at: v.atMs } }, v.version === 'current' ? h('strong', {}, 'Current') : ago(v.atMs)),
          h('td', {}, v.authorName || ''),
          h('td', { class: 'num' }, bytes(v.size)),
          h('td', { class: 'actions' }, v.version !== 'current' && mayWrite()
            ? h('button', { type: 'button', class: 'btn small', testid: 'version-restore', onclick: (ev) => restore(ev.currentTarget, path, v.version) }, 'Restore')
            : null))))));
    } catch (err) {
      fill(versions, failure(err, 'versions-error'));
    }
  }

  async function loadDeleted() {
    try {
      const list = await ctx.api.deleted(ctx.folderId);
      if (list.length === 0) return fill(deleted, empty('Nothing deleted lately.', 'no-deleted'));
      // In place (rows known by path and version): file events reload this list while a person clicks Restore.
      morphChildren(deleted, [h('table', { class: 'table' }, h('tbody', {}, list.map((d) => h('tr', { testid: 'deleted-row', dataset: { path: d.path, version: d.version } },
        h('td', {}, d.path),
        h('td', { class: 'muted', dataset: { at: d.deletedAtMs } }, ago(d.deletedAtMs)),
        h('td', { class: 'num' }, bytes(d.size)),
        h('td', { class: 'actions' }, mayWrite() ? h('button', { type: 'button', class: 'btn small', testid: 'deleted-restore', onclick: (ev) => restore(ev.currentTarget, d.path, d.version) }, 'Restore') : null)))))]);
    } catch (err) {
      fill(deleted, failure(err, 'deleted-error'));
    }
  }

  function renderActivity() {
    if (items.length === 0) return fill(activity, empty('No activity yet.', 'no-activity'));
    morphChildren(activity, [h('ol', { class: 'timeline' }, items.map((a) => h('li', { testid: 'activity-item', dataset: { entry: a.entry } },
      h('span', { class: 'muted small', dataset: { at: a.atMs } }, ago(a.atMs)), ' ',
      h('strong', {}, a.authorName), ` ${OP_WORDS[a.op] || a.op} `,
      a.op === 'move' && a.from ? [h('code', {}, a.from), ' → '] : null,
      h('button', { type: 'button', class: 'link', onclick: () => ctx.showTab('files', { dir: dirOf(a.path) }) }, a.path))))]);
  }

  async function loadActivity() {
    try {
      items = (await ctx.api.activity(ctx.folderId, 50)).sort((a, b) => b.atMs - a.atMs);
      renderActivity();
    } catch (err) {
      fill(activity, failure(err, 'activity-error'));
    }
  }

  async function loadChanges() {
    try { fill(changes, manifestList(await ctx.api.manifestHistory(ctx.folderId))); } catch (err) { fill(changes, failure(err)); }
  }

  void loadVersions();
  void loadDeleted();
  void loadActivity();
  void loadChanges();
  return {
    el,
    onEvent(e) {
      if (e.type === 'activity') {
        const known = new Set(items.map((a) => a.entry));
        items = [...e.items.filter((a) => !known.has(a.entry)), ...items].slice(0, 100);
        renderActivity();
      } else if (e.type === 'files') {
        // A burst of changes (a scan, a transfer) refetches once.
        const versionsToo = path && e.paths.includes(path);
        clearTimeout(timer);
        timer = setTimeout(() => { void loadDeleted(); if (versionsToo) void loadVersions(); }, 100);
      } else if (e.type === 'members') void loadChanges();
      else if (e.type === 'ready') { void loadVersions(); void loadDeleted(); void loadActivity(); void loadChanges(); }
    },
    dispose() { clearTimeout(timer); },
  };
}
