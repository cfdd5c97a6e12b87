/** Leaving a folder, then being offered it again: the node starts over from nothing, as a new member would. */
import * as path from 'node:path';
import * as sqlite3 from 'sqlite3';
import { Net, read, until, write } from './helpers';

/** Rows of `folder` in each table of the node's store that has a folder_id column, read beside the running service. */
async function rowsOf(dir: string, folder: string): Promise<Record<string, number>> {
  const db = new sqlite3.Database(path.join(dir, 'sidecar', 'store.sqlite'), sqlite3.OPEN_READONLY);
  const all = <T>(sql: string, args: unknown[] = []) => new Promise<T[]>((res, rej) => db.all(sql, args, (e, rows) => (e ? rej(e) : res(rows as T[]))));
  try {
    const tables = await all<{ name: string }>("SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'folder_id'");
    const out: Record<string, number> = {};
    for (const { name } of tables) out[name] = (await all<{ n: number }>(`SELECT count(*) AS n FROM ${name} WHERE folder_id = (SELECT id FROM folders WHERE folder = ?)`, [folder]))[0].n;
    return out;
  } finally {
    db.close();
  }
}

jest.setTimeout(120_000);

const net = new Net();
afterEach(() => net.cleanup());

test('a member who left is offered the folder again, accepts into a new place and syncs from scratch', async () => {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  await net.friends(alice, bob);
  const folder = await net.create(alice, 'Club', { 'one.txt': 'first' });
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'one.txt' && f.state === 'synced'), 'alice announcing');
  const a = net.root(alice, 'Club');
  const b = await net.invite(alice, folder, bob, 'writer');
  await until([alice, bob], async () => (await read(b, 'one.txt')) === 'first', 'bob receiving');

  const held = await rowsOf(bob.dir, folder);
  for (const table of ['manifests', 'entry_chunks', 'checkpoints', 'heads', 'local_files']) expect(held[table]).toBeGreaterThan(0);
  await bob.service.leaveFolder(folder);
  expect((await bob.service.folders()).map((f) => f.id)).not.toContain(folder);
  // Nothing of the folder stays in Bob's store: its log, manifests, local index, what peers said they have.
  const left = await rowsOf(bob.dir, folder);
  expect(Object.keys(left).length).toBeGreaterThanOrEqual(14);
  expect(Object.entries(left).filter(([, n]) => n > 0)).toEqual([]);
  // The files Bob had stay where they were: leaving deletes nothing of his.
  expect(await read(b, 'one.txt')).toBe('first');

  // Alice still lists Bob as a member, so her node offers him the folder again.
  await write(a, 'two.txt', 'while bob was away');
  await until([alice, bob], () => bob.service.invitations().some((i) => i.folder === folder), 'bob offered the folder again');
  const again = path.join(bob.dir, 'folders', 'Club again');
  await bob.service.acceptInvitation(folder, again);
  await until([alice, bob], async () => (await read(again, 'one.txt')) === 'first' && (await read(again, 'two.txt')) === 'while bob was away', 'bob syncing again');
  await write(again, 'three.txt', 'bob is back');
  await until([alice, bob], async () => (await read(a, 'three.txt')) === 'bob is back', 'bob writing again');
});
