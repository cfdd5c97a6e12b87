// A store written by an older schema opens under the current one with everything still there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Store, isStoreError, type EntryRecord } from '../../../plugin/src/store';
import { entry, feed, tempDir } from './records';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * What fixtures/schema-002.sqlite holds: it was written by the store of schema 001+002 (one row
 * per entry; commit 1e1009e) from exactly these records, in two batches.
 */
function fixtureData(): { a: EntryRecord[]; b: EntryRecord[]; c: EntryRecord } {
  const a = feed('A', 1, 40);
  a[9] = { ...a[9], paths: ['A/f10', 'x/"quoted"\\é'], parents: [a[0].hash, a[1].hash], lamport: 99 };
  a[20] = { ...a[20], prev: null };
  const b = [...feed('B', 1, 3), ...feed('B', 6, 1)];
  const c = entry({ author: 'C', seq: 1, paths: ['A/f2'], parents: [a[1].hash] });
  return { a, b, c };
}

describe('003_entry_chunks migrates entries stored one row each', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('kinfolder-migrate-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('entries, ranges, lookups by hash, heads and version vectors survive, and new batches build on them', async () => {
    const { a, b, c } = fixtureData();
    const file = path.join(dir, 's.sqlite');
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'schema-002.sqlite'), file);
    // The same records stored by the current schema: what the migrated store must answer.
    const fresh = await Store.open(path.join(dir, 'fresh.sqlite'));
    await fresh.appendBatch({ entries: [...a.slice(0, 25), ...b] });
    await fresh.appendBatch({ entries: [c] });
    const expected = { vv: await fresh.versionVector('folder-1'), heads: await collect(fresh.pathsWithHeads('folder-1')) };
    await fresh.close();

    const store = await Store.open(file);
    try {
      expect(store.migrationsApplied).toEqual([3, 4]);
      expect(await store.versionVector('folder-1')).toEqual(expected.vv);
      expect(await collect(store.pathsWithHeads('folder-1'))).toEqual(expected.heads);
      expect((await store.heads('folder-1', 'A/f2')).map((h) => h.hash)).toEqual([c.hash]);
      expect(await collect(store.entriesRange('folder-1', 'A', 1, 100))).toEqual(a.slice(0, 25));
      expect(await collect(store.entriesRange('folder-1', 'A', 8, 12, { pageSize: 2 }))).toEqual(a.slice(7, 12));
      expect(await collect(store.entriesRange('folder-1', 'B', 1, 10, { pageSize: 2 }))).toEqual(b);
      for (const e of [...a.slice(0, 25), ...b, c]) expect(await store.entry(e.hash)).toEqual(e);
      expect((await store.latestCheckpoint('folder-1', 'A'))?.seq).toBe(25);

      // Re-delivered entries are duplicates; a different entry at a migrated seq is refused.
      const r = await store.appendBatch({ entries: [...a.slice(20), ...feed('B', 4, 2)] });
      expect(r.entriesInserted).toBe(15 + 2);
      const err = await store.appendBatch({ entries: [entry({ author: 'A', seq: 3, label: 'another A/3' })] }).catch((e) => e);
      expect(isStoreError(err, 'STORE_CONSTRAINT')).toBe(true);
      // B's gap filled, and its feed runs on through the migrated seq 6.
      const vv = await store.versionVector('folder-1');
      expect(vv.get('A')).toEqual({ seq: 40, head: a[39].hash });
      expect(vv.get('B')).toEqual({ seq: 6, head: b[3].hash });
      expect(await collect(store.entriesRange('folder-1', 'A', 1, 40, { pageSize: 7 }))).toEqual(a);
      for (const e of a) expect(await store.entry(e.hash)).toEqual(e);
    } finally {
      await store.close();
    }
  });
});
