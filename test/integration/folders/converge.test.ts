/** Three real nodes converge through every kind of change, and concurrent edits keep both versions everywhere. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { converged, Net, read, snapshot, until, write, type KinNode } from './helpers';

jest.setTimeout(150_000);

const net = new Net();
afterEach(() => net.cleanup());

async function threeNodes(): Promise<{ nodes: KinNode[]; folder: string; roots: string[]; all: { node: KinNode; root: string }[] }> {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  const carol = await net.node('Carol');
  await net.friends(alice, bob, carol);
  const folder = await net.create(alice, 'Team', { 'a.txt': 'alpha', 'sub/b.txt': 'beta', 'sub/deep/c.txt': 'gamma' });
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'a.txt' && f.state === 'synced'), 'alice announcing');
  const roots = [net.root(alice, 'Team'), await net.invite(alice, folder, bob, 'writer'), await net.invite(alice, folder, carol, 'writer')];
  const nodes = [alice, bob, carol];
  const all = nodes.map((node, i) => ({ node, root: roots[i] }));
  await until(nodes, () => converged(folder, all), 'first convergence');
  return { nodes, folder, roots, all };
}

test('create, edit, delete, rename, move across subfolders and empty directories on three nodes: identical files and state hash', async () => {
  const { nodes, folder, roots, all } = await threeNodes();
  const [a, b, c] = roots;
  // Each node changes something different, at once.
  await Promise.all([
    (async () => {
      await write(a, 'a.txt', 'alpha, edited by alice');
      await fsp.mkdir(path.join(a, 'empty/inner'), { recursive: true });
    })(),
    (async () => {
      await fsp.rename(path.join(b, 'sub/b.txt'), path.join(b, 'sub/b-renamed.txt'));
      await write(b, 'new/from-bob.bin', Buffer.alloc(300 * 1024, 7));
    })(),
    (async () => {
      await fsp.mkdir(path.join(c, 'moved'), { recursive: true });
      await fsp.rename(path.join(c, 'sub/deep/c.txt'), path.join(c, 'moved/c.txt'));
    })(),
  ]);
  await until(nodes, async () => (await read(c, 'a.txt')) === 'alpha, edited by alice' && (await read(a, 'moved/c.txt')) === 'gamma' && (await read(a, 'sub/b-renamed.txt')) === 'beta' && (await converged(folder, all)), 'convergence after edits, rename, move and mkdir');
  const tree = await snapshot(a);
  expect([...tree.keys()]).toEqual(expect.arrayContaining(['a.txt', 'empty', 'empty/inner', 'moved/c.txt', 'new/from-bob.bin', 'sub/b-renamed.txt']));
  expect(tree.has('sub/b.txt')).toBe(false);
  expect(tree.has('sub/deep/c.txt')).toBe(false);

  // A delete on one node deletes everywhere (and the bytes stay in the versions for undo).
  await fsp.rm(path.join(b, 'new/from-bob.bin'));
  await until(nodes, async () => (await read(a, 'new/from-bob.bin')) === undefined && (await read(c, 'new/from-bob.bin')) === undefined && (await converged(folder, all)), 'the delete reaching everyone');
  const deleted = await nodes[0].service.deleted(folder);
  expect(deleted.map((d) => d.path)).toContain('new/from-bob.bin');
});

test('the same file edited on two nodes while apart: winner and conflict copy, the same on every node', async () => {
  const { nodes, folder, roots, all } = await threeNodes();
  const [alice, bob, carol] = nodes;
  await net.cut(bob, alice);
  await net.cut(bob, carol);
  await write(roots[0], 'a.txt', 'alice’s version');
  await write(roots[1], 'a.txt', 'bob’s version');
  await until([alice], async () => (await alice.service.running(folder)!.replica.versionVector()).get(alice.fingerprint)!.seq >= 2, 'alice announcing her edit');
  await until([bob], async () => ((await bob.service.running(folder)!.replica.versionVector()).get(bob.fingerprint)?.seq ?? 0) >= 1, 'bob announcing his edit');
  await net.heal(bob, alice);
  await net.heal(bob, carol);
  // Converged with the conflict's copy written: the log knows the conflict a moment before apply has written the copy everywhere.
  const copies = async (r: string): Promise<number> => (await fsp.readdir(r)).filter((n) => n.startsWith('a.')).length;
  await until(nodes, async () => (await converged(folder, all)) && (await alice.service.conflicts(folder)).length === 1 && (await Promise.all(roots.map(copies))).every((n) => n === 2), 'convergence with one conflict and its copy');
  for (const r of roots) {
    const names = (await fsp.readdir(r)).filter((n) => n.startsWith('a.'));
    expect(names).toHaveLength(2);
    const contents = new Set(await Promise.all(names.map((n) => read(r, n))));
    expect(contents).toEqual(new Set(['alice’s version', 'bob’s version']));
  }
  const [conflict] = await bob.service.conflicts(folder);
  expect(conflict.versions.map((v) => v.authorName).sort()).toEqual(['Alice', 'Bob']);
  // Resolved on Carol's node (a writer): everyone ends with the kept version only.
  const keep = conflict.versions.find((v) => v.authorName === 'Bob')!;
  await nodes[2].service.resolveConflict(folder, 'a.txt', { keep: keep.hash });
  await until(nodes, async () => (await converged(folder, all)) && (await alice.service.conflicts(folder)).length === 0 && (await read(roots[0], 'a.txt')) === 'bob’s version', 'the resolution everywhere');
  expect((await fsp.readdir(roots[0])).filter((n) => n.startsWith('a.'))).toEqual(['a.txt']);
});
