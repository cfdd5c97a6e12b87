import fc from 'fast-check';
import { FolderState, LogError, stateHashOfSorted, stateSortKey, compareUtf8, advance, conflictCopyName, conflictCopyNames, isConflictCopyOf, hashEntry, nextEntry, type EntryBody, type FeedTip, type HashedEntry, type ParentRef } from '../../../plugin/src/log';
import { FOLDER, fileMeta } from '../../vectors/fixtures';

const A = 'A'.repeat(40);
const B = 'B'.repeat(40);
const C = 'C'.repeat(40);
const put = (path: string, label = path): EntryBody => ({ op: 'put', path, meta: fileMeta(label) });
const ref = (e: HashedEntry): ParentRef => ({ hash: e.hash, lamport: e.entry.lamport });
const one = (author: string, body: EntryBody, parents: HashedEntry[] = [], tip: FeedTip | null = null, wallTimeMs = 0): HashedEntry =>
  nextEntry(tip, { folder: FOLDER, author, wallTimeMs, body, parents: parents.map(ref) });
const stateOf = (...es: HashedEntry[]): FolderState => {
  const s = new FolderState();
  es.forEach((e) => s.apply(e));
  return s;
};

describe('path state', () => {
  it('one head is the file; an entry naming it as parent replaces it', () => {
    const a1 = one(A, put('f', 'v1'));
    const a2 = one(A, put('f', 'v2'), [a1], advance(null, a1));
    const s = stateOf(a2, a1);
    expect(s.heads('f').map((t) => t.hash)).toEqual([a2.hash]);
    expect(s.resolve('f')?.losers).toEqual([]);
    expect(s.conflicts()).toEqual([]);
  });

  it('concurrent edits conflict: highest Lamport wins, the loser is listed', () => {
    const base = one(A, put('f', 'v1'));
    const tipA = advance(null, base);
    const a2 = one(A, put('f', 'a'), [base], tipA); // lamport 2
    const b1 = one(B, put('f', 'b'), [base]); // lamport 2
    const b2 = one(B, put('g'), [], advance(null, b1)); // lamport 3, another path
    const c1 = one(C, put('f', 'c'), [a2]); // lamport 3: supersedes only a2
    const s = stateOf(base, a2, b1, b2, c1);
    const r = s.resolve('f')!;
    expect(r.heads.map((t) => t.hash).sort()).toEqual([b1.hash, c1.hash].sort());
    expect(r.winner.hash).toBe(c1.hash);
    expect(r.losers.map((t) => t.hash)).toEqual([b1.hash]);
    expect(s.conflicts().map((x) => x.path)).toEqual(['f']);
  });

  it('equal Lamport clocks: the higher author fingerprint wins, then the higher hash', () => {
    const a = one(A, put('f', 'a'));
    const b = one(B, put('f', 'b'));
    expect(stateOf(a, b).resolve('f')!.winner.hash).toBe(b.hash);
    const b2 = one(B, put('f', 'b2'));
    const w = stateOf(b, b2).resolve('f')!.winner.hash;
    expect(w).toBe([b.hash, b2.hash].sort()[1]);
  });

  it('a concurrent edit beats a delete, so it is not lost; a delete alone removes the file', () => {
    const base = one(A, put('f'));
    const del = one(A, { op: 'delete', path: 'f' }, [base], advance(null, base));
    const edit = one(B, put('f', 'edit'), [base]);
    const s = stateOf(base, del, edit);
    expect(s.resolve('f')!.winner.hash).toBe(edit.hash);
    expect(s.resolve('f')!.losers).toEqual([]);
    expect(s.livePaths()).toEqual(['f']);
    expect(stateOf(base, del).livePaths()).toEqual([]);
  });

  it('a move deletes its source and puts its target', () => {
    const base = one(A, put('old'));
    const mv = one(A, { op: 'move', from: 'old', to: 'new', meta: fileMeta('old') }, [base], advance(null, base));
    const s = stateOf(mv, base);
    expect(s.livePaths()).toEqual(['new']);
    expect(s.heads('old').map((t) => [t.hash, t.live])).toEqual([[mv.hash, false]]);
  });

  it('names conflict copies from the loser\'s wall clock (UTC) and author', () => {
    const when = Date.UTC(2025, 2, 4, 5, 6, 7);
    const e = one(B, put('dir/report.final.pdf'), [], null, when).entry;
    expect(conflictCopyName('dir/report.final.pdf', e)).toBe('dir/report.final.sync-conflict-20250304-050607-BBBBBBB.pdf');
    expect(conflictCopyName('README', e)).toBe('README.sync-conflict-20250304-050607-BBBBBBB');
    expect(conflictCopyName('a/.bashrc', e)).toBe('a/.bashrc.sync-conflict-20250304-050607-BBBBBBB');
  });

  it('names two losers that would share a copy name apart by their hashes, whatever their order', () => {
    const when = Date.UTC(2025, 2, 4, 5, 6, 7);
    const l = (hash: string, author = B, wallTimeMs = when) => ({ hash, author, wallTimeMs });
    const x = l('abcdef01' + '0'.repeat(56));
    const y = l('abcdef02' + '0'.repeat(56), B, when + 900);
    const z = l('1234567' + '0'.repeat(57), C);
    const names = conflictCopyNames('d/f.txt', [x, y, z]);
    expect(names).toEqual([
      'd/f.sync-conflict-20250304-050607-BBBBBBB-abcdef01.txt',
      'd/f.sync-conflict-20250304-050607-BBBBBBB-abcdef02.txt',
      'd/f.sync-conflict-20250304-050607-CCCCCCC.txt',
    ]);
    expect(conflictCopyNames('d/f.txt', [z, y, x])).toEqual([...names].reverse());
    // Six digits when they tell the two apart; a lone loser keeps the plain name.
    expect(conflictCopyNames('f', [l('aaaaaa' + '1'.repeat(58)), l('bbbbbb' + '1'.repeat(58))])).toEqual([
      'f.sync-conflict-20250304-050607-BBBBBBB-aaaaaa',
      'f.sync-conflict-20250304-050607-BBBBBBB-bbbbbb',
    ]);
    expect(conflictCopyNames('f', [x])).toEqual([conflictCopyName('f', x)]);
    expect(conflictCopyNames('f', [])).toEqual([]);
  });

  it('tells a conflict copy of a path from other names', () => {
    const e = { author: B, wallTimeMs: Date.UTC(2025, 2, 4, 5, 6, 7) };
    for (const p of ['dir/report.final.pdf', 'README', 'a/.bashrc', 'x.tar.gz']) {
      expect(isConflictCopyOf(p, conflictCopyName(p, e))).toBe(true);
      expect(isConflictCopyOf(p, conflictCopyName(p, e, 'abcdef'))).toBe(true);
      expect(isConflictCopyOf(p, p)).toBe(false);
    }
    expect(isConflictCopyOf('x', conflictCopyName('x.txt', e))).toBe(false);
    expect(isConflictCopyOf('x.txt', conflictCopyName('x', e))).toBe(false);
    expect(isConflictCopyOf('d/x.txt', conflictCopyName('x.txt', e))).toBe(false);
    expect(isConflictCopyOf('x.txt', 'x.sync-conflict-2025-notes.txt')).toBe(false);
    expect(isConflictCopyOf('x.txt', 'x.sync-conflict-20250304-050607-BBBBBBB-ABCDEF.txt')).toBe(false);
  });

  it('the state hash covers the resolved tree: content, conflicts and structure change it, deletions of nothing do not', () => {
    const f = one(A, put('d/f'));
    const g = one(B, put('d/g'));
    const h1 = stateOf(f, g).stateHash();
    expect(stateOf(g, f).stateHash()).toBe(h1);
    expect(stateOf(f).stateHash()).not.toBe(h1);
    expect(stateOf(f, one(B, put('d/f', 'other'))).stateHash()).not.toBe(stateOf(f).stateHash());
    expect(stateOf(one(A, put('e/g')), f).stateHash()).not.toBe(stateOf(one(A, put('d/g')), f).stateHash());
    const delNothing = one(C, { op: 'delete', path: 'zzz' });
    expect(stateOf(f, g, delNothing).stateHash()).toBe(h1);
    expect(new FolderState().stateHash()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applying an entry twice changes nothing', () => {
    const f = one(A, put('f'));
    const s = stateOf(f, f);
    expect(s.size).toBe(1);
    expect(s.heads('f')).toHaveLength(1);
  });
});

/** A random history: authors edit, delete and move a few paths, and now and then sync. */
type Op = { author: number; kind: 'put' | 'delete' | 'move' | 'sync'; path: number; to: number; other: number };
const arbOps = fc.array(
  fc.record({ author: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom('put', 'put', 'delete', 'delete', 'move', 'move', 'sync'), path: fc.integer({ min: 0, max: 4 }), to: fc.integer({ min: 0, max: 4 }), other: fc.integer({ min: 0, max: 2 }) }),
  { minLength: 8, maxLength: 40 },
) as fc.Arbitrary<Op[]>;
const PATHS = ['a', 'b', 'd/a', 'd/e/f', 'x.txt'];

function simulate(ops: Op[]): HashedEntry[] {
  const authors = [A, B, C];
  const know = authors.map(() => new FolderState());
  const seen = authors.map(() => [] as HashedEntry[]);
  const tips: (FeedTip | null)[] = authors.map(() => null);
  const all: HashedEntry[] = [];
  let clock = 1_700_000_000_000;
  for (const op of ops) {
    const i = op.author;
    if (op.kind === 'sync') {
      for (const e of seen[op.other]) if (!know[i].has(e.hash)) (know[i].apply(e), seen[i].push(e));
      continue;
    }
    const p = PATHS[op.path];
    const q = PATHS[op.to];
    const heads = (path: string) => know[i].heads(path).map((t) => ({ hash: t.hash, lamport: t.lamport }));
    const live = know[i].resolve(p)?.winner.live ?? false;
    let body: EntryBody;
    let parents = heads(p);
    if (op.kind === 'put') body = put(p, `${p}@${clock}`);
    else if (!live) continue;
    else if (op.kind === 'delete') body = { op: 'delete', path: p };
    else {
      if (p === q) continue;
      body = { op: 'move', from: p, to: q, meta: fileMeta(`${p}@${clock}`) };
      parents = [...parents, ...heads(q)];
    }
    const e = nextEntry(tips[i], { folder: FOLDER, author: authors[i], wallTimeMs: clock++, body, parents });
    tips[i] = advance(tips[i], e);
    know[i].apply(e);
    seen[i].push(e);
    all.push(e);
  }
  return all;
}

function summary(s: FolderState) {
  return {
    stateHash: s.stateHash(),
    live: s.livePaths(),
    resolved: PATHS.map((p) => {
      const r = s.resolve(p);
      return r && { heads: r.heads.map((t) => t.hash), winner: r.winner.hash, losers: r.losers.map((t) => t.hash) };
    }),
    conflicts: s.conflicts().map((c) => c.path),
  };
}

describe('path state properties', () => {
  it('any delivery order of the same entries gives the same state hash, heads, conflicts and winners', () => {
    fc.assert(
      fc.property(arbOps, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), (ops, keys) => {
        const entries = simulate(ops);
        const inOrder = new FolderState();
        entries.forEach((e) => inOrder.apply(e));
        const shuffled = entries.map((e, i) => [keys[i % keys.length] * 1000 + i, e] as const).sort((x, y) => x[0] - y[0]).map(([, e]) => e);
        const incremental = new FolderState();
        for (const e of shuffled) {
          incremental.apply(e);
          incremental.stateHash(); // exercise the cache between applies
        }
        expect(summary(incremental)).toEqual(summary(inOrder));
      }),
      { numRuns: 300 },
    );
  });

  it('the streamed state hash over (path, heads) rows sorted by stateSortKey equals FolderState\'s', async () => {
    await fc.assert(
      fc.asyncProperty(arbOps, async (ops) => {
        const s = stateOf(...simulate(ops));
        const rows = [...s.pathHeads()].sort((a, b) => compareUtf8(stateSortKey(a.path), stateSortKey(b.path)));
        async function* stream() {
          yield* rows;
        }
        expect(await stateHashOfSorted(stream())).toBe(s.stateHash());
      }),
      { numRuns: 200 },
    );
  });

  it('streams paths where plain byte order and tree order differ (a.txt against a/b), and refuses unsorted rows', async () => {
    const es = [one(A, put('a')), one(A, put('a.txt')), one(A, put('a/b')), one(A, put('a-b/c')), one(B, put('a/b c'))];
    const s = stateOf(...es);
    const rows = [...s.pathHeads()].sort((x, y) => compareUtf8(stateSortKey(x.path), stateSortKey(y.path)));
    expect(rows.map((r) => r.path)).toEqual(['a', 'a/b', 'a/b c', 'a-b/c', 'a.txt']);
    expect(await stateHashOfSorted(rows)).toBe(s.stateHash());
    await expect(stateHashOfSorted([...rows].reverse())).rejects.toThrow(LogError);
    expect(await stateHashOfSorted([])).toBe(new FolderState().stateHash());
  });

  it('the history generator does produce conflicts, moves and deletes (so the property above means something)', () => {
    const samples = fc.sample(arbOps, { numRuns: 200, seed: 42 }).map(simulate);
    const withConflict = samples.filter((es) => stateOf(...es).conflicts().length > 0).length;
    const withMove = samples.filter((es) => es.some((e) => e.entry.body.op === 'move')).length;
    const withDelete = samples.filter((es) => es.some((e) => e.entry.body.op === 'delete')).length;
    expect(withConflict).toBeGreaterThan(60);
    expect(withMove).toBeGreaterThan(40);
    expect(withDelete).toBeGreaterThan(40);
  });

  it('regression (seed -119283992): a new path under a directory whose hash is cached changes the state hash', () => {
    // Shrunk counterexample: one author puts a, a, a, d/a, d/a, a, d/e/f, a, hashing after each.
    const ops: Op[] = [0, 0, 0, 2, 2, 0, 3, 0].map((path) => ({ author: 0, kind: 'put', path, to: 0, other: 0 }));
    const entries = simulate(ops);
    const incremental = new FolderState();
    for (const e of entries) {
      incremental.apply(e);
      incremental.stateHash();
    }
    expect(summary(incremental)).toEqual(summary(stateOf(...entries)));
  });

  it('named case: a move onto a path whose put arrives later resolves the same', () => {
    const base = one(A, put('a'));
    const tgt = one(B, put('b'));
    const mv = nextEntry(advance(null, base), { folder: FOLDER, author: A, wallTimeMs: 1, body: { op: 'move', from: 'a', to: 'b', meta: fileMeta('a') }, parents: [ref(base), ref(tgt)] });
    expect(summary(stateOf(mv, tgt, base))).toEqual(summary(stateOf(base, tgt, mv)));
    expect(stateOf(mv, tgt, base).livePaths()).toEqual(['b']);
  });

  it('an entry re-encoded from its parts is the same entry', () => {
    const e = one(A, put('a'));
    expect(hashEntry(e.entry).hash).toBe(e.hash);
  });
});
