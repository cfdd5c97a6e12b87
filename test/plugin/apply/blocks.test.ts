// Block sources: local reads at the indexed offset, verified; stale or foreign locations skipped; the chain asks local first.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ChainedBlockSource, LocalBlockSource } from '../../../plugin/src/apply';
import { FOLDER, MemoryBlockSource, SOURCE_FOLDER, sandbox, seededBytes, sha256Hex, writeAndScan, type Sandbox } from './helpers';

describe('block sources', () => {
  let box: Sandbox;
  let other: string;
  beforeEach(async () => {
    box = await sandbox();
    other = path.join(box.base, 'other-folder');
    await fsp.mkdir(other);
  });
  afterEach(async () => {
    await box.close();
  });

  /** The store's block index, noting each query: findBlocks as its number of hashes, blocksAfter as `after <offset>`. */
  function countingIndex() {
    const calls: (number | string)[] = [];
    let listing: Promise<unknown> = Promise.resolve();
    const index = {
      findBlock: box.store.findBlock.bind(box.store),
      findBlocks: (hashes: readonly string[], limit?: number) => (calls.push(hashes.length), box.store.findBlocks(hashes, limit)),
      blocksAfter: (folder: string, rel: string, offset: number, limit?: number) => {
        calls.push(`after ${offset}`);
        const out = box.store.blocksAfter(folder, rel, offset, limit);
        listing = out;
        return out;
      },
    };
    /** The last listing asked for, to wait for its answer. */
    return { calls, index, listed: () => listing };
  }

  it('reads a block at its offset from a file of another folder on this node', async () => {
    const data = seededBytes('other', 2 * 1024 * 1024);
    const meta = await writeAndScan(box.store, SOURCE_FOLDER, other, 'deep/file.bin', data);
    const roots = new Map([[SOURCE_FOLDER, other]]);
    const source = new LocalBlockSource(box.store, (f) => roots.get(f));
    let offset = 0;
    for (const b of meta.blocks) {
      const got = await source.read(b.hash, b.size);
      expect(got?.equals(data.subarray(offset, offset + b.size))).toBe(true);
      offset += b.size;
    }
    // A folder not on this node is skipped; a size that does not match the index is not read.
    expect(await new LocalBlockSource(box.store, () => undefined).read(meta.blocks[0].hash, meta.blocks[0].size)).toBeUndefined();
    expect(await source.read(meta.blocks[0].hash, meta.blocks[0].size + 1)).toBeUndefined();
  });

  it('answers the lookups of many reads at once with one query', async () => {
    const files = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const data = seededBytes(`many-${i}`, 4096);
        return { data, meta: await writeAndScan(box.store, FOLDER, box.root, `m${i}.bin`, data) };
      }),
    );
    const { calls, index } = countingIndex();
    const source = new LocalBlockSource(index, () => box.root);
    const missing = sha256Hex(Buffer.from('nobody has this'));
    const reads = [...files.map((f) => source.read(f.meta.blocks[0].hash, 4096)), source.read(missing, 15)];
    const got = await Promise.all(reads);
    files.forEach((f, i) => expect(got[i]?.equals(f.data)).toBe(true));
    expect(got[4]).toBeUndefined();
    expect(calls).toEqual([5]);
    // A failed lookup fails every read that waited for it.
    const failing = new LocalBlockSource({ findBlock: async () => [], findBlocks: async () => Promise.reject(new Error('store closed')) }, () => box.root);
    await expect(Promise.all([failing.read(missing, 15), failing.read(sha256Hex(Buffer.from('x')), 1)])).rejects.toThrow('store closed');
  });

  it("finds a batch's known blocks among thousands of new ones in one lookup, each with its places, at most `limit` of them", async () => {
    const known = Array.from({ length: 3 }, (_, i) => sha256Hex(`known-${i}`));
    // Names that JSON must carry as they are (the rows travel as one JSON text).
    await box.store.addBlockLocations(known.flatMap((hash, i) => ['a', 'b "ü" \\ 😀', 'c'].slice(0, i + 1).map((p) => ({ hash, size: 10, folder: FOLDER, path: `${p}.bin`, offset: 0 }))));
    const unknown = Array.from({ length: 1500 }, (_, i) => sha256Hex(`new-${i}`));
    const asked = [...unknown.slice(0, 700), known[2], ...unknown.slice(700), known[0], known[1], known[2]];
    const found = await box.store.findBlocks(asked, 2);
    expect([...found.keys()].sort()).toEqual([...known].sort());
    expect(found.get(known[0])!.map((l) => l.path)).toEqual(['a.bin']);
    expect(found.get(known[2])!.map((l) => l.path)).toEqual(['a.bin', 'b "ü" \\ 😀.bin']);
    expect(found.get(known[1])![0]).toEqual({ hash: known[1], size: 10, folder: FOLDER, path: 'a.bin', offset: 0 });
    await expect(box.store.findBlocks([unknown[0], 'AB'.repeat(32)])).rejects.toThrow(/lowercase hex/);
    expect(await box.store.findBlock(known[2], 5)).toEqual([0, 1, 2].map((i) => ({ hash: known[2], size: 10, folder: FOLDER, path: ['a.bin', 'b "ü" \\ 😀.bin', 'c.bin'][i], offset: 0 })));
  });

  it('looks up the blocks of a file about to be built in one query when told ahead, however its reads come', async () => {
    const data = seededBytes('ahead', 2 * 1024 * 1024);
    const meta = await writeAndScan(box.store, SOURCE_FOLDER, other, 'ahead.bin', data);
    expect(meta.blocks.length).toBeGreaterThan(2);
    const { calls, index } = countingIndex();
    const source = new LocalBlockSource(index, (f) => (f === SOURCE_FOLDER ? other : undefined));
    const missing = { hash: sha256Hex(Buffer.from('nobody has this')), size: 15 };
    source.prefetch([...meta.blocks, missing]);
    // One read at a time, each in its own turn of the event loop: without the hint, a query each.
    let offset = 0;
    for (const b of meta.blocks) {
      expect((await source.read(b.hash, b.size))?.equals(data.subarray(offset, offset + b.size))).toBe(true);
      offset += b.size;
    }
    expect(await source.read(missing.hash, missing.size)).toBeUndefined();
    expect(calls).toEqual([meta.blocks.length + 1]);
    // Each looked-up answer is used once: a later read asks the index again.
    expect(await source.read(missing.hash, missing.size)).toBeUndefined();
    expect(calls).toEqual([meta.blocks.length + 1, 1]);
  });

  it('a block looked up ahead whose file moved since is found where the index says it is now, not answered missing', async () => {
    const data = seededBytes('moved', 5000);
    const meta = await writeAndScan(box.store, SOURCE_FOLDER, other, 'before.bin', data);
    const extra = await writeAndScan(box.store, SOURCE_FOLDER, other, 'other.bin', seededBytes('other', 5000));
    let lookedUp: Promise<unknown> = Promise.resolve();
    const index = { findBlock: box.store.findBlock.bind(box.store), findBlocks: (hashes: readonly string[], limit?: number) => (lookedUp = box.store.findBlocks(hashes, limit)) };
    const source = new LocalBlockSource(index, (f) => (f === SOURCE_FOLDER ? other : undefined));
    source.prefetch([...meta.blocks, ...extra.blocks]);
    await lookedUp;
    // Moved before the read (a conflict copy renamed, a batch served while it waited): the lookup made ahead is stale.
    await fsp.rename(path.join(other, 'before.bin'), path.join(other, 'after.bin'));
    await box.store.removeBlockLocations(SOURCE_FOLDER, 'before.bin');
    await writeAndScan(box.store, SOURCE_FOLDER, other, 'after.bin', data);
    const [b] = meta.blocks;
    expect((await source.read(b.hash, b.size))?.equals(data)).toBe(true);
  });

  it('a file read block by block in order costs two lookups and one listing of its next blocks, a one-block file one lookup', async () => {
    const data = seededBytes('in-order', 3 * 1024 * 1024);
    const meta = await writeAndScan(box.store, SOURCE_FOLDER, other, 'served.bin', data);
    const small = seededBytes('one-block', 5000);
    const smallMeta = await writeAndScan(box.store, SOURCE_FOLDER, other, 'small.bin', small);
    expect(meta.blocks.length).toBeGreaterThan(4);
    const { calls, index, listed } = countingIndex();
    const source = new LocalBlockSource(index, (f) => (f === SOURCE_FOLDER ? other : undefined));
    expect((await source.read(smallMeta.blocks[0].hash, small.length))?.equals(small)).toBe(true);
    expect(calls).toEqual([1]);
    let offset = 0;
    for (const [i, b] of meta.blocks.entries()) {
      expect((await source.read(b.hash, b.size))?.equals(data.subarray(offset, offset + b.size))).toBe(true);
      offset += b.size;
      // The listing runs beside the reads; a read that comes before its answer is looked up alone.
      if (i === 1) await listed();
    }
    expect(calls).toEqual([1, 1, 1, `after ${meta.blocks[0].size}`]);
  });

  it('skips a stale location and finds the block at the next one', async () => {
    const data = seededBytes('dup', 300_000);
    const meta = await writeAndScan(box.store, FOLDER, box.root, 'a.bin', data);
    await writeAndScan(box.store, FOLDER, box.root, 'b.bin', data);
    // a.bin (listed first) changed since it was indexed; b.bin still holds the bytes.
    await fsp.writeFile(path.join(box.root, 'a.bin'), seededBytes('changed', data.length));
    const source = new LocalBlockSource(box.store, () => box.root);
    const b = meta.blocks[0];
    expect(sha256Hex((await source.read(b.hash, b.size)) as Buffer)).toBe(b.hash);
    await fsp.rm(path.join(box.root, 'b.bin'));
    // A new source (the one above may still hold b.bin open from its burst of reads: the bytes
    // it reads there are still the block's, checked) finds the block nowhere.
    expect(await new LocalBlockSource(box.store, () => box.root).read(b.hash, b.size)).toBeUndefined();
  });

  it('a small file (read on the worker) that changed on disk is not served as its old block; one behind a linked directory neither', async () => {
    const data = seededBytes('small-served', 4096);
    const meta = await writeAndScan(box.store, FOLDER, box.root, 'dir/s.bin', data);
    const [b] = meta.blocks;
    expect((await new LocalBlockSource(box.store, () => box.root).read(b.hash, b.size))?.equals(data)).toBe(true);
    // Same size, other bytes: a fresh source (no recent copy) must not answer the old hash.
    await fsp.writeFile(path.join(box.root, 'dir/s.bin'), seededBytes('small-changed', 4096));
    expect(await new LocalBlockSource(box.store, () => box.root).read(b.hash, b.size)).toBeUndefined();
    // The old bytes back, but reached through a directory that is now a symlink: refused before any read.
    await fsp.mkdir(path.join(box.base, 'elsewhere'));
    await fsp.writeFile(path.join(box.base, 'elsewhere', 's.bin'), data);
    await fsp.rm(path.join(box.root, 'dir'), { recursive: true });
    await fsp.symlink(path.join(box.base, 'elsewhere'), path.join(box.root, 'dir'));
    expect(await new LocalBlockSource(box.store, () => box.root).read(b.hash, b.size)).toBeUndefined();
  });

  it('a file kept open across reads that was rewritten in place is opened again, and its new bytes are not taken for the block', async () => {
    const data = seededBytes('kept-open', 2 * 1024 * 1024);
    const meta = await writeAndScan(box.store, FOLDER, box.root, 'k.bin', data);
    const source = new LocalBlockSource(box.store, () => box.root);
    const [b0, b1] = meta.blocks;
    expect(b1).toBeDefined();
    expect((await source.read(b0.hash, b0.size))?.equals(data.subarray(0, b0.size))).toBe(true);
    // Same inode, other bytes: the descriptor kept from the first read now sees them.
    await fsp.writeFile(path.join(box.root, 'k.bin'), seededBytes('rewritten', data.length));
    expect(await source.read(b1.hash, b1.size)).toBeUndefined();
    // Replaced by rename with the old content back: the fresh open finds it.
    await fsp.writeFile(path.join(box.base, 'k.tmp'), data);
    await fsp.rename(path.join(box.base, 'k.tmp'), path.join(box.root, 'k.bin'));
    expect((await source.read(b1.hash, b1.size))?.equals(data.subarray(b0.size, b0.size + b1.size))).toBe(true);
  });

  it('reads ahead the blocks of a file it is told about, within its bound, and hands each out once', async () => {
    const blocks = Array.from({ length: 12 }, (_, i) => seededBytes(`ahead-${i}`, 3000 + i));
    const network = new MemoryBlockSource();
    for (const b of blocks) network.addFile(b);
    const chain = new ChainedBlockSource(new LocalBlockSource(box.store, () => box.root));
    chain.add(network);
    const refs = blocks.map((b) => ({ hash: sha256Hex(b), size: b.length }));
    chain.prefetch(refs);
    // Every block was asked at once (far below the bound), before anyone read one.
    await new Promise((r) => setTimeout(r, 50));
    expect(network.reads).toBe(blocks.length);
    expect(chain.readAheadBytes).toBe(blocks.reduce((n, b) => n + b.length, 0));
    for (let i = 0; i < blocks.length; i++) expect((await chain.read(refs[i].hash, refs[i].size))?.equals(blocks[i])).toBe(true);
    expect(network.reads).toBe(blocks.length);
    expect(chain.readAheadBytes).toBe(0);
    // Taken once: a second read goes to the sources again.
    expect((await chain.read(refs[0].hash, refs[0].size))?.equals(blocks[0])).toBe(true);
    expect(network.reads).toBe(blocks.length + 1);
  });

  it('the chain asks the local source first and the next one only for what is missing', async () => {
    const data = seededBytes('chain', 200_000);
    const meta = await writeAndScan(box.store, FOLDER, box.root, 'here.bin', data);
    const remoteOnly = seededBytes('remote', 10_000); // below the minimum block size: one block
    const network = new MemoryBlockSource().addFile(data).addFile(remoteOnly);
    const chain = new ChainedBlockSource(new LocalBlockSource(box.store, () => box.root));
    chain.add(network);
    expect((await chain.read(meta.blocks[0].hash, meta.blocks[0].size))?.length).toBe(meta.blocks[0].size);
    expect(network.reads).toBe(0);
    const h = sha256Hex(remoteOnly);
    expect((await chain.read(h, remoteOnly.length))?.equals(remoteOnly)).toBe(true);
    expect(network.reads).toBe(1);
    expect(await chain.read(sha256Hex('nobody has this'), 15)).toBeUndefined();
  });
});
