import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { decodeEntry } from '../../../plugin/src/log';
import { encodeSignedManifest, nextVersion, signManifest } from '../../../plugin/src/acl';
import { hostSigner, member } from '../replica/helpers';
import { carry, Cluster, converged, eventsDuring, exchange, holds, liveAt, snapshot, until, type Node } from './helpers';

jest.setTimeout(120_000);

const cluster = new Cluster();
beforeAll(() => cluster.init());
afterEach(() => cluster.cleanup());

const write = (n: Node, p: string, data: string | Buffer) => fsp.mkdir(path.dirname(path.join(n.root, p)), { recursive: true }).then(() => fsp.writeFile(path.join(n.root, p), data));
const read = (n: Node, p: string) => fsp.readFile(path.join(n.root, p), 'utf8');
const engines = (...ns: Node[]) => ns.map((n) => n.engine);

/** Alice and Bob, both started, with `files` made on Alice and carried to Bob. */
async function pair(files: Record<string, string> = {}, bobScan?: { quietMs?: number; maxWaitMs?: number }): Promise<{ alice: Node; bob: Node }> {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice, bobScan);
  alice.peer = bob;
  bob.peer = alice;
  for (const [p, data] of Object.entries(files)) await write(alice, p, data);
  await until(engines(alice), async () => {
    for (const [p, data] of Object.entries(files)) if (!(await holds(alice, p, data))) return false;
    return true;
  }, 'alice announcing her files');
  if (Object.keys(files).length > 0) {
    await carry(alice, bob);
    await until(engines(alice, bob), () => converged(alice, bob), 'bob getting alice’s files');
  }
  return { alice, bob };
}

/** The conflict copy beside `p` on a node's disk (the one file named `stem.sync-conflict-*`). */
async function copiesOf(n: Node, p: string): Promise<string[]> {
  const dir = path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p);
  const stem = path.posix.basename(p).replace(/\.[^.]*$/, '');
  const names = await fsp.readdir(path.join(n.root, dir));
  return names.filter((x) => x.startsWith(`${stem}.sync-conflict-`)).map((x) => (dir ? `${dir}/${x}` : x));
}

test('create, edit, delete, rename, move across subfolders and an empty directory reach Bob byte for byte', async () => {
  const big = randomBytes(3 * 1024 * 1024);
  const { alice, bob } = await pair({ 'a.txt': 'first', 'sub/b.txt': 'bee', 'c.txt': 'sea', 'd.txt': 'dee' });
  await write(alice, 'big.bin', big);
  await until(engines(alice), () => holds(alice, 'big.bin', big), 'big.bin announced');

  await write(alice, 'a.txt', 'first, then edited');
  await fsp.rm(path.join(alice.root, 'd.txt'));
  await fsp.rename(path.join(alice.root, 'c.txt'), path.join(alice.root, 'c2.txt'));
  await fsp.mkdir(path.join(alice.root, 'sub', 'deep'), { recursive: true });
  await fsp.rename(path.join(alice.root, 'big.bin'), path.join(alice.root, 'sub', 'deep', 'big.bin'));
  await fsp.mkdir(path.join(alice.root, 'empty'));
  await until(
    engines(alice),
    async () =>
      (await holds(alice, 'a.txt', 'first, then edited')) &&
      (await liveAt(alice, 'd.txt', false)) &&
      (await holds(alice, 'c2.txt', 'sea')) &&
      (await liveAt(alice, 'c.txt', false)) &&
      (await holds(alice, 'sub/deep/big.bin', big)) &&
      (await liveAt(alice, 'big.bin', false)) &&
      (await liveAt(alice, 'empty')),
    'alice announcing the edits',
  );
  // The rename and the move are one entry each, not a delete and a put.
  const moveOf = async (p: string) => decodeEntry((await alice.store.entry((await alice.replica.state.resolve(p))!.winner.hash))!.bytes).body.op;
  expect(await moveOf('c2.txt')).toBe('move');
  expect(await moveOf('sub/deep/big.bin')).toBe('move');

  await carry(alice, bob);
  await until(engines(alice, bob), () => converged(alice, bob), 'bob converging');
  const snap = await snapshot(bob.root);
  expect([...snap.keys()]).toEqual(['a.txt', 'c2.txt', 'empty', 'sub', 'sub/b.txt', 'sub/deep', 'sub/deep/big.bin']);
  expect(Buffer.compare(await fsp.readFile(path.join(bob.root, 'sub/deep/big.bin')), big)).toBe(0);
  expect(await read(bob, 'a.txt')).toBe('first, then edited');
  expect(await bob.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());
  // The replaced and deleted files were kept on Bob's side.
  expect((await bob.engine.versions('a.txt')).length).toBe(1);
  expect((await bob.engine.deleted()).map((d) => d.path)).toEqual(['d.txt']);
  // Bob's scanner did not announce what apply wrote: his feed is empty.
  await bob.engine.idle();
  expect((await bob.replica.versionVector()).has(bob.id.fingerprint)).toBe(false);
});

