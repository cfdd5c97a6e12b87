// Conflicts: each conflicting path with its versions; keep one or keep both; text files show a line diff.
import { act, empty, failure, fill, h, loading } from '../dom.js';
import { ago, bytes, looksText } from '../format.js';
import { lineDiff } from '../diff.js';

const MAX_DIFF_BYTES = 256 * 1024;

export function conflictsView(ctx) {
  const errBox = h('div', { class: 'form-error', testid: 'conflicts-error' });
  const list = h('div', { testid: 'conflict-list' }, loading('conflicts'));
  const el = h('section', { class: 'conflicts' }, errBox, list);
  const mayWrite = () => ctx.folder().role !== 'reader';

  const resolve = (button, path, choice) => act(button, errBox, async () => {
    await ctx.api.resolve(ctx.folderId, path, choice);
    await load();
  });

  async function diffBox(c) {
    const box = h('div', { class: 'diff-box', testid: 'conflict-diff-box' });
    const winner = c.versions.find((v) => v.winner) || c.versions[0];
    if (!looksText(c.path) || c.versions.some((v) => v.size > MAX_DIFF_BYTES)) return null;
    fill(box, loading('the difference'));
    try {
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const read = async (v) => decoder.decode(await ctx.api.readFile(ctx.folderId, c.path, v.hash, MAX_DIFF_BYTES));
      const base = await read(winner);
      const parts = [];
      for (const other of c.versions.filter((v) => v !== winner)) {
        const lines = lineDiff(base, await read(other));
        parts.push(h('p', { class: 'small muted' }, `${winner.authorName}'s version → ${other.authorName}'s version`),
          h('pre', { class: 'diff', testid: 'conflict-diff' }, lines.map((l) => h('span', { class: `diff-line ${l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same'}`, testid: l.op === ' ' ? null : `diff-${l.op === '+' ? 'add' : 'del'}` }, `${l.op} ${l.line}\n`))));
      }
      fill(box, parts);
    } catch (err) {
      if (err instanceof TypeError) fill(box, h('p', { class: 'muted small' }, 'Not a text file: no line diff.'));
      else fill(box, failure(err, 'diff-error'));
    }
    return box;
  }

  function card(c) {
    const writer = mayWrite();
    const diffSlot = h('div');
    void diffBox(c).then((box) => box && fill(diffSlot, box));
    return h('article', { class: 'card conflict', testid: 'conflict', dataset: { path: c.path } },
      h('h3', {}, '⚠ ', h('span', { testid: 'conflict-path' }, c.path)),
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Version by', 'When', 'Size', 'On disk as', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, c.versions.map((v) => h('tr', { testid: 'conflict-version', dataset: { hash: v.hash, winner: String(v.winner) } },
          h('td', {}, h('strong', {}, v.authorName), v.winner ? h('span', { class: 'badge ok small', title: 'Everyone shows this version at the path' }, 'shown') : null),
          h('td', { dataset: { at: v.atMs } }, ago(v.atMs)),
          h('td', { class: 'num' }, bytes(v.size)),
          h('td', { class: 'mono small' }, v.diskPath),
          h('td', { class: 'actions' }, writer
            ? h('button', { type: 'button', class: 'btn small', testid: 'conflict-keep', dataset: { hash: v.hash }, onclick: (ev) => resolve(ev.currentTarget, c.path, { keep: v.hash }) }, 'Keep this')
            : null))))),
      writer
        ? h('div', { class: 'row' },
          h('button', { type: 'button', class: 'btn', testid: 'conflict-keep-both', onclick: (ev) => resolve(ev.currentTarget, c.path, { keepBoth: true }) }, 'Keep both'),
          h('span', { class: 'hint' }, 'Keep both: each version stays, under its own name.'))
        : h('p', { class: 'muted small', testid: 'conflicts-readonly' }, 'You are a reader here: a writer settles this conflict.'),
      diffSlot);
  }

  async function load() {
    try {
      const conflicts = await ctx.api.conflicts(ctx.folderId);
      if (conflicts.length === 0) {
        return fill(list, empty('No conflicts. When two members change the same file at the same time, both versions are kept and shown here.', 'no-conflicts'));
      }
      fill(list, conflicts.map(card));
    } catch (err) {
      fill(list, failure(err, 'conflicts-load-error'));
    }
  }

  void load();
  return {
    el,
    onEvent(e) {
      if (e.type === 'conflicts' || e.type === 'ready') void load();
    },
  };
}
