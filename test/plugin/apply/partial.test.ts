// Resumable temp files: a big file's build cut midway keeps what arrived, and the next build fetches only the rest.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyPut, clearPartials, isApplyError, PARTIAL_PREFIX, Versions, type BlockSource, type FileApplyContext } from '../../../plugin/src/apply';
import { FOLDER, MemoryBlockSource, metaOf, read, sandbox, seededBytes, type Sandbox } from './helpers';

const tmpDir = (root: string): string => path.join(root, '.kinfolder', 'tmp');
const partials = async (root: string): Promise<string[]> => (await fsp.readdir(tmpDir(root)).catch(() => [] as string[])).filter((n) => n.startsWith(PARTIAL_PREFIX));

/** A network that has only the blocks it is allowed to hand out, and counts what it was asked. */
class Network implements BlockSource {
  readonly asked: string[] = [];
  allow: (hash: string) => boolean = () => true;
  constructor(private readonly all: MemoryBlockSource) {}
  async read(hash: string, size: number): Promise<Buffer | undefined> {
    this.asked.push(hash);
    return this.allow(hash) ? this.all.read(hash, size) : undefined;
  }
}

describe('partial files', () => {
  let box: Sandbox;
  beforeEach(async () => {
    box = await sandbox();
  });
  afterEach(async () => {
    await box.close();
  });

  const ctxWith = (blocks: BlockSource): FileApplyContext => ({ root: box.root, folder: FOLDER, local: box.store, blockIndex: box.store, blocks, versions: new Versions(box.root, { clock: Date.now }) });

  it('a build cut by a missing block keeps what arrived; the next one asks only for the rest', async () => {
    const data = seededBytes('partial', 6 * 1024 * 1024);
    const meta = metaOf(data);
    expect(meta.blocks.length).toBeGreaterThan(6);
    const net = new Network(new MemoryBlockSource().addFile(data));
    const cut = meta.blocks[Math.floor(meta.blocks.length / 2)].hash;
    net.allow = (h) => h !== cut;
    const first = await applyPut(ctxWith(net), 'big.bin', meta).catch((e: unknown) => e);
    expect(isApplyError(first, 'APPLY_BLOCK_UNAVAILABLE')).toBe(true);
    expect(await partials(box.root)).toHaveLength(1);
    // Every block but the missing one arrived (they are asked in a window, in any order) and was kept.
    expect(new Set(net.asked)).toEqual(new Set(meta.blocks.map((b) => b.hash)));

    net.asked.length = 0;
    net.allow = () => true;
    expect((await applyPut(ctxWith(net), 'big.bin', meta)).kind).toBe('written');
    expect(net.asked).toEqual([cut]);
    expect((await read(box.root, 'big.bin')).equals(data)).toBe(true);
    expect(await partials(box.root)).toEqual([]);
  });

  it('a kept block whose bytes changed and a torn tail are fetched again; the rest is taken as it is', async () => {
    const data = seededBytes('torn', 6 * 1024 * 1024);
    const meta = metaOf(data);
    const net = new Network(new MemoryBlockSource().addFile(data));
    const last = meta.blocks[meta.blocks.length - 1].hash;
    net.allow = (h) => h !== last;
    await expect(applyPut(ctxWith(net), 'big.bin', meta)).rejects.toThrow();
    const [name] = await partials(box.root);
    const file = path.join(tmpDir(box.root), name);
    // One byte of the second block flipped, and the file cut inside the block before the last (a kill mid-write).
    const second = meta.blocks[0].size;
    const bytes = await fsp.readFile(file);
    bytes[second + 10] ^= 0xff;
    const cutAt = data.length - meta.blocks[meta.blocks.length - 1].size - 100;
    await fsp.writeFile(file, bytes.subarray(0, cutAt));

    net.asked.length = 0;
    net.allow = () => true;
    expect((await applyPut(ctxWith(net), 'big.bin', meta)).kind).toBe('written');
    expect(new Set(net.asked)).toEqual(new Set([meta.blocks[1].hash, meta.blocks[meta.blocks.length - 2].hash, last]));
    expect((await read(box.root, 'big.bin')).equals(data)).toBe(true);
  });

  it('a partial file that is a hard link to another file is replaced, never written through', async () => {
    const data = seededBytes('linked', 3 * 1024 * 1024);
    const meta = metaOf(data);
    const net = new Network(new MemoryBlockSource().addFile(data));
    net.allow = () => false;
    await expect(applyPut(ctxWith(net), 'big.bin', meta)).rejects.toThrow();
    const [name] = await partials(box.root);
    const outside = path.join(box.base, 'outside.bin');
    await fsp.writeFile(outside, 'not yours');
    await fsp.rm(path.join(tmpDir(box.root), name));
    await fsp.link(outside, path.join(tmpDir(box.root), name));
    net.allow = () => true;
    expect((await applyPut(ctxWith(net), 'big.bin', meta)).kind).toBe('written');
    expect((await read(box.root, 'big.bin')).equals(data)).toBe(true);
    expect(await fsp.readFile(outside, 'utf8')).toBe('not yours');
  });

  it('a block twice in one file is fetched once; clearPartials removes what no build holds', async () => {
    const half = seededBytes('twice', 2 * 1024 * 1024);
    const data = Buffer.concat([half, half]);
    const meta = metaOf(data);
    const distinct = new Set(meta.blocks.map((b) => b.hash));
    expect(distinct.size).toBeLessThan(meta.blocks.length);
    const net = new Network(new MemoryBlockSource().addFile(data));
    expect((await applyPut(ctxWith(net), 'twice.bin', meta)).kind).toBe('written');
    expect(net.asked.length).toBe(distinct.size);
    expect((await read(box.root, 'twice.bin')).equals(data)).toBe(true);

    await fsp.writeFile(path.join(tmpDir(box.root), `${PARTIAL_PREFIX}left-over`), 'x');
    await fsp.writeFile(path.join(tmpDir(box.root), 'other'), 'x');
    expect(await clearPartials(box.root)).toBe(1);
    expect(await fsp.readdir(tmpDir(box.root))).toEqual(['other']);
  });
});