test('concurrent edits of one file: the same winner at the path on both sides, the loser as a conflict copy, no bytes lost', async () => {
  const { alice, bob } = await pair({ 'notes.txt': 'v1' });
  await write(alice, 'notes.txt', 'alice was here');
  await write(bob, 'notes.txt', 'bob was here, longer');
  await until(engines(alice), () => holds(alice, 'notes.txt', 'alice was here'), 'alice announcing');
  await until(engines(bob), () => holds(bob, 'notes.txt', 'bob was here, longer'), 'bob announcing');
  await exchange(alice, bob);
  await until(engines(alice, bob), async () => (await converged(alice, bob)) && (await copiesOf(alice, 'notes.txt')).length === 1, 'both converging on a conflict');

  const winnerA = await read(alice, 'notes.txt');
  expect(await read(bob, 'notes.txt')).toBe(winnerA);
  const [copy] = await copiesOf(bob, 'notes.txt');
  expect(await copiesOf(alice, 'notes.txt')).toEqual([copy]);
  expect(new Set([winnerA, await read(bob, copy)])).toEqual(new Set(['alice was here', 'bob was here, longer']));
  for (const n of [alice, bob]) {
    const conflicts = await n.engine.conflicts();
    expect(conflicts.map((c) => c.path)).toEqual(['notes.txt']);
    expect(conflicts[0].losers).toHaveLength(1);
    expect(conflicts[0].losers[0].copyPath).toBe(copy);
    expect(new Set([conflicts[0].winner.author, conflicts[0].losers[0].author])).toEqual(new Set([alice.id.fingerprint, bob.id.fingerprint]));
  }
});

test('an edit that waited for its parent from another feed is applied once that feed arrives', async () => {
  cluster.members = (ids) => [member(ids.alice, 'admin'), member(ids.bob, 'writer'), member(ids.carol, 'writer')];
  const { alice, bob } = await pair({ 'notes.txt': 'v1' });
  const carol = await cluster.node('carol', alice);
  carol.peer = bob;
  await write(bob, 'notes.txt', 'bob was here');
  await until(engines(bob), () => holds(bob, 'notes.txt', 'bob was here'), 'bob announcing');
  // Bob's feed alone: his edit names Alice's entry, which Carol does not have yet.
  const { ranges } = await bob.replica.missingFor(await carol.replica.versionVector());
  const entries: Uint8Array[] = [];
  const checkpoints: Uint8Array[] = [];
  for await (const b of bob.replica.entriesFor(ranges.filter((r) => r.author === bob.id.fingerprint))) {
    entries.push(...b.entries);
    checkpoints.push(...b.checkpoints);
  }
  // One entry, or two when the scanner saw the write half done (the file truncated, then written).
  expect(entries.length).toBeGreaterThanOrEqual(1);
  const first = await carol.engine.ingest({ entries, checkpoints });
  expect([first.accepted, first.entries.length, first.deferred.length]).toEqual([0, 0, entries.length]);
  const second = await carry(alice, carol);
  expect(second.entries.map((e) => e.entry.author)).toEqual([alice.id.fingerprint, ...entries.map(() => bob.id.fingerprint)]);
  await until(engines(carol), () => holds(carol, 'notes.txt', 'bob was here'), 'carol applying bob’s edit');
});

