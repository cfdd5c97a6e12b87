/**
 * Conflict copies converge: whatever order a node receives a path's entries in (one by one,
 * some together, all at once), its disk ends with the same copies, exactly one per current
 * losing file, under the names `conflicts()` lists.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EntryBody, FileMeta, HashedEntry } from '../../../plugin/src/log';
import { MemoryBlockSource, metaOf } from '../apply/helpers';
import { member } from '../replica/helpers';
import { Cluster, snapshot, type Node } from './helpers';

jest.setTimeout(120_000);

const cluster = new Cluster();
beforeAll(() => cluster.init());
beforeEach(() => {
  cluster.members = (ids) => [member(ids.alice, 'admin'), member(ids.bob, 'writer'), member(ids.carol, 'writer'), member(ids.dave, 'reader')];
});
afterEach(() => cluster.cleanup());

const T0 = Date.UTC(2026, 10, 21, 10, 15, 0);
const DIR_META: FileMeta = { type: 'dir', size: 0, mode: 0o755, mtimeMs: T0, contentHash: createHash('sha256').update('').digest('hex'), blocks: [] };

/** Every file's bytes, for any node: what the sync layer's block requests would find. */
const blocks = new MemoryBlockSource();
const fileMeta = (text: string): FileMeta => {
  blocks.addFile(Buffer.from(text));
  return metaOf(Buffer.from(text), 0o644, T0);
};

/** Fetches blocks from the shared memory source instead of a peer's folder. */
const fromMemory = (n: Node): void => {
  n.peer = { engine: { localBlocks: blocks } } as unknown as Node;
};

/** Appends one entry to `n`'s own feed (checkpointed alone, so any prefix of a feed can be handed on). */
async function append(n: Node, body: EntryBody, parents: readonly HashedEntry[] = [], wallTimeMs = T0): Promise<HashedEntry> {
  const { entries } = await n.replica.appendLocal([
    { folder: n.replica.folder, author: n.id.fingerprint, wallTimeMs, body, parents: parents.map((p) => ({ hash: p.hash, lamport: p.entry.lamport })) },
  ]);
  return entries[0];
}

/** Raises `n`'s Lamport clock by `k` with entries on paths of their own. */
async function bump(n: Node, k: number): Promise<void> {
  for (let i = 0; i < k; i++) await append(n, { op: 'put', path: `${n.name}-${i}.txt`, meta: fileMeta(`${n.name} filler ${i}`) });
}

/** Hands `to` the entries of `from`'s own feed up to seq `upTo` that it lacks, as a peer would. */
async function deliver(from: Node, to: Node, upTo: number): Promise<void> {
  const have = (await to.replica.versionVector()).get(from.id.fingerprint)?.seq ?? 0;
  if (have >= upTo) return;
  const entries: Uint8Array[] = [];
  const checkpoints: Uint8Array[] = [];
  for await (const b of from.replica.entriesFor([{ author: from.id.fingerprint, fromSeq: have + 1, toSeq: upTo }])) {
    entries.push(...b.entries);
    checkpoints.push(...b.checkpoints);
  }
  const res = await to.engine.ingest({ manifests: from.replica.manifestChain(), entries, checkpoints }, { peer: from.id.fingerprint });
  expect(res.refusals).toEqual([]);
}

/** A step of a delivery order: how far into each author's feed the receiver gets. */
type Step = ReadonlyMap<Node, number>;

/** A fresh receiving node (Dave, a reader) fed these steps; returns its folder as path → content hash. */
async function receive(steps: readonly Step[], from: Node): Promise<{ node: Node; disk: Map<string, string> }> {
  const node = await cluster.node('dave', from);
  fromMemory(node);
  for (const step of steps) {
    for (const [author, seq] of step) await deliver(author, node, seq);
    await node.engine.idle();
  }
  await node.engine.idle();
  return { node, disk: await snapshot(node.root) };
}

/** Authors' feed lengths, for a step that delivers everything. */
async function all(...authors: Node[]): Promise<Step> {
  const out = new Map<Node, number>();
  for (const a of authors) out.set(a, (await a.replica.versionVector()).get(a.id.fingerprint)?.seq ?? 0);
  return out;
}

