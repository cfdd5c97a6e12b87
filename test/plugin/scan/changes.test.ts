/** Change detection and log changes, as pure functions over records and scanned files. */
import { detectChanges, EMPTY_SHA256, fileMeta, POSIX_TRAITS, toNewChanges, type KnownFile, type LocalChange, type Observation, type ScannedFile } from '../../../plugin/src/scan';
import { sha256Hex } from './helpers';

const CTX = { folder: 'f'.repeat(32), author: 'A'.repeat(40), wallTimeMs: 1_700_000_000_000 };

function file(path: string, content: string, over: Partial<ScannedFile> = {}): ScannedFile {
  const size = Buffer.byteLength(content);
  const hash = sha256Hex(content);
  return { path, type: 'file', size, mode: 0o644, mtimeMs: 1000, inode: 1, contentHash: hash, blocks: size > 0 ? [{ hash, size }] : [], ...over };
}

function dir(path: string, over: Partial<ScannedFile> = {}): ScannedFile {
  return { path, type: 'dir', size: 0, mode: 0o755, mtimeMs: 1000, inode: 50, contentHash: EMPTY_SHA256, blocks: [], ...over };
}

function known(f: ScannedFile, over: Partial<KnownFile> = {}): KnownFile {
  return { path: f.path, type: f.type, size: f.size, mtimeMs: f.mtimeMs, inode: f.inode, mode: f.mode, contentHash: f.contentHash, ...over };
}

const mapOf = <T extends { path: string }>(xs: T[]): Map<string, T> => new Map(xs.map((x) => [x.path, x]));
const obs = (entries: Array<[string, Observation]>): Map<string, Observation> => new Map(entries);

function summary(changes: readonly LocalChange[]): string[] {
  return changes.map((c) => (c.kind === 'move' ? `move ${c.from} -> ${c.to}` : `${c.kind} ${c.path}`));
}