test('a local edit made while a remote version arrives becomes a conflict on both sides; Bob’s bytes are kept', async () => {
  // Bob's scanner waits long enough for the remote version to arrive before it announces his edit.
  const { alice, bob } = await pair({ 'plan.txt': 'v1' }, { quietMs: 1500, maxWaitMs: 3000 });
  const [e1] = await bob.store.heads(bob.replica.folder, 'plan.txt');
  await write(alice, 'plan.txt', 'v2 from alice');
  await until(engines(alice), () => holds(alice, 'plan.txt', 'v2 from alice'), 'alice announcing v2');

  await write(bob, 'plan.txt', 'bob edits v1 locally');
  const { events } = await eventsDuring(bob.engine, () => carry(alice, bob));
  // Apply refused to overwrite the unannounced edit.
  expect(events).toContainEqual({ type: 'folder:conflict', path: 'plan.txt', kind: 'local-changed' });
  expect(await read(bob, 'plan.txt')).toBe('bob edits v1 locally');

  // The edit is announced based on v1, not on alice's v2: two heads.
  await until(engines(bob), async () => (await bob.replica.versionVector()).has(bob.id.fingerprint) && (await copiesOf(bob, 'plan.txt')).length === 1, 'bob announcing his edit as a conflict');
  const bobs = (await bob.store.heads(bob.replica.folder, 'plan.txt')).find((h) => h.author === bob.id.fingerprint)!;
  expect((await bob.store.entry(bobs.hash))!.parents).toEqual([e1.hash]);
  expect(await bob.store.heads(bob.replica.folder, 'plan.txt')).toHaveLength(2);

  await carry(bob, alice);
  await until(engines(alice, bob), async () => (await converged(alice, bob)) && (await copiesOf(alice, 'plan.txt')).length === 1, 'both showing the conflict');
  for (const n of [alice, bob]) {
    const texts = new Set([await read(n, 'plan.txt'), await read(n, (await copiesOf(n, 'plan.txt'))[0])]);
    expect(texts).toEqual(new Set(['v2 from alice', 'bob edits v1 locally']));
    expect((await n.engine.conflicts()).map((c) => c.path)).toEqual(['plan.txt']);
  }
});

test('the base survives a restart: an edit made while stopped, after a remote version was stored but not applied, is a conflict', async () => {
  const { alice, bob } = await pair({ 'offline.txt': 'v1' });
  const [e1] = await bob.store.heads(bob.replica.folder, 'offline.txt');
  await write(alice, 'offline.txt', 'v2 from alice');
  await until(engines(alice), () => holds(alice, 'offline.txt', 'v2 from alice'), 'alice announcing v2');
  await bob.engine.stop();
  // Stored by the replica, never applied (as if the engine had died right after the ingest).
  const { ranges } = await alice.replica.missingFor(await bob.replica.versionVector());
  for await (const b of alice.replica.entriesFor(ranges)) expect((await bob.replica.ingest({ entries: b.entries, checkpoints: b.checkpoints })).accepted).toBe(1);
  await write(bob, 'offline.txt', 'bob edited v1 while stopped');
  bob.engine = await bob.startEngine();
  // The start-up rescan announced the edit, based on v1; the apply after it made the conflict.
  const heads = await bob.store.heads(bob.replica.folder, 'offline.txt');
  expect(heads).toHaveLength(2);
  const mine = heads.find((h) => h.author === bob.id.fingerprint)!;
  expect((await bob.store.entry(mine.hash))!.parents).toEqual([e1.hash]);
  await carry(bob, alice);
  await until(engines(alice, bob), async () => (await converged(alice, bob)) && (await copiesOf(alice, 'offline.txt')).length === 1, 'both showing the conflict');
  const texts = new Set([await read(bob, 'offline.txt'), await read(bob, (await copiesOf(bob, 'offline.txt'))[0])]);
  expect(texts).toEqual(new Set(['v2 from alice', 'bob edited v1 while stopped']));
});

