import { appendFileSync, promises as fsp, renameSync } from 'node:fs';
import * as path from 'node:path';
import { chunkBuffer } from '../../../plugin/src/scan/chunker';
import { hashFile, hashFileAuto, hashFileSync, READ_SIZE } from '../../../plugin/src/scan/hash-file';
import { EMPTY_SHA256 } from '../../../plugin/src/scan/types';
import { fileContentHash, makeTempDir, removeDir, seededBytes, sha256Hex } from './helpers';

describe('hashFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('hashes a real file into the same blocks as the in-memory chunker, with its stat', async () => {
    const data = seededBytes('hash-file', 3 * READ_SIZE + 12345);
    const file = path.join(dir, 'data.bin');
    await fsp.writeFile(file, data);
    await fsp.chmod(file, 0o754);
    const st = await fsp.lstat(file);
    const r = await hashFile(file);
    const expected = chunkBuffer(data);
    expect(r.size).toBe(data.length);
    expect(r.contentHash).toBe(fileContentHash(data));
    expect(r.blocks).toEqual(expected.blocks);
    expect(r.mode).toBe(0o754);
    expect(r.inode).toBe(st.ino);
    expect(r.mtimeMs).toBe(Math.floor(st.mtimeMs));
  });

  it('hashes an empty file to zero blocks', async () => {
    const file = path.join(dir, 'empty');
    await fsp.writeFile(file, '');
    const r = await hashFile(file);
    expect(r).toMatchObject({ size: 0, contentHash: fileContentHash(''), blocks: [] });
  });

  it('stops with ABORTED when the signal fires mid-file, before reading further', async () => {
    const file = path.join(dir, 'big.bin');
    await fsp.writeFile(file, seededBytes('abort', 8 * READ_SIZE));
    const controller = new AbortController();
    const seen: number[] = [];
    const p = hashFile(file, {
      signal: controller.signal,
      onProgress: (n) => {
        seen.push(n);
        if (n >= 2 * READ_SIZE) controller.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'ScanError', code: 'ABORTED' });
    expect(seen).toEqual([READ_SIZE, 2 * READ_SIZE]);
  });

  it('reports FILE_CHANGED_DURING_SCAN when the file grows while being hashed', async () => {
    const file = path.join(dir, 'growing.bin');
    await fsp.writeFile(file, seededBytes('grow', 4 * READ_SIZE));
    // Synchronous writes inside the hook: the change has certainly landed before the next read.
    const p = hashFile(file, {
      onProgress: (n) => {
        if (n === READ_SIZE) appendFileSync(file, 'more bytes');
      },
    });
    await expect(p).rejects.toMatchObject({ code: 'FILE_CHANGED_DURING_SCAN' });
  });

  it('reports FILE_CHANGED_DURING_SCAN when the path is replaced (same size, new inode) mid-hash', async () => {
    const file = path.join(dir, 'replaced.bin');
    await fsp.writeFile(file, seededBytes('old', 4 * READ_SIZE));
    const other = path.join(dir, 'new.bin');
    await fsp.writeFile(other, seededBytes('new', 4 * READ_SIZE));
    const p = hashFile(file, {
      onProgress: (n) => {
        if (n === READ_SIZE) renameSync(other, file);
      },
    });
    await expect(p).rejects.toMatchObject({ code: 'FILE_CHANGED_DURING_SCAN' });
  });

  it('refuses a symlink and a directory instead of following them', async () => {
    const target = path.join(dir, 'target');
    await fsp.writeFile(target, 'x');
    await fsp.symlink(target, path.join(dir, 'link'));
    await expect(hashFile(path.join(dir, 'link'))).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    await fsp.mkdir(path.join(dir, 'sub'));
    await expect(hashFile(path.join(dir, 'sub'))).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
  });

  it('hashes a large file in constant memory', async () => {
    // 256 MiB sparse: a hasher that kept the bytes (or the blocks) would grow by hundreds of MiB.
    const file = path.join(dir, 'sparse.bin');
    const h = await fsp.open(file, 'w');
    await h.truncate(256 * 1024 * 1024);
    await h.close();
    const before = process.memoryUsage();
    let peak = 0;
    const r = await hashFile(file, {
      onProgress: () => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.rss - before.rss, m.arrayBuffers - before.arrayBuffers);
      },
    });
    expect(r.blocks).toHaveLength(256); // zeros never cut early: every block is the 1 MiB maximum
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });

  it('reports a missing file as changed (the caller retries) rather than as an I/O failure', async () => {
    await expect(hashFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'FILE_CHANGED_DURING_SCAN' });
  });
});

describe('hashFileSync and hashFileAuto', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('give the same result as hashFile, for small and large files', async () => {
    for (const size of [0, 1, 4095, 4096, 200 * 1024, 3 * READ_SIZE + 1]) {
      const file = path.join(dir, `f${size}`);
      await fsp.writeFile(file, seededBytes(`sync/${size}`, size));
      const expected = await hashFile(file);
      expect(hashFileSync(file)).toEqual(expected);
      expect(await hashFileAuto(file, { sizeHint: size })).toEqual(expected);
      expect(await hashFileAuto(file, {})).toEqual(expected);
    }
  });

  it('keep the error codes: symlink, missing file, abort', async () => {
    await fsp.writeFile(path.join(dir, 't'), 'x');
    await fsp.symlink(path.join(dir, 't'), path.join(dir, 'l'));
    expect(() => hashFileSync(path.join(dir, 'l'))).toThrow(expect.objectContaining({ code: 'NOT_A_REGULAR_FILE' }));
    expect(() => hashFileSync(path.join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'FILE_CHANGED_DURING_SCAN' }));
    await expect(hashFileAuto(path.join(dir, 'l'), { sizeHint: 1 })).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    const c = new AbortController();
    c.abort();
    await expect(hashFileAuto(path.join(dir, 't'), { sizeHint: 1, signal: c.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
