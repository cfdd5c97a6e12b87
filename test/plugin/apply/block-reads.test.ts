// The block-read worker: verified bytes at their offset; a changed, missing or linked file answered "not here"; abort, close and a dead worker answered with typed errors.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockReads } from '../../../plugin/src/apply/block-reads';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('BlockReads', () => {
  let dir: string;
  let reads: BlockReads;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-reads-'));
    reads = new BlockReads();
  });
  afterEach(async () => {
    reads.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('reads many blocks asked at once, each at its offset, verified', async () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ path: path.join(dir, `f${i}`), bytes: Buffer.from(`file ${i} `.repeat(50 + i)) }));
    for (const f of files) await fsp.writeFile(f.path, f.bytes);
    // The second half of each file, so offsets count.
    const asked = files.map((f) => {
      const half = Math.floor(f.bytes.length / 2);
      const want = f.bytes.subarray(half);
      return { req: { path: f.path, offset: half, size: want.length, hash: sha(want) }, want };
    });
    const got = await Promise.all(asked.map((a) => reads.read(a.req)));
    got.forEach((g, i) => expect(g?.equals(asked[i].want)).toBe(true));
  });

  it('answers not-here for a file that changed, is missing, is too short or is a symlink', async () => {
    const p = path.join(dir, 'changed');
    const old = Buffer.from('the bytes that were indexed');
    await fsp.writeFile(p, 'other bytes, same length!!!');
    const target = path.join(dir, 'target');
    await fsp.writeFile(target, old);
    const link = path.join(dir, 'link');
    await fsp.symlink(target, link);
    const req = (at: string, size = old.length) => ({ path: at, offset: 0, size, hash: sha(old) });
    expect(await reads.read(req(p))).toBeUndefined();
    expect(await reads.read(req(path.join(dir, 'missing')))).toBeUndefined();
    expect(await reads.read({ ...req(target, old.length + 1) })).toBeUndefined();
    expect(await reads.read(req(link))).toBeUndefined();
    // The same request at the real file is answered: the misses above were the files', not the worker's.
    expect((await reads.read(req(target)))?.equals(old)).toBe(true);
  });

  it('an aborted read rejects with APPLY_ABORTED, the others of its batch are still answered', async () => {
    const p = path.join(dir, 'f');
    const bytes = Buffer.from('some block bytes');
    await fsp.writeFile(p, bytes);
    const ac = new AbortController();
    const req = { path: p, offset: 0, size: bytes.length, hash: sha(bytes) };
    const aborted = reads.read(req, ac.signal);
    const other = reads.read(req);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'APPLY_ABORTED' });
    expect((await other)?.equals(bytes)).toBe(true);
    await expect(reads.read(req, ac.signal)).rejects.toMatchObject({ code: 'APPLY_ABORTED' });
  });

  it('a worker that fails rejects the reads it held with APPLY_IO, and the next read starts a new one', async () => {
    const p = path.join(dir, 'f');
    const bytes = Buffer.from('bytes');
    await fsp.writeFile(p, bytes);
    const req = { path: p, offset: 0, size: bytes.length, hash: sha(bytes) };
    expect((await reads.read(req))?.equals(bytes)).toBe(true);
    // A negative size makes the worker's batch buffer throw: an uncaught error in the worker, as a bug there would be.
    const poisoned = reads.read({ ...req, size: -bytes.length - 1 });
    const sameBatch = reads.read(req);
    await expect(poisoned).rejects.toMatchObject({ code: 'APPLY_IO', message: expect.stringMatching(/block-read worker failed/) });
    await expect(sameBatch).rejects.toMatchObject({ code: 'APPLY_IO' });
    expect((await reads.read(req))?.equals(bytes)).toBe(true);
  });

  it('once closed, rejects every read with APPLY_IO', async () => {
    reads.close();
    await expect(reads.read({ path: path.join(dir, 'x'), offset: 0, size: 1, hash: sha(Buffer.from('x')) })).rejects.toMatchObject({ code: 'APPLY_IO' });
  });
});