test('a file Bob deleted is restored on Alice (from the version her apply kept) and comes back on Bob', async () => {
  const { alice, bob } = await pair({ 'keep/r.txt': 'precious bytes' });
  await fsp.rm(path.join(bob.root, 'keep/r.txt'));
  await until(engines(bob), () => liveAt(bob, 'keep/r.txt', false), 'bob announcing the delete');
  // A delete made by the user is not kept; the one apply makes is.
  expect(await bob.engine.deleted()).toEqual([]);
  await carry(bob, alice);
  await until(engines(alice, bob), () => converged(alice, bob), 'alice deleting');
  await expect(fsp.stat(path.join(alice.root, 'keep/r.txt'))).rejects.toThrow();

  const deleted = await alice.engine.deleted();
  expect(deleted.map((d) => d.path)).toEqual(['keep/r.txt']);
  expect((await alice.engine.versions('keep/r.txt')).map((v) => v.version)).toEqual([deleted[0].version]);
  const [deletion] = await alice.store.heads(alice.replica.folder, 'keep/r.txt');
  const hash = await alice.engine.restore('keep/r.txt', deleted[0].version);
  expect(await read(alice, 'keep/r.txt')).toBe('precious bytes');
  expect(await alice.engine.deleted()).toEqual([]);
  await carry(alice, bob);
  await until(engines(alice, bob), () => converged(alice, bob), 'bob getting it back');
  expect(await read(bob, 'keep/r.txt')).toBe('precious bytes');
  expect((await bob.replica.state.resolve('keep/r.txt'))!.winner.hash).toBe(hash);
  // The restore superseded the delete; the scanner did not announce the restored file again.
  await alice.engine.idle();
  expect((await alice.store.heads(alice.replica.folder, 'keep/r.txt')).map((h) => h.hash)).toEqual([hash]);
  expect((await alice.store.entry(hash))!.parents).toEqual([deletion.hash]);
});

async function conflictOn(alice: Node, bob: Node, p: string): Promise<{ aliceText: string; bobText: string }> {
  const aliceText = `alice’s take on ${p}`;
  const bobText = `bob’s longer take on ${p}`;
  await write(alice, p, aliceText);
  await write(bob, p, bobText);
  await until(engines(alice), () => holds(alice, p, aliceText), 'alice announcing');
  await until(engines(bob), () => holds(bob, p, bobText), 'bob announcing');
  await exchange(alice, bob);
  await until(engines(alice, bob), async () => (await converged(alice, bob)) && (await copiesOf(bob, p)).length === 1, `a conflict on ${p}`);
  return { aliceText, bobText };
}

test('resolving a conflict by keeping the loser converges on both sides and removes the copies', async () => {
  const { alice, bob } = await pair({ 'doc.txt': 'v1' });
  await conflictOn(alice, bob, 'doc.txt');
  const [c] = await alice.engine.conflicts();
  const loserText = await read(alice, c.losers[0].copyPath!);
  await expect(alice.engine.resolve('other.txt', { keep: 'winner' })).rejects.toMatchObject({ code: 'FOLDER_NO_CONFLICT' });
  await expect(alice.engine.resolve('doc.txt', { keep: 'f'.repeat(64) })).rejects.toMatchObject({ code: 'FOLDER_UNKNOWN_VERSION' });

  await alice.engine.resolve('doc.txt', { keep: c.losers[0].hash });
  expect(await read(alice, 'doc.txt')).toBe(loserText);
  expect(await copiesOf(alice, 'doc.txt')).toEqual([]);
  await carry(alice, bob);
  await until(engines(alice, bob), async () => (await converged(alice, bob)) && (await copiesOf(bob, 'doc.txt')).length === 0, 'bob taking the resolution');
  expect(await read(bob, 'doc.txt')).toBe(loserText);
  expect(await bob.engine.conflicts()).toEqual([]);
  expect(await alice.engine.conflicts()).toEqual([]);
});

