import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Committer, GroupSync, IndexRecorder } from '../../../plugin/src/apply';
import type { LocalFileRecord } from '../../../plugin/src/store';
import { FOLDER, sandbox, type Sandbox } from './helpers';

let sb: Sandbox;
beforeEach(async () => {
  sb = await sandbox();
});
afterEach(() => sb.close());

const row = (p: string, inode: number): LocalFileRecord => ({ folder: FOLDER, path: p, size: 1, mtimeMs: 1_700_000_000_000, inode, mode: 0o644, contentHash: 'ab'.repeat(32), type: 'file' });

test('rows are recorded only at a flush, after their directories; writing paths are released then', async () => {
  await fsp.mkdir(path.join(sb.root, 'd'));
  const writing = new Set(['d/a', 'd/b']);
  const c = new Committer(new IndexRecorder(sb.store, sb.store), writing, 1000);
  c.add([path.join(sb.root, 'd')], [row('d/a', 1)], [{ hash: 'cd'.repeat(32), size: 1, folder: FOLDER, path: 'd/a', offset: 0 }], ['d/a']);
  c.add([path.join(sb.root, 'd')], [row('d/b', 2)], [], ['d/b']);
  expect(await sb.store.localFile(FOLDER, 'd/a')).toBeUndefined();
  expect(writing.size).toBe(2);
  await c.flush();
  expect(await sb.store.localFile(FOLDER, 'd/a')).toMatchObject({ inode: 1 });
  expect(await sb.store.localFile(FOLDER, 'd/b')).toMatchObject({ inode: 2 });
  expect((await sb.store.findBlock('cd'.repeat(32))).map((l) => l.path)).toEqual(['d/a']);
  expect(writing.size).toBe(0);
});

test('enough rows start a flush by themselves; a later row for a path wins', async () => {
  const c = new Committer(new IndexRecorder(sb.store, sb.store), undefined, 2);
  c.add([sb.root], [row('x', 1)], [], []);
  c.add([sb.root], [row('x', 2)], [], []);
  // The second add reached the threshold: the flush below only waits for it.
  await c.flush();
  expect(await sb.store.localFile(FOLDER, 'x')).toMatchObject({ inode: 2 });
});

test('a directory that cannot be fsynced fails the flush and records nothing of it', async () => {
  const writing = new Set(['gone/a']);
  const c = new Committer(new IndexRecorder(sb.store, sb.store), writing);
  c.add([path.join(sb.root, 'gone')], [row('gone/a', 1)], [], ['gone/a']);
  await expect(c.flush()).rejects.toMatchObject({ code: 'APPLY_IO' });
  expect(await sb.store.localFile(FOLDER, 'gone/a')).toBeUndefined();
  expect(writing.size).toBe(0);
  // Later flushes report the failure too: the run must stop.
  await expect(c.flush()).rejects.toMatchObject({ code: 'APPLY_IO' });
});

test('rows added while a flush waits go with it: one shared sync for many groups, not one each', async () => {
  const gs = await GroupSync.probe(sb.root);
  if (gs === undefined) return; // No syncfs here (not Linux): the committer fsyncs directories instead.
  try {
    const c = new Committer(new IndexRecorder(sb.store, sb.store), undefined, 2, gs);
    // Six groups' worth of rows, each group reaching the threshold by itself.
    for (let i = 0; i < 12; i++) c.add([sb.root], [row(`f${i}`, i + 1)], [], []);
    await c.flush();
    expect(gs.syncs).toBe(1);
    for (let i = 0; i < 12; i++) expect(await sb.store.localFile(FOLDER, `f${i}`)).toMatchObject({ inode: i + 1 });
  } finally {
    gs.close();
  }
});
