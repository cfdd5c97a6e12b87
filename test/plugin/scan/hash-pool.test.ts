import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { hashFile } from '../../../plugin/src/scan/hash-file';
import { HashPool } from '../../../plugin/src/scan/hash-pool';
import { IgnoreRules } from '../../../plugin/src/scan/ignore';
import { walkFolder } from '../../../plugin/src/scan/walk';
import { makeTempDir, removeDir, seededBytes } from './helpers';

describe('HashPool', () => {
  let dir: string;
  let pool: HashPool;
  beforeEach(async () => {
    dir = await makeTempDir();
    pool = new HashPool({ size: 2 });
  });
  afterEach(async () => {
    await pool.close();
    await removeDir(dir);
  });

  it('hashes on worker threads to the same result as in-process hashing', async () => {
    const files: string[] = [];
    for (let i = 0; i < 4; i++) {
      const f = path.join(dir, `f${i}.bin`);
      await fsp.writeFile(f, seededBytes(`pool/${i}`, 1024 * 1024 + i * 77777));
      files.push(f);
    }
    // No sizeHint: everything goes to the workers.
    const viaPool = await Promise.all(files.map((f) => pool.hashFile(f, {})));
    const here = await Promise.all(files.map((f) => hashFile(f)));
    expect(viaPool).toEqual(here);
    // With a small sizeHint the file stays in this thread; same answer.
    expect(await pool.hashFile(files[0], { sizeHint: 10 })).toEqual(here[0]);
  });

  it('carries error codes back from the worker', async () => {
    await expect(pool.hashFile(path.join(dir, 'missing'), {})).rejects.toMatchObject({ name: 'ScanError', code: 'FILE_CHANGED_DURING_SCAN' });
    await fsp.mkdir(path.join(dir, 'sub'));
    await expect(pool.hashFile(path.join(dir, 'sub'), {})).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
  });

  it('cancels a job in the worker when the signal fires', async () => {
    // 512 MiB sparse: far longer to hash than a message takes to reach the worker.
    const big = path.join(dir, 'sparse.bin');
    const h = await fsp.open(big, 'w');
    await h.truncate(512 * 1024 * 1024);
    await h.close();
    const controller = new AbortController();
    const p = pool.hashFile(big, { signal: controller.signal });
    controller.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    // The worker is still usable afterwards.
    await fsp.writeFile(path.join(dir, 'after.txt'), 'after');
    expect((await pool.hashFile(path.join(dir, 'after.txt'), {})).size).toBe(5);
  });

  it('rejects pending jobs when closed, and refuses new ones', async () => {
    const big = path.join(dir, 'sparse.bin');
    const h = await fsp.open(big, 'w');
    await h.truncate(512 * 1024 * 1024);
    await h.close();
    const rejected = expect(pool.hashFile(big, {})).rejects.toMatchObject({ code: 'ABORTED' });
    await pool.close();
    await rejected;
    await expect(pool.hashFile(big, {})).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('plugs into the walk', async () => {
    await fsp.writeFile(path.join(dir, 'a.bin'), seededBytes('walk/a', 2 * 1024 * 1024));
    await fsp.writeFile(path.join(dir, 'b.txt'), 'small');
    const viaPool = new Map<string, unknown>();
    for await (const f of walkFolder(dir, { ignore: new IgnoreRules(), hashFile: pool.hashFile })) viaPool.set(f.path, f);
    const here = new Map<string, unknown>();
    for await (const f of walkFolder(dir, { ignore: new IgnoreRules() })) here.set(f.path, f);
    expect(viaPool).toEqual(here);
    expect(viaPool.size).toBe(2);
  });
});
