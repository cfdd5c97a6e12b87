/** Runs the numbered SQL files in `migrations/` that a database has not run yet, each in its own transaction. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Db } from './db';
import { abortError, StoreError } from './errors';

export const DEFAULT_MIGRATIONS_DIR = path.join(__dirname, 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: string): Promise<Migration[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    throw new StoreError('STORE_MIGRATION_FAILED', `cannot read migrations in ${dir}: ${(e as Error).message}`, undefined, undefined, { cause: e });
  }
  const out: Migration[] = [];
  for (const name of names.filter((n) => n.endsWith('.sql')).sort()) {
    const m = FILE_NAME.exec(name);
    if (!m) throw new StoreError('STORE_MIGRATION_FAILED', `migration file ${name} is not named NNN_name.sql`);
    out.push({ version: Number(m[1]), name, sql: await fs.readFile(path.join(dir, name), 'utf8') });
  }
  out.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError('STORE_MIGRATION_FAILED', `migrations must be numbered 001, 002, … without gaps; found ${m.name} at position ${i + 1}`);
    }
  });
  return out;
}

/**
 * Brings the schema up to date. Each migration and its `schema_migrations` row commit together,
 * so a crash leaves either the migration fully applied and recorded, or neither.
 * Returns the versions applied by this call.
 */
export async function migrate(db: Db, migrations: readonly Migration[], now: () => number, signal?: AbortSignal): Promise<number[]> {
  await db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version       INTEGER PRIMARY KEY, -- the NNN of the file; each version applied exactly once
       name          TEXT    NOT NULL,
       applied_at_ms INTEGER NOT NULL
     )`,
  );
  const done = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  const known = migrations.length;
  const newest = Math.max(0, ...done);
  if (newest > known) {
    throw new StoreError('STORE_MIGRATION_FAILED', `database is at schema version ${newest}, newer than this build knows (${known}); refusing to open it`);
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    if (signal?.aborted) throw abortError(signal, 'migrate');
    try {
      await db.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.run('INSERT INTO schema_migrations(version, name, applied_at_ms) VALUES (?, ?, ?)', [m.version, m.name, now()]);
      });
    } catch (e) {
      const err = e as StoreError;
      // A damaged file is not a broken migration: say what it is.
      if (err.code === 'STORE_CORRUPT') throw err;
      throw new StoreError('STORE_MIGRATION_FAILED', `migration ${m.name} failed: ${err.message}`, err.sqliteCode, err.sqliteMessage, { cause: e });
    }
    applied.push(m.version);
  }
  return applied;
}