describe('detectChanges', () => {
  test('unchanged stat: nothing, even for a changed hash the caller passed', () => {
    const f = file('a', 'x');
    const set = detectChanges(mapOf([known(f)]), obs([['a', { ...f, contentHash: sha256Hex('other') }]]));
    expect(set.changes).toEqual([]);
    expect(set.refreshed).toEqual([]);
  });

  test('a new inode with the same content, mode and mtime only refreshes the row', () => {
    const f = file('a', 'x');
    const set = detectChanges(mapOf([known(f)]), obs([['a', { ...f, inode: 99 }]]));
    expect(set.changes).toEqual([]);
    expect(set.refreshed.map((r) => r.inode)).toEqual([99]);
  });

  test('content, mode and mtime each make a put; a directory mtime does not', () => {
    const f = file('a', 'x');
    for (const now of [file('a', 'longer', { mtimeMs: 1500 }), { ...f, mode: 0o755 }, { ...f, mtimeMs: 2000 }]) {
      expect(summary(detectChanges(mapOf([known(f)]), obs([['a', now]])).changes)).toEqual(['put a']);
    }
    const d = dir('d');
    const set = detectChanges(mapOf([known(d)]), obs([['d', { ...d, mtimeMs: 5000 }]]));
    expect(set.changes).toEqual([]);
    expect(summary(detectChanges(mapOf([known(d)]), obs([['d', { ...d, mode: 0o700 }]])).changes)).toEqual(['put d']);
  });

  test('a recorded file never hashed (null hash) is a put even when its stat matches', () => {
    const f = file('a', 'x');
    expect(summary(detectChanges(mapOf([known(f, { contentHash: null })]), obs([['a', f]])).changes)).toEqual(['put a']);
  });

  test('gone paths are deletes; paths not observed are not', () => {
    const a = file('a', 'x');
    const b = file('b', 'y', { inode: 2 });
    expect(summary(detectChanges(mapOf([known(a), known(b)]), obs([['a', 'gone']])).changes)).toEqual(['delete a']);
    expect(detectChanges(mapOf([]), obs([['nothing', 'gone']])).changes).toEqual([]);
  });

  test('same content gone and appeared is a move, across folders; the appeared file is its meta', () => {
    const before = file('x/one.txt', 'payload', { inode: 7 });
    const after = file('y/z/one.txt', 'payload', { inode: 7, mtimeMs: 1000 });
    const set = detectChanges(mapOf([known(before)]), obs([['x/one.txt', 'gone'], ['y/z/one.txt', after]]));
    expect(set.changes).toEqual([{ kind: 'move', from: 'x/one.txt', to: 'y/z/one.txt', file: after, before: known(before) }]);
  });

  test('a copy then delete (new inode) still pairs by content', () => {
    const before = file('a', 'payload', { inode: 7 });
    const after = file('b', 'payload', { inode: 8 });
    expect(summary(detectChanges(mapOf([known(before)]), obs([['a', 'gone'], ['b', after]])).changes)).toEqual(['move a -> b']);
  });

  test('pairing prefers the same inode, then the same name, over path order', () => {
    const g1 = file('a/doc.txt', 'same', { inode: 1 });
    const g2 = file('b/doc.txt', 'same', { inode: 2 });
    const n1 = file('c/doc.txt', 'same', { inode: 2 });
    const n2 = file('d/other.txt', 'same', { inode: 1 });
    const set = detectChanges(mapOf([known(g1), known(g2)]), obs([['a/doc.txt', 'gone'], ['b/doc.txt', 'gone'], ['c/doc.txt', n1], ['d/other.txt', n2]]));
    expect(summary(set.changes)).toEqual(['move b/doc.txt -> c/doc.txt', 'move a/doc.txt -> d/other.txt']);
  });

  test('empty files pair only by inode', () => {
    const gone = file('e1', '', { inode: 1 });
    const other = file('e2', '', { inode: 2 });
    expect(summary(detectChanges(mapOf([known(gone)]), obs([['e1', 'gone'], ['e2', other]])).changes)).toEqual(['put e2', 'delete e1']);
    const same = file('e3', '', { inode: 1 });
    expect(summary(detectChanges(mapOf([known(gone)]), obs([['e1', 'gone'], ['e3', same]])).changes)).toEqual(['move e1 -> e3']);
  });

  test('directories pair by inode; puts come parents first, deletes deepest first', () => {
    const d = dir('src', { inode: 40 });
    const f = file('src/a', 'A', { inode: 41 });
    const keep = dir('old', { inode: 60 });
    const keepChild = file('old/x', 'X', { inode: 61 });
    const set = detectChanges(
      mapOf([known(d), known(f), known(keep), known(keepChild)]),
      obs([
        ['src', 'gone'],
        ['src/a', 'gone'],
        ['old', 'gone'],
        ['old/x', 'gone'],
        ['dst', dir('dst', { inode: 40 })],
        ['dst/a', file('dst/a', 'A', { inode: 41 })],
        ['fresh', dir('fresh', { inode: 70 })],
      ]),
    );
    expect(summary(set.changes)).toEqual(['move src -> dst', 'move src/a -> dst/a', 'put fresh', 'delete old/x', 'delete old']);
  });

  test('rename over an existing file pairs only by inode', () => {
    const a = file('a', 'new content', { inode: 1 });
    const b = file('b', 'old content', { inode: 2 });
    const onto = file('b', 'new content', { inode: 1 });
    const set = detectChanges(mapOf([known(a), known(b)]), obs([['a', 'gone'], ['b', onto]]));
    expect(set.changes).toEqual([{ kind: 'move', from: 'a', to: 'b', file: onto, before: known(a), replaced: known(b) }]);
    const copied = file('b', 'new content', { inode: 3 });
    expect(summary(detectChanges(mapOf([known(a), known(b)]), obs([['a', 'gone'], ['b', copied]])).changes)).toEqual(['put b', 'delete a']);
  });

  test('a case-only rename on a case-insensitive filesystem is a move (same file, new spelling)', () => {
    const traits = { ...POSIX_TRAITS, caseInsensitive: true };
    const before = file('Docs/readme.md', 'r', { inode: 5 });
    const other = file('zz/readme.md', 'r', { inode: 6 });
    const after = file('Docs/README.md', 'r', { inode: 9 });
    const set = detectChanges(mapOf([known(before), known(other)]), obs([['Docs/readme.md', 'gone'], ['zz/readme.md', 'gone'], ['Docs/README.md', after]]), { traits });
    expect(summary(set.changes)).toEqual(['move Docs/readme.md -> Docs/README.md', 'delete zz/readme.md']);
  });

  test('paths the log cannot hold are reported, not announced', () => {
    const set = detectChanges(mapOf([]), obs([['bad\\name', file('bad\\name', 'x')], ['ok', file('ok', 'y')]]));
    expect(summary(set.changes)).toEqual(['put ok']);
    expect(set.unannounceable).toEqual([{ path: 'bad\\name', problem: 'BACKSLASH' }]);
  });
});

