import { Checkpointer, DEFAULT_CHECKPOINT_EVERY } from '../../../plugin/src/store/checkpointer';
import type { Db } from '../../../plugin/src/store/db';

// The background checkpoint runs once per `everyCommits` commits, not after each one.
describe('Checkpointer', () => {
  const fakeDb = () => {
    const calls: string[] = [];
    const db = { get: async (sql: string) => void calls.push(sql), close: async () => undefined } as unknown as Db;
    return { db, calls };
  };

  it('checkpoints on every Nth commit', async () => {
    const { db, calls } = fakeDb();
    const c = new Checkpointer(db, 4);
    for (let i = 0; i < 3; i++) c.request();
    await c.close();
    expect(calls).toEqual([]);
    const { db: db2, calls: calls2 } = fakeDb();
    const c2 = new Checkpointer(db2, 4);
    for (let i = 0; i < 9; i++) {
      c2.request();
      await new Promise((r) => setImmediate(r)); // let a started checkpoint finish before the next commit
    }
    await c2.close();
    expect(calls2).toEqual(['PRAGMA wal_checkpoint(PASSIVE)', 'PRAGMA wal_checkpoint(PASSIVE)']);
  });

  it('checkpoints sooner after commits that stored many entries', async () => {
    const { db, calls } = fakeDb();
    const c = new Checkpointer(db, 100, 1000);
    c.stored(600);
    c.request();
    expect(calls).toEqual([]);
    c.stored(400);
    c.request();
    await c.close();
    expect(calls).toEqual(['PRAGMA wal_checkpoint(PASSIVE)']);
  });

  it('defaults to more than one commit per checkpoint', () => {
    expect(DEFAULT_CHECKPOINT_EVERY).toBeGreaterThan(1);
  });
});