test('resolving a conflict by keeping both: the loser becomes a file of its own, on both sides', async () => {
  const { alice, bob } = await pair({ 'both.txt': 'v1' });
  await conflictOn(alice, bob, 'both.txt');
  const [c] = await bob.engine.conflicts();
  const copy = c.losers[0].copyPath!;
  const winnerText = await read(bob, 'both.txt');
  const loserText = await read(bob, copy);

  await bob.engine.resolve('both.txt', { keep: 'both' });
  await carry(bob, alice);
  await until(engines(alice, bob), async () => (await converged(alice, bob)) && (await alice.engine.conflicts()).length === 0, 'alice taking the resolution');
  for (const n of [alice, bob]) {
    expect(await read(n, 'both.txt')).toBe(winnerText);
    expect(await read(n, copy)).toBe(loserText);
    expect(await liveAt(n, copy)).toBe(true);
    expect(await n.engine.conflicts()).toEqual([]);
  }
});

test('folder-wide ignore rules from the manifest reach every member’s scanner', async () => {
  const { alice, bob } = await pair({ 'seed.txt': 'seed' });
  const head = alice.replica.manifest();
  const next = nextVersion(head.manifest, alice.id.fingerprint, Date.now(), { ignoreRules: ['*.log'] });
  const signed = encodeSignedManifest(await signManifest(hostSigner(alice.id), next));
  expect((await alice.engine.ingest({ manifests: [signed] })).manifestsApplied).toHaveLength(1);
  await carry(alice, bob);
  expect(bob.replica.manifest().manifest.ignoreRules).toEqual(['*.log']);

  await write(bob, 'debug.log', 'noise');
  await write(bob, 'keep.txt', 'signal');
  await until(engines(bob), () => holds(bob, 'keep.txt', 'signal'), 'bob announcing keep.txt');
  expect(await bob.store.heads(bob.replica.folder, 'debug.log')).toEqual([]);
  await write(alice, 'alice.log', 'noise');
  await write(alice, 'alice.txt', 'signal');
  await until(engines(alice), () => holds(alice, 'alice.txt', 'signal'), 'alice announcing alice.txt');
  expect(await alice.store.heads(alice.replica.folder, 'alice.log')).toEqual([]);
});

test('300 new files on Alice: a few signed batches, carried and applied on Bob (timings logged)', async () => {
  const { alice, bob } = await pair();
  const files = Array.from({ length: 300 }, (_, i) => [`many/d${i % 10}/f${i}.bin`, randomBytes(4096)] as const);
  const t0 = performance.now();
  for (const [p, data] of files) await write(alice, p, data);
  const tWritten = performance.now();
  await until(engines(alice), async () => (await alice.replica.versionVector()).get(alice.id.fingerprint)?.seq === 300 + 11, 'alice announcing 300 files and 11 directories');
  const tAnnounced = performance.now();
  // A checkpoint per burst, not per file: a handful of signatures (the writes span a few quiet periods).
  const checkpoints = (await alice.store.checkpointsCovering(alice.replica.folder, alice.id.fingerprint, 1, 311)).length;
  expect(checkpoints).toBeLessThanOrEqual(10);
  await carry(alice, bob);
  const tApplied = performance.now();
  await until(engines(alice, bob), () => converged(alice, bob), 'bob converging');
  for (const [p, data] of files.slice(0, 20)) expect(Buffer.compare(await fsp.readFile(path.join(bob.root, p)), data)).toBe(0);
  console.log(
    `300 files x 4 KiB: written in ${Math.round(tWritten - t0)} ms, announced ${Math.round(tAnnounced - tWritten)} ms after the last write, ` +
      `${checkpoints} checkpoints; carried + verified + applied on Bob in ${Math.round(tApplied - tAnnounced)} ms`,
  );
});

