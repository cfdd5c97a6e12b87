// Shared syncs (syncfs through a helper shell): groups of waiters, the "started after" rule, and a bulk apply with them.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyState, GroupSync, matchesRecord } from '../../../plugin/src/apply';
import { ALICE, Author, FOLDER, MemoryBlockSource, metaOf, read, sandbox, seededBytes, stateOf, tempFiles, type Sandbox } from './helpers';

const CLOCK = (): number => Date.UTC(2026, 10, 21, 12, 0, 0);
const linux = process.platform === 'linux';

let box: Sandbox;
let sync: GroupSync | undefined;
beforeEach(async () => {
  box = await sandbox();
});
afterEach(async () => {
  sync?.close();
  sync = undefined;
  await box.close();
});

(linux ? test : test.skip)('many waiters share a few syncs; one who comes while a sync runs waits for the next', async () => {
  sync = await GroupSync.probe(box.root, { gatherMs: 5 });
  expect(sync).toBeDefined();
  const g = sync!;
  const before = g.syncs;
  await Promise.all(Array.from({ length: 100 }, () => g.wait()));
  const forHundred = g.syncs - before;
  expect(forHundred).toBeGreaterThanOrEqual(1);
  expect(forHundred).toBeLessThanOrEqual(3);

  // The second waiter arrives after the first sync started: it must not ride on it.
  const first = g.wait();
  await new Promise((r) => setTimeout(r, 10)); // past the gathering time: the first sync is running
  const n = g.syncs;
  await Promise.all([first, g.wait()]);
  expect(g.syncs).toBe(n + 1);
});

test('a closed helper fails its waiters instead of hanging', async () => {
  const g = await GroupSync.probe(box.root);
  if (g === undefined) return expect(linux).toBe(false);
  g.close();
  await expect(g.wait()).rejects.toMatchObject({ code: 'APPLY_IO' });
});

(linux ? test : test.skip)('a bulk apply with shared syncs: every file on disk and recorded exactly, far fewer syncs than files', async () => {
  sync = await GroupSync.probe(box.root);
  const alice = new Author(ALICE);
  const network = new MemoryBlockSource();
  const entries = [];
  const files = new Map<string, Buffer>();
  for (let d = 0; d < 10; d++) entries.push(alice.put(`d${d}`, { type: 'dir', size: 0, mode: 0o755, mtimeMs: 1_700_000_000_000, contentHash: metaOf(Buffer.alloc(0)).contentHash, blocks: [] }));
  for (let i = 0; i < 300; i++) {
    const data = seededBytes(`small-${i}`, 4096);
    network.addFile(data);
    files.set(`d${i % 10}/f${i}.bin`, data);
    entries.push(alice.put(`d${i % 10}/f${i}.bin`, metaOf(data)));
  }
  const s = stateOf(...entries);
  const writing = new Set<string>();
  const report = await applyState({ root: box.root, folder: FOLDER, state: s.state, entryOf: s.entryOf, local: box.store, blockIndex: box.store, blocks: network, clock: CLOCK, groupSync: sync, writing });
  expect(report.refused).toEqual([]);
  expect(report.applied).toHaveLength(310);
  for (const [p, data] of files) {
    expect((await read(box.root, p)).equals(data)).toBe(true);
    expect(matchesRecord(await fsp.lstat(path.join(box.root, p)), await box.store.localFile(FOLDER, p))).toBe(true);
  }
  expect(writing.size).toBe(0);
  expect(await tempFiles(box.root)).toEqual([]);
  expect(sync!.syncs).toBeLessThan(300 / 4);
});
