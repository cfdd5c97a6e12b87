// The promise wrapper: serialised transactions, rollback, lazy paging.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Db } from '../../../plugin/src/store/db';
import { isStoreError } from '../../../plugin/src/store';
import { tempDir } from './records';

describe('Db', () => {
  let dir: string;
  let db: Db;
  beforeEach(async () => {
    dir = tempDir('kinfolder-db-');
    db = await Db.open(path.join(dir, 'db.sqlite'));
    await db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);');
  });
  afterEach(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('two transactions awaiting in turn never interleave their statements', async () => {
    const log: string[] = [];
    const body = (name: string, base: number) => async (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => {
      for (let i = 0; i < 5; i++) {
        log.push(name);
        await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [base + i, name]);
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all([db.transaction(body('a', 0)), db.transaction(body('b', 100)), db.run("INSERT INTO t (k, v) VALUES (200, 'plain')")]);
    expect(log.join('')).toBe('aaaaabbbbb');
    expect((await db.all<{ v: string }>('SELECT v FROM t ORDER BY k')).map((r) => r.v)).toEqual([...'aaaaabbbbb', 'plain']);
  });

  test('a throwing body rolls back everything it wrote, and the next transaction runs normally', async () => {
    const err = await db
      .transaction(async (tx) => {
        await tx.run("INSERT INTO t (k, v) VALUES (1, 'x')");
        throw new Error('boom');
      })
      .catch((e) => e);
    expect(err.message).toBe('boom');
    await db.transaction((tx) => tx.run("INSERT INTO t (k, v) VALUES (2, 'y')"));
    expect(await db.all('SELECT k FROM t')).toEqual([{ k: 2 }]);
  });

  test('afterCommit hooks run on commit only', async () => {
    const ran: string[] = [];
    await db.transaction(async (tx) => tx.afterCommit(() => ran.push('committed')));
    await db
      .transaction(async (tx) => {
        tx.afterCommit(() => ran.push('rolled back'));
        await tx.run('INSERT INTO t (k, v) VALUES (1, NULL)');
      })
      .catch((e) => expect(isStoreError(e, 'STORE_CONSTRAINT')).toBe(true));
    expect(ran).toEqual(['committed']);
  });

  test('a failing savepoint undoes only its own writes and hooks', async () => {
    const ran: string[] = [];
    await db.transaction(async (tx) => {
      await tx.run("INSERT INTO t (k, v) VALUES (1, 'kept')");
      const err = await tx
        .savepoint(async (sp) => {
          sp.afterCommit(() => ran.push('inner'));
          await sp.run("INSERT INTO t (k, v) VALUES (2, 'undone')");
          await sp.run('INSERT INTO t (k, v) VALUES (3, NULL)');
        })
        .catch((e) => e);
      expect(isStoreError(err, 'STORE_CONSTRAINT')).toBe(true);
      await tx.savepoint(async (sp) => {
        sp.afterCommit(() => ran.push('second'));
        await sp.run("INSERT INTO t (k, v) VALUES (4, 'also kept')");
      });
    });
    expect(await db.all('SELECT k FROM t ORDER BY k')).toEqual([{ k: 1 }, { k: 4 }]);
    expect(ran).toEqual(['second']);
  });

  test('a transaction handle is dead once its transaction is over', async () => {
    let leaked: Parameters<Parameters<Db['transaction']>[0]>[0] | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.run("INSERT INTO t (k, v) VALUES (1, 'late')")).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
    expect(await db.all('SELECT k FROM t')).toEqual([]);
  });

  test('each fetches the next page only when the consumer asks for it', async () => {
    await db.transaction(async (tx) => {
      for (let k = 1; k <= 25; k++) await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [k, `v${k}`]);
    });
    const pagesAsked: Array<number | undefined> = [];
    const it = db.each<{ k: number }>(
      (after, limit) => {
        pagesAsked.push(after?.k);
        return ['SELECT k FROM t WHERE k > ? ORDER BY k LIMIT ?', [after?.k ?? 0, limit]];
      },
      { pageSize: 10 },
    );
    const seen: number[] = [];
    for await (const r of it) {
      seen.push(r.k);
      if (r.k === 10) expect(pagesAsked).toEqual([undefined]);
      if (r.k === 11) expect(pagesAsked).toEqual([undefined, 10]);
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(pagesAsked).toEqual([undefined, 10, 20]);
  });

  test('sqlite errors carry a code and sqlite’s own message', async () => {
    const err = await db.run('INSERT INTO nowhere VALUES (1)').catch((e) => e);
    expect(isStoreError(err, 'STORE_IO')).toBe(true);
    expect(err.sqliteCode).toBe('SQLITE_ERROR');
    expect(err.sqliteMessage).toMatch(/no such table: nowhere/);
  });
});