const step = (...pairs: [Node, number][]): Step => new Map(pairs);
const copiesIn = (disk: ReadonlyMap<string, string>, stem: string): string[] => [...disk.keys()].filter((p) => p.startsWith(`${stem}.sync-conflict-`));
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Every order gives the same disk; that disk and `conflicts()` agree on every copy's name and bytes. */
async function expectSameEverywhere(orders: readonly (readonly Step[])[], from: Node): Promise<{ disk: Map<string, string>; node: Node }> {
  const results = [];
  for (const order of orders) results.push(await receive(order, from));
  const [first, ...rest] = results;
  for (const r of rest) expect([...r.disk]).toEqual([...first.disk]);
  for (const { node, disk } of results) {
    // The count status shows, kept per apply, agrees with the list read from the whole log.
    expect(node.engine.conflictCount()).toBe((await node.engine.conflicts()).length);
    const listed = (await node.engine.conflicts()).flatMap((c) => c.losers.filter((l) => l.copyPath !== undefined).map((l) => [l.copyPath!, l.contentHash] as const));
    const onDisk = [...disk.keys()].filter((p) => p.includes('.sync-conflict-'));
    expect(listed.map(([p]) => p).sort()).toEqual(onDisk);
    // Each listed copy holds its loser's bytes (one block each here: the content hash is over that block's hash).
    for (const [p, contentHash] of listed) expect(metaOf(await fsp.readFile(path.join(node.root, p)), 0o644, T0).contentHash).toBe(contentHash);
  }
  return first;
}

test('a copy of a loser its own author then superseded with another losing edit goes, on every node', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await bump(alice, 4);
  const w = await append(alice, { op: 'put', path: 'f.txt', meta: fileMeta('alice wins') });
  const x = await append(bob, { op: 'put', path: 'f.txt', meta: fileMeta('bob first') }, [], T0 + 1000);
  const x2 = await append(bob, { op: 'put', path: 'f.txt', meta: fileMeta('bob again') }, [x], T0 + 5000);
  expect(w.entry.lamport).toBeGreaterThan(x2.entry.lamport);
  const everything = await all(alice, bob);

  const { disk, node } = await expectSameEverywhere(
    [[step([alice, 5], [bob, 1]), step([bob, 2])], [step([bob, 1]), step([alice, 5]), step([bob, 2])], [everything]],
    alice,
  );
  expect(disk.get('f.txt')).toBe(sha('alice wins'));
  const copies = copiesIn(disk, 'f');
  expect(copies).toEqual(['f.sync-conflict-20261121-101505-' + bob.id.fingerprint.slice(0, 7) + '.txt']);
  expect(disk.get(copies[0])).toBe(sha('bob again'));
  expect((await node.engine.conflicts()).map((c) => c.losers.map((l) => l.hash))).toEqual([[x2.hash]]);
});

test('a copy of a loser that a deletion superseded goes, even when the loser, its edit and the deletion come at once', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await bump(alice, 4);
  await append(alice, { op: 'put', path: 'g.txt', meta: fileMeta('alice wins g') });
  const x = await append(bob, { op: 'put', path: 'g.txt', meta: fileMeta('bob g1') }, [], T0 + 1000);
  const x2 = await append(bob, { op: 'put', path: 'g.txt', meta: fileMeta('bob g2') }, [x], T0 + 2000);
  await append(bob, { op: 'delete', path: 'g.txt' }, [x2], T0 + 3000);
  const everything = await all(alice, bob);

  const { disk, node } = await expectSameEverywhere(
    [
      [step([alice, 5], [bob, 1]), step([bob, 2]), step([bob, 3])],
      [step([alice, 5], [bob, 1]), step([bob, 3])],
      [step([bob, 2]), step([alice, 5]), step([bob, 3])],
      [everything],
    ],
    alice,
  );
  expect(disk.get('g.txt')).toBe(sha('alice wins g'));
  expect(copiesIn(disk, 'g')).toEqual([]);
  expect(await node.engine.conflicts()).toEqual([]);
});

