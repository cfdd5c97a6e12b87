/**
 * An apply of more paths than one run takes goes in several runs (see FolderEngine.applyPaths):
 * Bob here applies at most two paths a run, so every step below spans runs, and he must still
 * end with Alice's folder: directories before their files, whole directories deleted, moves
 * whose source comes before or after their target, a file in place of a directory.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { carry, Cluster, converged, eventsDuring, holds, until, type Node } from './helpers';

jest.setTimeout(120_000);

const cluster = new Cluster();
beforeAll(() => cluster.init());
afterEach(() => cluster.cleanup());

const RUN = 2;
const write = (n: Node, p: string, data: string) => fsp.mkdir(path.dirname(path.join(n.root, p)), { recursive: true }).then(() => fsp.writeFile(path.join(n.root, p), data));

test('a burst larger than one apply run reaches Bob whole, in several runs', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice, {}, { applyRunPaths: RUN });
  alice.peer = bob;
  bob.peer = alice;
  const first: Record<string, string> = { 'a/1': 'one', 'a/2': 'two', 'a/3': 'three', 'a/d/4': 'four', 'a0.txt': 'moves later', 'm.txt': 'moves earlier', 'z/1': 'zed', 'z/2': 'zed two' };
  for (const [p, data] of Object.entries(first)) await write(alice, p, data);
  await until([alice.engine], async () => {
    for (const [p, data] of Object.entries(first)) if (!(await holds(alice, p, data))) return false;
    return true;
  }, 'alice announcing her files');
  const { events } = await eventsDuring(bob.engine, async () => {
    await carry(alice, bob);
    await until([alice.engine, bob.engine], () => converged(alice, bob), 'bob getting the first files');
  });
  const runs = events.flatMap((e) => (e.type === 'folder:applied' ? [e.paths.length] : []));
  expect(runs.length).toBeGreaterThan(3);
  expect(Math.max(...runs)).toBeLessThanOrEqual(2 * RUN);

  // A directory deleted whole, a move to a later path (source first), one to an earlier path
  // (source after the target, a new file there), and a file where a directory was.
  await fsp.rm(path.join(alice.root, 'a'), { recursive: true });
  await fsp.rename(path.join(alice.root, 'a0.txt'), path.join(alice.root, 'x.txt'));
  await fsp.mkdir(path.join(alice.root, 'b'));
  await fsp.rename(path.join(alice.root, 'm.txt'), path.join(alice.root, 'b', 'm.txt'));
  await write(alice, 'm.txt', 'new at the source');
  await fsp.rm(path.join(alice.root, 'z'), { recursive: true });
  await write(alice, 'z', 'a file now');
  await until([alice.engine], async () => (await holds(alice, 'z', 'a file now')) && (await holds(alice, 'm.txt', 'new at the source')) && (await holds(alice, 'x.txt', 'moves later')), 'alice announcing her changes');
  const second = await eventsDuring(bob.engine, async () => {
    await carry(alice, bob);
    await until([alice.engine, bob.engine], () => converged(alice, bob), 'bob getting the changes');
  });
  expect(second.events.filter((e) => e.type === 'folder:problem' || e.type === 'folder:refused')).toEqual([]);
  expect(await fsp.readFile(path.join(bob.root, 'b', 'm.txt'), 'utf8')).toBe('moves earlier');
  expect(await fsp.readFile(path.join(bob.root, 'z'), 'utf8')).toBe('a file now');
  await expect(fsp.stat(path.join(bob.root, 'a'))).rejects.toMatchObject({ code: 'ENOENT' });
});
