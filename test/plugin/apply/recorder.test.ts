// Group commit: rows written while a commit is in flight go into the next one, and every caller waits for its own commit.
import { IndexRecorder } from '../../../plugin/src/apply';
import type { LocalFileRecord } from '../../../plugin/src/store';
import { FOLDER, sandbox, sha256Hex, type Sandbox } from './helpers';

const row = (p: string, size = 1): LocalFileRecord => ({ folder: FOLDER, path: p, size, mtimeMs: 1, inode: 1, mode: 0o644, contentHash: sha256Hex(p), type: 'file' });

describe('IndexRecorder', () => {
  let box: Sandbox;
  beforeEach(async () => {
    box = await sandbox();
  });
  afterEach(async () => {
    await box.close();
  });

  it('coalesces concurrent writes into few transactions; each row is committed when its write resolves', async () => {
    const calls: number[] = [];
    const local = { upsertLocalFiles: async (rows: readonly LocalFileRecord[]) => (calls.push(rows.length), box.store.upsertLocalFiles(rows)) };
    const recorder = new IndexRecorder(local, box.store);
    const writes = Array.from({ length: 20 }, async (_, i) => {
      await recorder.write([row(`f${i}`), row('shared-dir', i)], [{ hash: sha256Hex(`b${i}`), size: 10, folder: FOLDER, path: `f${i}`, offset: 0 }]);
      // Committed by the time the write resolves.
      expect(await box.store.localFile(FOLDER, `f${i}`)).toMatchObject({ path: `f${i}` });
    });
    await Promise.all(writes);
    expect(calls.reduce((a, b) => a + b, 0)).toBeLessThan(40); // the shared row was deduplicated per batch
    expect(calls.length).toBeLessThan(20);
    expect((await box.store.findBlock(sha256Hex('b7'))).map((l) => l.path)).toEqual(['f7']);
  });

  it('a failed commit rejects every write in it, and the next writes go through', async () => {
    let fail = true;
    const local = {
      upsertLocalFiles: async (rows: readonly LocalFileRecord[]) => {
        if (fail) throw new Error('disk full');
        return box.store.upsertLocalFiles(rows);
      },
    };
    const recorder = new IndexRecorder(local);
    await expect(recorder.write([row('x')], [])).rejects.toThrow('disk full');
    fail = false;
    await recorder.write([row('y')], []);
    expect(await box.store.localFile(FOLDER, 'y')).toBeDefined();
    expect(await box.store.localFile(FOLDER, 'x')).toBeUndefined();
  });
});