test('a node that wrote copies keeps the superseded ones as versions', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await bump(alice, 4);
  await append(alice, { op: 'put', path: 'h.txt', meta: fileMeta('alice wins h') });
  const x = await append(bob, { op: 'put', path: 'h.txt', meta: fileMeta('bob h1') }, [], T0 + 1000);
  await append(bob, { op: 'delete', path: 'h.txt' }, [x], T0 + 2000);
  const { node, disk } = await receive([step([alice, 5], [bob, 1]), step([bob, 2])], alice);
  expect(copiesIn(disk, 'h')).toEqual([]);
  const copy = `h.sync-conflict-20261121-101501-${bob.id.fingerprint.slice(0, 7)}.txt`;
  expect((await node.engine.versions(copy)).length).toBe(1);
  expect(await node.store.localFile(node.replica.folder, copy)).toBeUndefined();
});

test('two losers by one author in one second get names of their own, the same on every node', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const carol = await cluster.node('carol', alice);
  fromMemory(bob);
  const w = await append(alice, { op: 'put', path: 'k.txt', meta: fileMeta('alice k') }, [], T0);
  const x = await append(bob, { op: 'put', path: 'k.txt', meta: fileMeta('bob k first') }, [], T0 + 3000);
  await deliver(alice, bob, 1);
  // Bob's apply put Alice's version back; he edits again within the same second: based on hers.
  await append(bob, { op: 'put', path: 'k.txt', meta: fileMeta('bob k second, longer') }, [w], T0 + 3400);
  await bump(carol, 5);
  await append(carol, { op: 'put', path: 'k.txt', meta: fileMeta('carol k wins') }, [], T0 + 9000);
  const everything = await all(alice, bob, carol);

  const { disk, node } = await expectSameEverywhere(
    [
      [step([alice, 1], [bob, 1]), step([carol, 6]), step([bob, 2])],
      [step([carol, 6]), step([bob, 1]), step([alice, 1], [bob, 2])],
      [step([alice, 1]), step([bob, 2]), step([carol, 6])],
      [everything],
    ],
    alice,
  );
  expect(disk.get('k.txt')).toBe(sha('carol k wins'));
  const copies = copiesIn(disk, 'k');
  expect(copies).toHaveLength(2);
  expect(new Set(copies.map((c) => disk.get(c)))).toEqual(new Set([sha('bob k first'), sha('bob k second, longer')]));
  const [c] = await node.engine.conflicts();
  const byHash = new Map(c.losers.map((l) => [l.hash, l.copyPath]));
  expect(byHash.get(x.hash)).toBe(`k.sync-conflict-20261121-101503-${bob.id.fingerprint.slice(0, 7)}-${x.hash.slice(0, 6)}.txt`);
});

test('a directory that loses to a file has no copy, listed or written; a file that loses to a directory has one', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await bump(alice, 4);
  await append(alice, { op: 'put', path: 'd', meta: fileMeta('alice file d') });
  await append(bob, { op: 'put', path: 'd', meta: DIR_META }, [], T0 + 1000);
  await bump(bob, 6);
  await append(bob, { op: 'put', path: 'e', meta: DIR_META }, [], T0 + 2000);
  await append(alice, { op: 'put', path: 'e', meta: fileMeta('alice file e') }, [], T0 + 3000);
  const everything = await all(alice, bob);

  const { disk, node } = await expectSameEverywhere([[step([alice, 5]), step([bob, 1]), step([bob, 8]), step([alice, 6])], [everything]], alice);
  expect(disk.get('d')).toBe(sha('alice file d'));
  expect(disk.get('e')).toBe('dir');
  expect([...disk.keys()].filter((p) => p.includes('.sync-conflict-'))).toEqual([`e.sync-conflict-20261121-101503-${alice.id.fingerprint.slice(0, 7)}`]);
  const conflicts = await node.engine.conflicts();
  expect(conflicts.map((c) => [c.path, c.losers.map((l) => [l.type, l.copyPath === undefined])])).toEqual([
    ['d', [['dir', true]]],
    ['e', [['file', false]]],
  ]);
});
