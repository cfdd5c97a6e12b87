import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sqlite3 from 'sqlite3';
import { Store, isStoreError } from '../../../plugin/src/store';
import { DEFAULT_MIGRATIONS_DIR } from '../../../plugin/src/store/migrate';
import { storeContract } from './contract';
import { feed, tempDir } from './records';

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
