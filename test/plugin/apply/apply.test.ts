// Applying one folder's state to real files: block reuse, refusals that leave the target untouched, local edits as conflicts, moves, deletes, echo suppression.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyState, ChainedBlockSource, entryLookup, LocalBlockSource, matchesRecord, type BlockSource } from '../../../plugin/src/apply';
import { pathsOf, type HashedEntry } from '../../../plugin/src/log';
import { ALICE, Author, BOB, FOLDER, MemoryBlockSource, metaOf, read, sandbox, scanInto, seededBytes, sha256Hex, stateOf, tempFiles, writeAndScan, type Sandbox } from './helpers';

const CLOCK = (): number => Date.UTC(2026, 10, 21, 12, 0, 0);

describe('applyState', () => {
  let box: Sandbox;
  beforeEach(async () => {
    box = await sandbox();
  });
  afterEach(async () => {
    await box.close();
  });

  const local = (): LocalBlockSource => new LocalBlockSource(box.store, (f) => (f === FOLDER ? box.root : undefined));
  const run = (s: ReturnType<typeof stateOf>, blocks: BlockSource = local(), extra: { signal?: AbortSignal } = {}) =>
    applyState({ root: box.root, folder: FOLDER, state: s.state, entryOf: s.entryOf, local: box.store, blockIndex: box.store, blocks, clock: CLOCK, ...extra });

  it('builds a new file from the blocks of another local file, and records exactly what it wrote', async () => {
    const data = seededBytes('shared', 3 * 1024 * 1024);
    const metaA = await writeAndScan(box.store, FOLDER, box.root, 'a.bin', data);
    expect(metaA.blocks.length).toBeGreaterThan(3);
    const alice = new Author(ALICE);
    const a = alice.put('a.bin', metaA);
    const b = alice.put('copies/b.bin', { ...metaA, mode: 0o755, mtimeMs: 1_600_000_000_123 });
    const report = await run(stateOf(a, b));
    expect(report.refused).toEqual([]);
    expect(report.conflicts).toEqual([]);
    expect(report.applied.map((o) => o.path)).toEqual(['copies/b.bin']);
    expect((await read(box.root, 'copies/b.bin')).equals(data)).toBe(true);
    const st = await fsp.lstat(path.join(box.root, 'copies', 'b.bin'));
    expect(st.mode & 0o777).toBe(0o755);
    expect(Math.floor(st.mtimeMs)).toBe(1_600_000_000_123);
    // The scanner's test (record matches lstat) says "unchanged": apply's write is not announced back.
    expect(matchesRecord(st, await box.store.localFile(FOLDER, 'copies/b.bin'))).toBe(true);
    expect(await box.store.localFile(FOLDER, 'copies')).toMatchObject({ type: 'dir' });
    // The new file is now a place to read those blocks from too.
    const locs = await box.store.findBlock(metaA.blocks[1].hash);
    expect(locs.map((l) => l.path).sort()).toEqual(['a.bin', 'copies/b.bin']);
    expect(await tempFiles(box.root)).toEqual([]);
    // Applying again changes nothing.
    expect((await run(stateOf(a, b))).applied).toEqual([]);
  });

  it('reuses blocks of the file it replaces and asks the next source only for the missing ones', async () => {
    const oldBytes = seededBytes('doc', 2 * 1024 * 1024);
    const newBytes = Buffer.concat([oldBytes, seededBytes('appended', 700 * 1024)]);
    const oldMeta = await writeAndScan(box.store, FOLDER, box.root, 'doc.bin', oldBytes);
    const newMeta = metaOf(newBytes);
    const alice = new Author(ALICE);
    const a1 = alice.put('doc.bin', oldMeta);
    const b1 = new Author(BOB).put('doc.bin', newMeta, [a1]);
    const network = new MemoryBlockSource().addFile(newBytes);
    const report = await run(stateOf(a1, b1), new ChainedBlockSource(local(), network));
    expect(report.applied.map((o) => o.kind)).toEqual(['written']);
    expect((await read(box.root, 'doc.bin')).equals(newBytes)).toBe(true);
    const shared = newMeta.blocks.filter((b) => oldMeta.blocks.some((o) => o.hash === b.hash)).length;
    expect(shared).toBeGreaterThan(0);
    expect(network.reads).toBe(newMeta.blocks.length - shared);
  });

  it("asks for each file's blocks naming its entry's author (the peer known to have them), read ahead and read alike", async () => {
    const small = seededBytes('small', 3000);
    const big = seededBytes('big', 2 * 1024 * 1024);
    const network = new MemoryBlockSource().addFile(small).addFile(big);
    const asked = new Map<string, Set<string | undefined>>();
    const note = (hash: string, from: string | undefined): void => void (asked.get(hash) ?? asked.set(hash, new Set()).get(hash)!).add(from);
    const named: BlockSource = {
      read: (hash, size, _signal, from) => {
        note(hash, from);
        return network.read(hash, size);
      },
      prefetch: (blocks, _signal, from) => blocks.forEach((b) => note(b.hash, from)),
    };
    const bigMeta = metaOf(big);
    expect(bigMeta.blocks.length).toBeGreaterThan(2);
    const report = await run(stateOf(new Author(ALICE).put('s.txt', metaOf(small)), new Author(BOB).put('b.bin', bigMeta)), new ChainedBlockSource(local(), named));
    expect(report.applied.map((o) => o.path).sort()).toEqual(['b.bin', 's.txt']);
    expect(asked.get(metaOf(small).blocks[0].hash)).toEqual(new Set([ALICE]));
    for (const b of bigMeta.blocks) expect(asked.get(b.hash)).toEqual(new Set([BOB]));
  });

  it('a missing block: refused with APPLY_BLOCK_UNAVAILABLE, the target untouched, no temp file left', async () => {
    const oldBytes = seededBytes('old', 500_000);
    const oldMeta = await writeAndScan(box.store, FOLDER, box.root, 'f.bin', oldBytes);
    const before = await fsp.lstat(path.join(box.root, 'f.bin'));
    const a1 = new Author(ALICE).put('f.bin', oldMeta);
    const b1 = new Author(BOB).put('f.bin', metaOf(seededBytes('nowhere', 900_000)), [a1]);
    const report = await run(stateOf(a1, b1));
    expect(report.applied).toEqual([]);
    expect(report.refused).toEqual([expect.objectContaining({ path: 'f.bin', code: 'APPLY_BLOCK_UNAVAILABLE' })]);
    expect((await read(box.root, 'f.bin')).equals(oldBytes)).toBe(true);
    expect((await fsp.lstat(path.join(box.root, 'f.bin'))).ino).toBe(before.ino);
    expect(await tempFiles(box.root)).toEqual([]);
    await expect(fsp.readdir(path.join(box.root, '.kinfolder', 'versions'))).rejects.toThrow(/ENOENT/);
  });

  it('a corrupt block from a source is refused, and a stale local location is skipped', async () => {
    const newBytes = seededBytes('new', 1_500_000);
    const newMeta = metaOf(newBytes);
    const bad = newMeta.blocks[1].hash;
    const a1 = new Author(ALICE).put('g.bin', newMeta);
    // A source that lies about one block: the chained source drops its answer, so the block is unavailable.
    const viaChain = await run(stateOf(a1), new ChainedBlockSource(new MemoryBlockSource(new Set([bad])).addFile(newBytes)));
    expect(viaChain.refused).toEqual([expect.objectContaining({ path: 'g.bin', code: 'APPLY_BLOCK_UNAVAILABLE' })]);
    // Used directly (no chain to filter it), the bad block is caught by apply's own check.
    const direct = await run(stateOf(a1), new MemoryBlockSource(new Set([bad])).addFile(newBytes));
    expect(direct.refused).toEqual([expect.objectContaining({ path: 'g.bin', code: 'APPLY_HASH_MISMATCH' })]);
    await expect(fsp.lstat(path.join(box.root, 'g.bin'))).rejects.toThrow(/ENOENT/);

    // The index says h.bin holds these blocks, but h.bin changed since: the location is stale.
    await writeAndScan(box.store, FOLDER, box.root, 'h.bin', newBytes);
    await fsp.writeFile(path.join(box.root, 'h.bin'), seededBytes('other', newBytes.length));
    expect(await local().read(newMeta.blocks[0].hash, newMeta.blocks[0].size)).toBeUndefined();
    expect(await tempFiles(box.root)).toEqual([]);
  });

  it('a local edit after the last scan becomes a conflict: its bytes stay, nothing is overwritten', async () => {
    const oldMeta = await writeAndScan(box.store, FOLDER, box.root, 'notes.txt', Buffer.from('v1\n'));
    const a1 = new Author(ALICE).put('notes.txt', oldMeta);
    const newBytes = Buffer.from('remote v2\n');
    const b1 = new Author(BOB).put('notes.txt', metaOf(newBytes), [a1]);
    // The user edits after the scan recorded v1, before the remote version lands.
    await fsp.writeFile(path.join(box.root, 'notes.txt'), 'local edit, not yet scanned\n');
    const report = await run(stateOf(a1, b1), new MemoryBlockSource().addFile(newBytes));
    expect(report.applied).toEqual([]);
    expect(report.conflicts).toEqual([expect.objectContaining({ kind: 'local-changed', path: 'notes.txt' })]);
    expect((await read(box.root, 'notes.txt')).toString()).toBe('local edit, not yet scanned\n');
    expect(await tempFiles(box.root)).toEqual([]);

    // A file the scanner never saw stands where a remote file goes: also a conflict.
    await fsp.writeFile(path.join(box.root, 'fresh.txt'), 'mine');
    const c1 = new Author(BOB).put('fresh.txt', metaOf(newBytes));
    const r2 = await run(stateOf(c1), new MemoryBlockSource().addFile(newBytes));
    expect(r2.conflicts.map((c) => c.path)).toEqual(['fresh.txt']);
    expect((await read(box.root, 'fresh.txt')).toString()).toBe('mine');

    // A chmod is a local change too (the scanner would announce it): not overwritten either.
    const m3 = await writeAndScan(box.store, FOLDER, box.root, 'run.sh', Buffer.from('echo hi\n'));
    const d1 = new Author(ALICE).put('run.sh', m3);
    await fsp.chmod(path.join(box.root, 'run.sh'), 0o700);
    const r3 = await run(stateOf(d1, new Author(BOB).put('run.sh', metaOf(newBytes), [d1])), new MemoryBlockSource().addFile(newBytes));
    expect(r3.conflicts.map((c) => c.path)).toEqual(['run.sh']);
    expect((await read(box.root, 'run.sh')).toString()).toBe('echo hi\n');
  });

  it('new empty files are made at their names with mode and mtime, recorded; an unrecorded file standing there stays', async () => {
    const empty = metaOf(Buffer.alloc(0), 0o640, 1_600_000_000_456);
    expect(empty.blocks).toEqual([]);
    const alice = new Author(ALICE);
    const many = Array.from({ length: 40 }, (_, i) => alice.put(`e/f${i}`, empty));
    await fsp.writeFile(path.join(box.root, 'taken'), 'mine, never scanned');
    const taken = alice.put('taken', empty);
    const report = await run(stateOf(...many, taken), new MemoryBlockSource());
    expect(report.refused).toEqual([]);
    expect(report.conflicts.map((c) => c.path)).toEqual(['taken']);
    expect((await read(box.root, 'taken')).toString()).toBe('mine, never scanned');
    expect(report.applied.filter((o) => o.kind === 'written')).toHaveLength(40);
    for (const i of [0, 39]) {
      const st = await fsp.lstat(path.join(box.root, 'e', `f${i}`));
      expect(st.size).toBe(0);
      expect(st.mode & 0o777).toBe(0o640);
      expect(Math.floor(st.mtimeMs)).toBe(1_600_000_000_456);
      expect(matchesRecord(st, await box.store.localFile(FOLDER, `e/f${i}`))).toBe(true);
    }
    expect(await tempFiles(box.root)).toEqual([]);
    expect((await run(stateOf(...many, taken), new MemoryBlockSource())).applied).toEqual([]);
  });

  it('an entry claiming no bytes under another content hash is refused, nothing made', async () => {
    const lying = { ...metaOf(Buffer.alloc(0)), contentHash: sha256Hex('not empty') };
    const report = await run(stateOf(new Author(ALICE).put('liar', lying)), new MemoryBlockSource());
    expect(report.refused.map((r) => [r.path, r.code])).toEqual([['liar', 'APPLY_HASH_MISMATCH']]);
    await expect(fsp.lstat(path.join(box.root, 'liar'))).rejects.toThrow();
  });

  it('a local edit made while the remote version is being built is not overwritten', async () => {
    const oldMeta = await writeAndScan(box.store, FOLDER, box.root, 'race.bin', seededBytes('race-old', 300_000));
    const newBytes = seededBytes('race-new', 2_000_000);
    const a1 = new Author(ALICE).put('race.bin', oldMeta);
    const b1 = new Author(BOB).put('race.bin', metaOf(newBytes), [a1]);
    const edit = Buffer.from('typed while the download ran');
    const network = new MemoryBlockSource().addFile(newBytes);
    let edited = false;
    const editing: BlockSource = {
      read: async (h, size, signal) => {
        if (!edited) {
          edited = true;
          await fsp.writeFile(path.join(box.root, 'race.bin'), edit);
        }
        return network.read(h, size);
      },
    };
    const report = await run(stateOf(a1, b1), editing);
    expect(edited).toBe(true);
    expect(report.conflicts.map((c) => c.path)).toEqual(['race.bin']);
    expect((await read(box.root, 'race.bin')).equals(edit)).toBe(true);
    expect(await tempFiles(box.root)).toEqual([]);
  });

  it('a file already holding the winner (renamed in before a crash) is adopted, not a conflict', async () => {
    const bytes = seededBytes('adopt', 400_000);
    await fsp.writeFile(path.join(box.root, 'x.bin'), bytes);
    const a1 = new Author(ALICE).put('x.bin', metaOf(bytes, 0o600));
    const report = await run(stateOf(a1), new MemoryBlockSource());
    expect(report.applied).toEqual([{ kind: 'adopted', path: 'x.bin' }]);
    const st = await fsp.lstat(path.join(box.root, 'x.bin'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(matchesRecord(st, await box.store.localFile(FOLDER, 'x.bin'))).toBe(true);
  });

  it('a move renames an unchanged source (same inode) and falls back to blocks when the source changed', async () => {
    const bytes = seededBytes('mv', 800_000);
    const meta = await writeAndScan(box.store, FOLDER, box.root, 'a/one.bin', bytes);
    const ino = (await fsp.lstat(path.join(box.root, 'a', 'one.bin'))).ino;
    const alice = new Author(ALICE);
    const p1 = alice.put('a/one.bin', meta);
    const m1 = new Author(BOB).move('a/one.bin', 'b/two.bin', meta, [p1]);
    const report = await run(stateOf(p1, m1), new MemoryBlockSource());
    expect(report.refused).toEqual([]);
    expect(report.applied).toEqual([expect.objectContaining({ kind: 'written', path: 'b/two.bin', movedFrom: 'a/one.bin' })]);
    expect((await fsp.lstat(path.join(box.root, 'b', 'two.bin'))).ino).toBe(ino);
    await expect(fsp.lstat(path.join(box.root, 'a', 'one.bin'))).rejects.toThrow(/ENOENT/);
    expect(await box.store.localFile(FOLDER, 'a/one.bin')).toBeUndefined();

    // The source was edited locally: it stays (a conflict for the caller), the target is built from blocks.
    const meta3 = await writeAndScan(box.store, FOLDER, box.root, 'c.bin', bytes);
    const p3 = alice.put('c.bin', meta3);
    await fsp.writeFile(path.join(box.root, 'c.bin'), 'edited');
    const m3 = new Author(BOB).move('c.bin', 'd.bin', meta3, [p3]);
    const r3 = await run(stateOf(p3, m3), new MemoryBlockSource().addFile(bytes));
    expect(r3.applied).toEqual([expect.objectContaining({ kind: 'written', path: 'd.bin' })]);
    expect((r3.applied[0] as { movedFrom?: string }).movedFrom).toBeUndefined();
    expect((await read(box.root, 'd.bin')).equals(bytes)).toBe(true);
    expect(r3.conflicts.map((c) => c.path)).toEqual(['c.bin']);
    expect((await read(box.root, 'c.bin')).toString()).toBe('edited');
  });

  it('deletes keep the file as a version and remove only empty directories', async () => {
    const meta = await writeAndScan(box.store, FOLDER, box.root, 'd/gone.txt', Buffer.from('bye'));
    const keep = await writeAndScan(box.store, FOLDER, box.root, 'e/stay.txt', Buffer.from('stay'));
    const dMeta = await scanInto(box.store, FOLDER, box.root, 'd');
    const eMeta = await scanInto(box.store, FOLDER, box.root, 'e');
    await fsp.writeFile(path.join(box.root, 'e', 'unscanned.txt'), 'new here');
    const alice = new Author(ALICE);
    const [pd, pe, pf, pk] = [alice.put('d', dMeta), alice.put('e', eMeta), alice.put('d/gone.txt', meta), alice.put('e/stay.txt', keep)];
    const bob = new Author(BOB);
    const del = [bob.delete('d/gone.txt', [pf]), bob.delete('d', [pd]), bob.delete('e/stay.txt', [pk]), bob.delete('e', [pe])];
    const report = await run(stateOf(pd, pe, pf, pk, ...del), new MemoryBlockSource());
    expect(report.refused).toEqual([]);
    expect(report.applied.map((o) => `${o.kind} ${o.path}`).sort()).toEqual(['deleted d', 'deleted d/gone.txt', 'deleted e/stay.txt']);
    expect(report.keptNotEmpty).toEqual(['e']);
    await expect(fsp.lstat(path.join(box.root, 'd'))).rejects.toThrow(/ENOENT/);
    expect((await read(box.root, 'e/unscanned.txt')).toString()).toBe('new here');
    expect(await fsp.readdir(path.join(box.root, '.kinfolder', 'versions', 'd'))).toEqual(['gone~20261121-120000.txt']);
    expect(await box.store.localFile(FOLDER, 'd/gone.txt')).toBeUndefined();
  });

  it('creates directories and in-folder symlinks; names this filesystem cannot hold are reported, not mangled', async () => {
    const alice = new Author(ALICE);
    const dir = alice.put('docs/sub', { type: 'dir', size: 0, mode: 0o755, mtimeMs: 0, contentHash: sha256Hex(''), blocks: [] });
    const link = alice.put('docs/latest', { type: 'symlink', size: 0, mode: 0o777, mtimeMs: 0, contentHash: sha256Hex('sub'), blocks: [], linkTarget: 'sub' });
    const win = alice.put('docs/aux.txt', metaOf(Buffer.from('x')));
    const s = stateOf(dir, link, win);
    const report = await applyState({
      root: box.root,
      folder: FOLDER,
      ...s,
      local: box.store,
      blocks: new MemoryBlockSource().addFile(Buffer.from('x')),
      clock: CLOCK,
      fsTraits: { caseInsensitive: false, normalizationInsensitive: false, windowsNames: true },
    });
    expect(report.refused).toEqual([expect.objectContaining({ path: 'docs/aux.txt', code: 'APPLY_LOCAL_NAME' })]);
    expect((await fsp.lstat(path.join(box.root, 'docs', 'sub'))).isDirectory()).toBe(true);
    expect(await fsp.readlink(path.join(box.root, 'docs', 'latest'))).toBe('sub');
    await expect(fsp.lstat(path.join(box.root, 'docs', 'aux.txt'))).rejects.toThrow(/ENOENT/);
    expect(await box.store.localFile(FOLDER, 'docs/latest')).toMatchObject({ type: 'symlink', contentHash: sha256Hex('sub') });
  });

  it('a file the scanner recorded but never hashed is not overwritten', async () => {
    await fsp.writeFile(path.join(box.root, 'pending.txt'), 'scanned, hash not yet known');
    const st = await fsp.lstat(path.join(box.root, 'pending.txt'));
    await box.store.upsertLocalFiles([{ folder: FOLDER, path: 'pending.txt', size: st.size, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, mode: st.mode & 0o7777, contentHash: null, type: 'file' }]);
    const remote = Buffer.from('remote');
    const report = await run(stateOf(new Author(BOB).put('pending.txt', metaOf(remote))), new MemoryBlockSource().addFile(remote));
    expect(report.conflicts.map((c) => c.path)).toEqual(['pending.txt']);
    expect((await read(box.root, 'pending.txt')).toString()).toBe('scanned, hash not yet known');
  });

  it('`paths` limits the run to the paths named', async () => {
    const [x, y] = [Buffer.from('x'), Buffer.from('y')];
    const alice = new Author(ALICE);
    const s = stateOf(alice.put('x.txt', metaOf(x)), alice.put('y.txt', metaOf(y)));
    const report = await applyState({ root: box.root, folder: FOLDER, ...s, paths: ['y.txt'], local: box.store, blocks: new MemoryBlockSource().addFile(x).addFile(y), clock: CLOCK });
    expect(report.applied.map((o) => o.path)).toEqual(['y.txt']);
    await expect(fsp.lstat(path.join(box.root, 'x.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('a file replacing a directory is written once the deletions have emptied it', async () => {
    const child = await writeAndScan(box.store, FOLDER, box.root, 'p/c.txt', Buffer.from('child'));
    const dirMeta = await scanInto(box.store, FOLDER, box.root, 'p');
    const alice = new Author(ALICE);
    const pd = alice.put('p', dirMeta);
    const pc = alice.put('p/c.txt', child);
    const bob = new Author(BOB);
    const file = Buffer.from('p is a file now');
    const es = [pd, pc, bob.delete('p/c.txt', [pc]), bob.put('p', metaOf(file), [pd])];
    const report = await run(stateOf(...es), new MemoryBlockSource().addFile(file));
    expect(report.refused).toEqual([]);
    expect(report.applied.map((o) => `${o.kind} ${o.path}`)).toEqual(['deleted p/c.txt', 'written p']);
    expect((await read(box.root, 'p')).equals(file)).toBe(true);
    expect(await fsp.readdir(path.join(box.root, '.kinfolder', 'versions', 'p'))).toEqual(['c~20261121-120000.txt']);
  });

  it('a chain of moves (a→b, b→c) renames both files instead of rebuilding them', async () => {
    const [ba, bb] = [seededBytes('chain-a', 200_000), seededBytes('chain-b', 300_000)];
    const ma = await writeAndScan(box.store, FOLDER, box.root, 'a.bin', ba);
    const mb = await writeAndScan(box.store, FOLDER, box.root, 'b.bin', bb);
    const [inoA, inoB] = [(await fsp.lstat(path.join(box.root, 'a.bin'))).ino, (await fsp.lstat(path.join(box.root, 'b.bin'))).ino];
    const alice = new Author(ALICE);
    const pa = alice.put('a.bin', ma);
    const pb = alice.put('b.bin', mb);
    const bob = new Author(BOB);
    const mbc = bob.move('b.bin', 'c.bin', mb, [pb]);
    const mab = bob.move('a.bin', 'b.bin', ma, [pa, mbc]);
    const report = await run(stateOf(pa, pb, mbc, mab), new MemoryBlockSource());
    expect(report.refused).toEqual([]);
    expect(report.conflicts).toEqual([]);
    expect(report.applied.map((o) => (o.kind === 'written' ? `${o.movedFrom}->${o.path}` : o.kind))).toEqual(['b.bin->c.bin', 'a.bin->b.bin']);
    expect((await fsp.lstat(path.join(box.root, 'c.bin'))).ino).toBe(inoB);
    expect((await fsp.lstat(path.join(box.root, 'b.bin'))).ino).toBe(inoA);
    await expect(fsp.lstat(path.join(box.root, 'a.bin'))).rejects.toThrow(/ENOENT/);
  });

  it('looks the heads up in the store (entryLookup), as the sidecar wires it', async () => {
    const bytes = Buffer.from('from the store');
    const alice = new Author(ALICE);
    const e1 = alice.put('stored.txt', metaOf(Buffer.from('v1')));
    const e2 = alice.put('stored.txt', metaOf(bytes), [e1]);
    const record = (e: HashedEntry) => ({
      folder: e.entry.folder,
      author: e.entry.author,
      seq: e.entry.seq,
      hash: e.hash,
      prev: e.entry.prev,
      lamport: e.entry.lamport,
      paths: pathsOf(e.entry.body),
      parents: [...e.entry.parents],
      bytes: Buffer.from(e.bytes),
    });
    await box.store.appendBatch({ entries: [record(e1), record(e2)] });
    const { state } = stateOf(e1, e2);
    const report = await applyState({ root: box.root, folder: FOLDER, state, entryOf: entryLookup(box.store), local: box.store, blocks: new MemoryBlockSource().addFile(bytes), clock: CLOCK });
    expect(report.refused).toEqual([]);
    expect((await read(box.root, 'stored.txt')).equals(bytes)).toBe(true);
    // A head the store does not have is refused for its path, not guessed.
    const e3 = new Author(BOB).put('unknown.txt', metaOf(bytes));
    const r2 = await applyState({ root: box.root, folder: FOLDER, state: stateOf(e1, e2, e3).state, entryOf: entryLookup(box.store), local: box.store, blocks: new MemoryBlockSource(), clock: CLOCK });
    expect(r2.refused).toEqual([expect.objectContaining({ path: 'unknown.txt', code: 'APPLY_ENTRY_UNKNOWN' })]);
  });

  it('an abort stops the run with APPLY_ABORTED and leaves no temp file', async () => {
    const bytes = seededBytes('abort', 2_000_000);
    const a1 = new Author(ALICE).put('big.bin', metaOf(bytes));
    const ac = new AbortController();
    const net = new MemoryBlockSource().addFile(bytes);
    const aborting: BlockSource = {
      read: async (h, size) => {
        ac.abort();
        return net.read(h, size);
      },
    };
    await expect(run(stateOf(a1), aborting, { signal: ac.signal })).rejects.toMatchObject({ code: 'APPLY_ABORTED' });
    expect(await tempFiles(box.root)).toEqual([]);
    await expect(fsp.lstat(path.join(box.root, 'big.bin'))).rejects.toThrow(/ENOENT/);
  });
});
