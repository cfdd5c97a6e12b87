import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import * as sqlite3 from 'sqlite3';
import { Store, isStoreError, type EntryRecord } from '../../../plugin/src/store';
import { MAX_CHUNK_ENTRIES } from '../../../plugin/src/store/chunks';
import { DEFAULT_MIGRATIONS_DIR } from '../../../plugin/src/store/migrate';
import { storeContract } from './contract';
import { entry, feed, tempDir } from './records';

storeContract('sqlite', (file) => Store.open(file));

function rawAll<T>(file: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, (e, rows: T[]) => db.close(() => (e ? reject(e) : resolve(rows))));
    });
  });
}

/** Copies the shipped migrations into `into`; returns how many there are. */
function copyRealMigrations(into: string): number {
  const real = fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  for (const f of real) fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(into, f));
  return real.length;
}

describe('sqlite store specifics', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('kinfolder-sqlite-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the file is in WAL mode and migrations are recorded once', async () => {
    const file = path.join(dir, 's.sqlite');
    const store = await Store.open(file, { now: () => 1234 });
    await store.close();
    await (await Store.open(file)).close();
    expect(await rawAll(file, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    const real = fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
    expect(real[0]).toBe('001_init.sql');
    expect(await rawAll(file, 'SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY version')).toEqual(
      real.map((name, i) => ({ version: i + 1, name, applied_at_ms: 1234 })),
    );
  });

  test('closing checkpoints the WAL into the file and removes it', async () => {
    const file = path.join(dir, 's.sqlite');
    const store = await Store.open(file);
    for (let b = 0; b < 4; b++) await store.appendBatch({ entries: feed(`A${b}`, 1, 3000) });
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    await store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const again = await Store.open(file);
    expect((await again.versionVector('folder-1')).size).toBe(4);
    await again.close();
  });

  test('entries stay findable by hash across merges of the two-level hash index, and after reopening', async () => {
    const file = path.join(dir, 's.sqlite');
    let store = await Store.open(file, { recentHashLimit: 100 });
    const all = feed('A', 1, 330);
    for (let i = 0; i < all.length; i += 60) await store.appendBatch({ entries: all.slice(i, i + 60) });
    await store.appendBatch({ entries: all.slice(0, 60) }); // re-delivered duplicates
    for (const e of all) expect((await store.entry(e.hash))?.seq).toBe(e.seq);
    await store.close();
    const levels = await rawAll<{ big: number; recent: number }>(
      file,
      'SELECT (SELECT count(*) FROM entry_hashes) AS big, (SELECT count(*) FROM entry_hashes_recent) AS recent',
    );
    // Merged at least once, and the small level holds less than the limit plus a batch.
    expect(levels[0].big).toBeGreaterThanOrEqual(100);
    expect(levels[0].recent).toBeLessThan(160);
    expect(levels[0].big + levels[0].recent).toBeGreaterThanOrEqual(330);
    store = await Store.open(file, { recentHashLimit: 100 });
    for (const e of [all[0], all[150], all[329]]) expect((await store.entry(e.hash))?.hash).toBe(e.hash);
    await store.close();
  });

  test('chunks: any delivery of a feed (out of order, overlapping, re-delivered, across chunk sizes) reads back whole (property)', async () => {
    const file = path.join(dir, 's.sqlite');
    const store = await Store.open(file);
    const total = 2 * MAX_CHUNK_ENTRIES + 37;
    // Batches are seq ranges, possibly overlapping what came before, delivered in any order.
    const arb = fc.array(fc.tuple(fc.integer({ min: 1, max: total }), fc.integer({ min: 1, max: MAX_CHUNK_ENTRIES + 60 }), fc.boolean()), { minLength: 1, maxLength: 12 });
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(arb, async (ranges) => {
          const folder = `chunks-${run++}`;
          const mine = feed('A', 1, total, folder);
          let inserted = 0;
          const have = new Set<number>();
          for (const [from, count, reversed] of ranges) {
            const batch = mine.slice(from - 1, from - 1 + count);
            if (reversed) batch.reverse();
            inserted += (await store.appendBatch({ entries: batch })).entriesInserted;
            for (const e of batch) have.add(e.seq);
          }
          // The hashes alone (feedHashes) are those of exactly the stored seqs.
          expect(await store.feedHashes!(folder, 'A', 1, total)).toEqual(new Map(mine.filter((e) => have.has(e.seq)).map((e) => [e.seq, e.hash])));
          // Then everything, once more: fills the gaps, the rest are duplicates.
          inserted += (await store.appendBatch({ entries: mine })).entriesInserted;
          const [lo, hi] = [5, MAX_CHUNK_ENTRIES + 3];
          expect(await store.feedHashes!(folder, 'A', lo, hi)).toEqual(new Map(mine.slice(lo - 1, hi).map((e) => [e.seq, e.hash])));
          expect(await store.feedHashes!(folder, 'nobody', 1, total)).toEqual(new Map());
          expect(inserted).toBe(total);
          expect(have.size).toBeLessThanOrEqual(total);
          const back: EntryRecord[] = [];
          for await (const e of store.entriesRange(folder, 'A', 1, total, { pageSize: 97 })) back.push(e);
          expect(back).toEqual(mine);
          expect((await store.versionVector(folder)).get('A')).toEqual({ seq: total, head: mine[total - 1].hash });
          for (const e of [mine[0], mine[MAX_CHUNK_ENTRIES - 1], mine[MAX_CHUNK_ENTRIES], mine[total - 1]]) expect(await store.entry(e.hash)).toEqual(e);
        }),
        { numRuns: 15 },
      );
    } finally {
      await store.close();
    }
  });

  test('chunks: overlapping batches submitted at once (one group commit) store each entry once, and a failing one in the group changes nothing', async () => {
    const store = await Store.open(path.join(dir, 's.sqlite'));
    try {
      const all = feed('A', 1, 700);
      const b1 = entry({ author: 'B', seq: 1 });
      // A's chunk goes in before B's clash refuses the batch: the rolled-back chunk must not hide A's real end.
      const clash = entry({ author: 'B', seq: 1, label: 'not B/1' });
      const results = await Promise.allSettled([
        store.appendBatch({ entries: [...all.slice(0, 300), b1] }),
        store.appendBatch({ entries: all.slice(200, 500) }),
        store.appendBatch({ entries: [...all.slice(600, 649), clash] }),
        store.appendBatch({ entries: all.slice(450, 700) }),
        store.appendBatch({ entries: all.slice(100, 250).reverse() }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      const inserted = results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.entriesInserted : 0), 0);
      expect(inserted).toBe(701);
      expect(await store.entry(clash.hash)).toBeUndefined();
      const back: EntryRecord[] = [];
      for await (const e of store.entriesRange('folder-1', 'A', 1, 700, { pageSize: 333 })) back.push(e);
      expect(back).toEqual(all);
      expect((await store.versionVector('folder-1')).get('A')).toEqual({ seq: 700, head: all[699].hash });
    } finally {
      await store.close();
    }
  });

  test('chunks: a different entry inside a stored chunk refuses the batch, also mid-run', async () => {
    const file = path.join(dir, 's.sqlite');
    const store = await Store.open(file);
    try {
      const all = feed('A', 1, 300);
      await store.appendBatch({ entries: all.slice(0, 200) });
      const other = entry({ author: 'A', seq: 150, label: 'not the stored A/150' });
      const batch = [...all.slice(140, 149), other, ...all.slice(150, 300)];
      const err = await store.appendBatch({ entries: batch }).catch((e) => e);
      expect(isStoreError(err, 'STORE_CONSTRAINT')).toBe(true);
      expect(err.message).toContain(all[149].hash);
      expect(await store.entry(all[250].hash)).toBeUndefined();
      expect((await store.versionVector('folder-1')).get('A')?.seq).toBe(200);
      // Two different entries at one seq within a batch are refused as well.
      const err2 = await store.appendBatch({ entries: [all[250], entry({ author: 'A', seq: 251, label: 'x' })] }).catch((e) => e);
      expect(isStoreError(err2, 'STORE_CONSTRAINT')).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a file that is not a database is STORE_CORRUPT, with sqlite’s message', async () => {
    const file = path.join(dir, 'garbage.sqlite');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const err = await Store.open(file).catch((e) => e);
    expect(isStoreError(err, 'STORE_CORRUPT')).toBe(true);
    expect(err.sqliteCode).toBe('SQLITE_NOTADB');
    expect(err.sqliteMessage).toMatch(/not a database/);
  });

  test('a database whose pages were overwritten is STORE_CORRUPT', async () => {
    const file = path.join(dir, 's.sqlite');
    const store = await Store.open(file);
    await store.appendBatch({ entries: feed('A', 1, 2000) });
    await store.close();
    // Keep page 1 (header and schema root), scribble over everything after it.
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
    fs.closeSync(fd);
    const err = await (async () => {
      const again = await Store.open(file);
      try {
        for await (const _ of again.entriesRange('folder-1', 'A', 1, 2000)) void _;
      } finally {
        await again.close();
      }
    })().catch((e) => e);
    expect(isStoreError(err, 'STORE_CORRUPT')).toBe(true);
    expect(err.sqliteMessage).toMatch(/malformed|corrupt/i);
  });

  test('a failing migration rolls back entirely and is not recorded', async () => {
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    const n = copyRealMigrations(migrations);
    const broken = `${String(n + 1).padStart(3, '0')}_broken.sql`;
    fs.writeFileSync(path.join(migrations, broken), 'CREATE TABLE half_done (a INTEGER);\nINSERT INTO no_such_table VALUES (1);\n');
    const file = path.join(dir, 's.sqlite');
    const err = await Store.open(file, { migrationsDir: migrations }).catch((e) => e);
    expect(isStoreError(err, 'STORE_MIGRATION_FAILED')).toBe(true);
    expect(err.message).toContain(broken);
    expect(err.sqliteMessage).toMatch(/no such table: no_such_table/);
    expect(await rawAll(file, "SELECT name FROM sqlite_master WHERE name = 'half_done'")).toEqual([]);
    expect(await rawAll(file, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual(Array.from({ length: n }, (_, i) => ({ version: i + 1 })));
    // The good migrations stay, and the store opens with them.
    const store = await Store.open(file);
    expect(store.migrationsApplied).toEqual([]);
    await store.close();
  });

  test('a database from a newer build is refused', async () => {
    const file = path.join(dir, 's.sqlite');
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    const n = copyRealMigrations(migrations);
    fs.writeFileSync(path.join(migrations, `${String(n + 1).padStart(3, '0')}_more.sql`), 'CREATE TABLE more (a INTEGER);');
    await (await Store.open(file, { migrationsDir: migrations })).close();
    const err = await Store.open(file).catch((e) => e);
    expect(isStoreError(err, 'STORE_MIGRATION_FAILED')).toBe(true);
    expect(err.message).toMatch(new RegExp(`schema version ${n + 1}`));
  });

  test('misnumbered migration files are refused before touching the database', async () => {
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    fs.writeFileSync(path.join(migrations, '002_gap.sql'), 'SELECT 1;');
    const file = path.join(dir, 's.sqlite');
    const err = await Store.open(file, { migrationsDir: migrations }).catch((e) => e);
    expect(isStoreError(err, 'STORE_MIGRATION_FAILED')).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('open honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await Store.open(path.join(dir, 's.sqlite'), { signal: ac.signal }).catch((e) => e);
    expect(isStoreError(err, 'STORE_ABORTED')).toBe(true);
  });
});
