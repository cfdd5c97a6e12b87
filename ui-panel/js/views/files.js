// Files: a browsable tree of the folder with each file's state, size, last author and time.
import { empty, failure, fill, h, loading, morphChildren } from '../dom.js';
import { ago, bytes } from '../format.js';

const STATE_LABEL = { synced: 'Synced', pending: 'Syncing', conflict: 'Conflict', 'in-use': 'In use', ignored: 'Ignored', 'local-only': 'Local only' };
const STATE_TONE = { synced: 'ok', pending: 'busy', conflict: 'bad', 'in-use': 'warn', ignored: 'off', 'local-only': 'off' };

export function filesView(ctx, opts = {}) {
  let dir = opts.dir || '';
  let timer = null;
  const crumbs = h('nav', { class: 'crumbs', testid: 'breadcrumbs', 'aria-label': 'Folder path' });
  const errBox = h('div', { class: 'form-error' });
  const list = h('div', { class: 'file-list', testid: 'file-list' }, loading('files'));
  const el = h('section', { class: 'files' }, crumbs, errBox, list);

  function go(d) {
    dir = d;
    renderCrumbs();
    fill(list, loading('files'));
    void load();
  }

  function renderCrumbs() {
    const parts = dir ? dir.split('/') : [];
    fill(crumbs,
      h('button', { type: 'button', class: 'crumb', testid: 'crumb', onclick: () => go('') }, ctx.folder().name),
      parts.map((p, i) => [h('span', { class: 'sep' }, '/'), h('button', { type: 'button', class: 'crumb', testid: 'crumb', onclick: () => go(parts.slice(0, i + 1).join('/')) }, p)]));
  }

  function row(f) {
    const isDir = f.type === 'dir';
    const name = isDir
      ? h('button', { type: 'button', class: 'link name', testid: 'open-dir', onclick: () => go(f.path) }, '📁 ', f.name)
      : h('span', { class: 'name' }, f.type === 'symlink' ? '🔗 ' : '📄 ', f.name);
    const stateCell = h('td', {}, h('span', { class: `badge ${STATE_TONE[f.state] || 'off'}`, testid: 'file-state', dataset: { state: f.state } }, STATE_LABEL[f.state] || f.state));
    if (f.state === 'pending' && f.size > 0) {
      const done = Math.min(f.progressBytes || 0, f.size);
      stateCell.append(h('progress', { max: f.size, value: done, testid: 'file-progress', title: `${bytes(done)} of ${bytes(f.size)}` }), h('span', { class: 'muted small' }, ` ${Math.floor((done / f.size) * 100)}%`));
    }
    if (f.openBy && f.openBy.length) stateCell.append(h('span', { class: 'muted small', testid: 'file-open-by' }, ` open by ${f.openBy.map(ctx.nameOf).join(', ')}`));
    return h('tr', { testid: 'file-row', dataset: { path: f.path, type: f.type } },
      h('td', {}, name),
      stateCell,
      h('td', { class: 'num', testid: 'file-size' }, isDir ? '' : bytes(f.size)),
      h('td', { testid: 'file-author' }, f.authorName || (f.author ? ctx.nameOf(f.author) : '')),
      h('td', { class: 'muted', dataset: { at: f.changedAtMs || '' } }, ago(f.changedAtMs)),
      h('td', { class: 'actions' }, isDir ? null : [
        h('button', { type: 'button', class: 'btn small link', testid: 'file-versions', onclick: () => ctx.showTab('history', { path: f.path }) }, 'Versions'),
        h('button', { type: 'button', class: 'btn small link', testid: 'file-link-chat', title: 'Send a link to this file in the folder\'s chat', onclick: (ev) => {
          ev.currentTarget.disabled = true;
          ctx.linkInChat(f.path).catch((err) => fill(errBox, failure(err, 'action-error')));
        } }, 'Link in chat'),
      ]));
  }

  // The list is reloaded on every burst of file events and redrawn in place (morph, rows known
  // by their path), so a row clicked meanwhile still takes the click; the crumbs only change with `dir`.
  async function load() {
    try {
      const files = await ctx.api.files(ctx.folderId, dir);
      files.sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name));
      if (files.length === 0) {
        return fill(list, empty(dir ? 'This directory is empty.' : `No files yet. Files you put in ${ctx.folder().root} appear here, and so do your friends' files.`, 'no-files'));
      }
      morphChildren(list, [h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Name', 'State', 'Size', 'Changed by', 'When', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, files.map(row)))]);
    } catch (err) {
      fill(list, failure(err, 'files-error'));
    }
  }

  renderCrumbs();
  void load();
  return {
    el,
    onEvent(e) {
      // A burst of changes (a scan, a transfer) refetches once per 100 ms: a throttle, not a
      // debounce, so a steady stream of events cannot starve the list of refreshes.
      if (e.type !== 'files' && e.type !== 'ready' && e.type !== 'conflicts') return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void load();
      }, 100);
    },
    dispose() { clearTimeout(timer); timer = undefined; },
  };
}