test('directories and files applied from a peer are never announced back, by the watcher or by a rescan', async () => {
  const DIRS = 150;
  const { alice, bob } = await pair();
  for (let i = 0; i < DIRS; i++) await fsp.mkdir(path.join(alice.root, `tree/d${i % 4}/e${i}`), { recursive: true });
  await write(alice, 'tree/d0/file.txt', 'inside');
  const expected = 1 + 4 + DIRS + 1;
  await until(engines(alice), async () => (await alice.replica.versionVector()).get(alice.id.fingerprint)?.seq === expected, `alice announcing ${expected} entries`);
  await carry(alice, bob);
  await until(engines(alice, bob), () => converged(alice, bob), 'bob converging');
  await bob.engine.idle();
  // A fresh engine rescans the whole folder against the index: anything apply wrote must match it.
  await bob.engine.stop();
  bob.engine = await bob.startEngine();
  await bob.engine.idle();
  expect((await bob.replica.versionVector()).get(bob.id.fingerprint)).toBeUndefined();
});

/**
 * Alice writes `p`; Bob's apply refuses it with `code` (his block source is set to fail by the
 * caller); then his source works again and only the engine's own retry can apply it.
 */
async function refusedThenRetried(alice: Node, bob: Node, p: string, data: string, code: string): Promise<void> {
  await write(alice, p, data);
  await until(engines(alice), () => holds(alice, p, data), `alice announcing ${p}`);
  const refused = firstValueFrom(bob.engine.events.pipe(filter((e) => e.type === 'folder:refused' && e.path === p)));
  const run = firstValueFrom(bob.engine.events.pipe(filter((e) => e.type === 'folder:applied' && e.paths.includes(p))));
  await carry(alice, bob);
  expect(await refused).toMatchObject({ code });
  // Still waiting after that run: status counts it as behind until a retry writes it.
  expect(await run).toMatchObject({ waiting: [p] });
  bob.peer = alice; // Nothing else happens on Bob: only the engine's own retry can apply it now.
  await until(engines(bob), () => converged(alice, bob), `bob applying ${p} once his block source works`);
  expect(await read(bob, p)).toBe(data);
}

test('a path whose blocks were missing is applied by itself once the blocks turn up', async () => {
  const { alice, bob } = await pair();
  bob.peer = undefined; // Bob's network has no block source yet.
  await refusedThenRetried(alice, bob, 'late.txt', 'blocks arrive later', 'APPLY_BLOCK_UNAVAILABLE');
});

test('a conflict copy whose blocks are missing waits under the path it copies until a retry writes it', async () => {
  const { alice, bob } = await pair({ 'doc.txt': 'v1' });
  // Bob edits twice (a later Lamport clock than Alice's one edit), so his version wins and Alice's is the copy.
  await write(alice, 'doc.txt', 'alice’s edit');
  await until(engines(alice), () => holds(alice, 'doc.txt', 'alice’s edit'), 'alice announcing');
  for (const text of ['bob’s first edit', 'bob’s second edit']) {
    await write(bob, 'doc.txt', text);
    await until(engines(bob), () => holds(bob, 'doc.txt', text), 'bob announcing');
  }
  bob.peer = undefined; // Alice's bytes cannot reach Bob yet.
  const { events } = await eventsDuring(bob.engine, () => carry(alice, bob));
  const refused = events.find((e) => e.type === 'folder:refused' && e.code === 'APPLY_BLOCK_UNAVAILABLE');
  expect(refused).toMatchObject({ path: expect.stringMatching(/^doc\.sync-conflict-.*\.txt$/), of: 'doc.txt' });
  // The run that refused it (Bob's own runs before it had nothing to wait for).
  const run = events.slice(events.indexOf(refused!)).find((e) => e.type === 'folder:applied' && e.paths.includes('doc.txt'));
  expect(run).toMatchObject({ waiting: ['doc.txt'] });
  expect(await read(bob, 'doc.txt')).toBe('bob’s second edit');

  bob.peer = alice;
  const retried = firstValueFrom(bob.engine.events.pipe(filter((e) => e.type === 'folder:applied' && e.paths.includes('doc.txt'))));
  expect(await retried).toMatchObject({ waiting: [] });
  expect(await copiesOf(bob, 'doc.txt')).toHaveLength(1);
  expect(await read(bob, (await copiesOf(bob, 'doc.txt'))[0])).toBe('alice’s edit');
});

