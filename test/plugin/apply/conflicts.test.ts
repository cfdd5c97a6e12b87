// Conflict copies: the winner at the path, each loser beside it under its conflict name; resolving removes only the copies the resolution names.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyState, removeCopies, removeResolvedCopies, resolveWith, staleCopies, Versions, type FileApplyContext } from '../../../plugin/src/apply';
import { conflictCopyName } from '../../../plugin/src/log';
import { ALICE, Author, BOB, FOLDER, MemoryBlockSource, metaOf, read, sandbox, stateOf, type Sandbox } from './helpers';

const CAROL = 'C'.repeat(40);
const clock = (): number => Date.UTC(2026, 10, 21, 12, 0, 0);

describe('conflict copies', () => {
  let box: Sandbox;
  beforeEach(async () => {
    box = await sandbox();
  });
  afterEach(async () => {
    await box.close();
  });

  it('writes the winner at the path and every loser beside it; resolving moves only the named copies to versions', async () => {
    const base = Buffer.from('base\n');
    const [va, vb, vc] = [Buffer.from('alice edit\n'), Buffer.from('bob edit\n'), Buffer.from('carol edit\n')];
    const alice = new Author(ALICE, Date.UTC(2026, 10, 21, 9, 0, 0));
    const bob = new Author(BOB, Date.UTC(2026, 10, 21, 9, 30, 5));
    const carol = new Author(CAROL, Date.UTC(2026, 10, 21, 9, 45, 10));
    const a0 = alice.put('docs/plan.md', metaOf(base));
    const a1 = alice.put('docs/plan.md', metaOf(va), [a0]);
    const b1 = bob.put('docs/plan.md', metaOf(vb), [a0]);
    const c1 = carol.put('docs/plan.md', metaOf(vc), [a0]);
    const blocks = new MemoryBlockSource();
    for (const v of [base, va, vb, vc]) blocks.addFile(v);
    const s = stateOf(a0, a1, b1, c1);
    const res = s.state.resolve('docs/plan.md')!;
    // Equal Lamport clocks: the highest author wins (carol); alice and bob lose.
    expect(res.winner.hash).toBe(c1.hash);
    const report = await applyState({ root: box.root, folder: FOLDER, ...s, local: box.store, blockIndex: box.store, blocks, clock });
    expect(report.refused).toEqual([]);
    expect(report.conflicts).toEqual([]);

    const aliceCopy = conflictCopyName('docs/plan.md', a1.entry);
    const bobCopy = conflictCopyName('docs/plan.md', b1.entry);
    expect(aliceCopy).toBe('docs/plan.sync-conflict-20261121-090001-AAAAAAA.md');
    expect(bobCopy).toBe('docs/plan.sync-conflict-20261121-093005-BBBBBBB.md');
    expect((await fsp.readdir(path.join(box.root, 'docs'))).sort()).toEqual([path.basename(aliceCopy), path.basename(bobCopy), 'plan.md'].sort());
    expect((await read(box.root, 'docs/plan.md')).equals(vc)).toBe(true);
    expect((await read(box.root, aliceCopy)).equals(va)).toBe(true);
    expect((await read(box.root, bobCopy)).equals(vb)).toBe(true);
    // Copies are recorded, so the scanner does not announce them as new files.
    expect(await box.store.localFile(FOLDER, bobCopy)).toMatchObject({ contentHash: metaOf(vb).contentHash });
    // Applying again writes nothing new.
    expect((await applyState({ root: box.root, folder: FOLDER, ...s, local: box.store, blocks, clock })).applied).toEqual([]);

    // Alice resolves by keeping her version over carol's and her own copy's head, not bob's.
    const resolve = alice.put('docs/plan.md', metaOf(va), [a1, c1]);
    const byHash = new Map([a0, a1, b1, c1, resolve].map((e) => [e.hash, e.entry]));
    const ctx: FileApplyContext = { root: box.root, folder: FOLDER, local: box.store, blockIndex: box.store, blocks, versions: new Versions(box.root, { clock }) };
    const done = await removeResolvedCopies(ctx, 'docs/plan.md', resolve.entry, (h) => byHash.get(h));
    expect(done).toEqual({ removed: [aliceCopy], kept: [] });
    await expect(fsp.lstat(path.join(box.root, aliceCopy))).rejects.toThrow(/ENOENT/);
    expect((await read(box.root, bobCopy)).equals(vb)).toBe(true);
    const kept = await ctx.versions.listVersions(aliceCopy);
    expect(kept).toHaveLength(1);
    expect(await box.store.localFile(FOLDER, aliceCopy)).toBeUndefined();

    // The state after the resolution: bob's copy still expected, alice's resolution at the path.
    const s2 = stateOf(a0, a1, b1, c1, resolve);
    const r2 = await applyState({ root: box.root, folder: FOLDER, ...s2, local: box.store, blockIndex: box.store, blocks, clock });
    expect(r2.applied.map((o) => `${o.kind} ${o.path}`)).toEqual(['written docs/plan.md']);
    expect((await read(box.root, 'docs/plan.md')).equals(va)).toBe(true);
    expect((await fsp.readdir(path.join(box.root, 'docs'))).sort()).toEqual([path.basename(bobCopy), 'plan.md'].sort());
  });

  it('stale copies: only those apply wrote and no current loser names; never a user\'s file, a log path or a refused change\'s copy', async () => {
    const alice = new Author(ALICE, Date.UTC(2026, 10, 21, 9, 0, 0));
    const bob = new Author(BOB, Date.UTC(2026, 10, 21, 9, 30, 5));
    const [va, vb, vb2] = [Buffer.from('alice'), Buffer.from('bob'), Buffer.from('bob again')];
    const blocks = new MemoryBlockSource().addFile(va).addFile(vb).addFile(vb2);
    const b1 = bob.put('d/f.txt', metaOf(vb));
    const a1 = alice.put('d/f.txt', metaOf(va), [b1]);
    const a2 = alice.put('d/f.txt', metaOf(va), [a1]);
    const b2 = bob.put('d/f.txt', metaOf(vb2), [b1]);
    // Bob's b2 loses to alice's a2: its copy is written.
    const s1 = stateOf(b1, a1, a2, b2);
    await applyState({ root: box.root, folder: FOLDER, ...s1, local: box.store, blockIndex: box.store, blocks, clock });
    const copy = conflictCopyName('d/f.txt', b2.entry);
    expect((await read(box.root, copy)).equals(vb2)).toBe(true);
    // Names of the same shape that apply did not write, or must not touch.
    const user = 'd/f.sync-conflict-20250101-000000-ZZZZZZZ.txt';
    const logPath = 'd/f.sync-conflict-20250101-000001-ZZZZZZZ.txt';
    const owned = 'd/f.sync-conflict-20250101-000002-ZZZZZZZ.txt';
    for (const n of [user, logPath, owned]) await fsp.writeFile(path.join(box.root, n), n);
    for (const n of [logPath, owned]) await box.store.upsertLocalFiles([{ folder: FOLDER, path: n, size: n.length, mtimeMs: 0, inode: 0, mode: 0o644, contentHash: 'ab'.repeat(32), type: 'file' }]);
    const checks = {
      list: async (dir: string) => fsp.readdir(path.join(box.root, dir)),
      isLogPath: async (rel: string) => rel === logPath,
      isOwned: (rel: string) => rel === owned,
    };
    const current = await resolveWith(s1.state.resolve('d/f.txt')!, s1.entryOf);
    expect(await staleCopies({ folder: FOLDER, local: box.store }, current, checks)).toEqual([]);

    // Bob deletes his version: no loser is left, so his copy is stale; the other names stay.
    const b3 = bob.delete('d/f.txt', [b2]);
    const s2 = stateOf(b1, a1, a2, b2, b3);
    const after = await resolveWith(s2.state.resolve('d/f.txt')!, s2.entryOf);
    expect(after.losers).toEqual([]);
    const stale = await staleCopies({ folder: FOLDER, local: box.store }, after, checks);
    expect(stale).toEqual([copy]);
    const ctx: FileApplyContext = { root: box.root, folder: FOLDER, local: box.store, blockIndex: box.store, blocks, versions: new Versions(box.root, { clock }) };
    expect(await removeCopies(ctx, stale)).toEqual({ removed: [copy], kept: [] });
    expect((await fsp.readdir(path.join(box.root, 'd'))).sort()).toEqual(['f.txt', ...[user, logPath, owned].map((n) => path.basename(n))].sort());
    expect(await ctx.versions.listVersions(copy)).toHaveLength(1);
  });

  it('a copy the user edited is kept when its conflict is resolved', async () => {
    const alice = new Author(ALICE);
    const bob = new Author(BOB);
    const [va, vb] = [Buffer.from('a'), Buffer.from('b')];
    const a1 = alice.put('f.txt', metaOf(va));
    const b1 = bob.put('f.txt', metaOf(vb));
    const blocks = new MemoryBlockSource().addFile(va).addFile(vb);
    const s = stateOf(a1, b1);
    await applyState({ root: box.root, folder: FOLDER, ...s, local: box.store, blocks, clock });
    const copy = conflictCopyName('f.txt', a1.entry);
    await fsp.writeFile(path.join(box.root, copy), 'merged by hand');
    const resolve = bob.put('f.txt', metaOf(vb), [a1, b1]);
    const byHash = new Map([a1, b1].map((e) => [e.hash, e.entry]));
    const ctx: FileApplyContext = { root: box.root, folder: FOLDER, local: box.store, blocks, versions: new Versions(box.root, { clock }) };
    expect(await removeResolvedCopies(ctx, 'f.txt', resolve.entry, (h) => byHash.get(h))).toEqual({ removed: [], kept: [copy] });
    expect(await fsp.readFile(path.join(box.root, copy), 'utf8')).toBe('merged by hand');
  });
});