describe('toNewChanges', () => {
  const H = (n: number): { hash: string; lamport: number } => ({ hash: String(n).repeat(64).slice(0, 64), lamport: n });
  const heads = new Map([
    ['a', [H(1)]],
    ['b', [H(2), H(3)]],
    ['gone', [H(4)]],
  ]);
  const headsOf = (p: string): Array<{ hash: string; lamport: number }> => heads.get(p) ?? [];

  test('puts, deletes and moves carry the heads of every path they touch', () => {
    const fa = file('a', 'A');
    const out = toNewChanges(
      [
        { kind: 'put', path: 'a', file: fa },
        { kind: 'move', from: 'b', to: 'a2', file: file('a2', 'B'), before: known(file('b', 'B')) },
        { kind: 'delete', path: 'gone', before: known(file('gone', 'G')) },
      ],
      CTX,
      headsOf,
    );
    expect(out).toEqual([
      { ...CTX, body: { op: 'put', path: 'a', meta: fileMeta(fa) }, parents: [H(1)] },
      { ...CTX, body: { op: 'move', from: 'b', to: 'a2', meta: fileMeta(file('a2', 'B')) }, parents: [H(2), H(3)] },
      { ...CTX, body: { op: 'delete', path: 'gone' }, parents: [H(4)] },
    ]);
  });

  test('a move onto a path with heads supersedes both, each parent once', () => {
    const out = toNewChanges([{ kind: 'move', from: 'a', to: 'b', file: file('b', 'A'), before: known(file('a', 'A')) }], CTX, (p) =>
      p === 'a' ? [H(1), H(2)] : [H(2), H(3)],
    );
    expect(out[0].parents).toEqual([H(1), H(2), H(3)]);
  });

  test('a delete of a path the log never held is dropped; a move from one is a put', () => {
    const out = toNewChanges(
      [
        { kind: 'delete', path: 'never', before: known(file('never', 'n')) },
        { kind: 'move', from: 'never2', to: 'b', file: file('b', 'x'), before: known(file('never2', 'x')) },
      ],
      CTX,
      headsOf,
    );
    expect(out).toEqual([{ ...CTX, body: { op: 'put', path: 'b', meta: fileMeta(file('b', 'x')) }, parents: [H(2), H(3)] }]);
  });

  test('fileMeta follows the log conventions for dirs and symlinks', () => {
    expect(fileMeta(dir('d', { mtimeMs: 12.7 }))).toEqual({ type: 'dir', size: 0, mode: 0o755, mtimeMs: 12, contentHash: EMPTY_SHA256, blocks: [] });
    const link: ScannedFile = { path: 'l', type: 'symlink', size: 0, mode: 0o777, mtimeMs: -5, inode: 3, contentHash: sha256Hex('t'), blocks: [], linkTarget: 't' };
    expect(fileMeta(link)).toEqual({ type: 'symlink', size: 0, mode: 0o777, mtimeMs: 0, contentHash: sha256Hex('t'), blocks: [], linkTarget: 't' });
  });
});