test('an apply run that takes long is reported with the step it is at, and the file still arrives', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice, {}, { slowApplyMs: 100 });
  alice.peer = bob;
  // Bob's blocks come slowly, as from a peer that takes its time: his apply waits in its write step.
  bob.peer = { engine: { localBlocks: { read: (h: string, size: number, signal?: AbortSignal) => new Promise((r) => setTimeout(r, 700)).then(() => alice.engine.localBlocks.read(h, size, signal)) } } } as unknown as typeof alice;
  await write(alice, 'slow.txt', 'worth the wait');
  await until(engines(alice), () => holds(alice, 'slow.txt', 'worth the wait'), 'alice announcing slow.txt');
  const slow = firstValueFrom(bob.engine.events.pipe(filter((e) => e.type === 'folder:problem' && e.code === 'APPLY_SLOW')));
  await carry(alice, bob);
  const report = (await slow) as { message: string };
  expect(report.message).toMatch(/^applying 1 path\(s\) has taken \d+ s so far \(writing files and their index rows\)$/);
  await until(engines(alice, bob), () => converged(alice, bob), 'bob applying slow.txt');
  expect(await read(bob, 'slow.txt')).toBe('worth the wait');
});

test('a path refused by an I/O error (APPLY_IO) is applied by itself once the disk answers again', async () => {
  const { alice, bob } = await pair();
  // Bob's block source fails as a disk does (an errno from a read): apply refuses the path with APPLY_IO.
  const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' });
  bob.peer = { engine: { localBlocks: { read: () => Promise.reject(eio) } } } as unknown as typeof alice;
  await refusedThenRetried(alice, bob, 'flaky.txt', 'the disk came back', 'APPLY_IO');
});

test('a directory a peer deleted, kept here because an ignored file was in it, goes once that file does', async () => {
  const { alice, bob } = await pair({ 'dir/a.txt': 'a', 'seed.txt': 'seed' });
  const next = nextVersion(alice.replica.manifest().manifest, alice.id.fingerprint, Date.now(), { ignoreRules: ['*.log'] });
  expect((await alice.engine.ingest({ manifests: [encodeSignedManifest(await signManifest(hostSigner(alice.id), next))] })).manifestsApplied).toHaveLength(1);
  await carry(alice, bob);
  await write(bob, 'dir/debug.log', 'noise');
  await fsp.rm(path.join(alice.root, 'dir'), { recursive: true });
  await until(engines(alice), async () => !(await liveAt(alice, 'dir')) && !(await liveAt(alice, 'dir/a.txt')), 'alice announcing the deletion');
  await carry(alice, bob);
  await until(engines(bob), async () => (await fsp.readdir(path.join(bob.root, 'dir'))).join() === 'debug.log', 'bob deleting a.txt and keeping dir for debug.log');
  // Bob lets the ignored file go (the watcher does not report ignored paths): the directory follows.
  await fsp.rm(path.join(bob.root, 'dir', 'debug.log'));
  await until(engines(bob), async () => (await fsp.stat(path.join(bob.root, 'dir')).catch(() => undefined)) === undefined, 'bob removing the emptied directory');
  expect(await liveAt(bob, 'dir')).toBe(false);
  expect(await bob.store.localFile(bob.replica.folder, 'dir')).toBeUndefined();
});
