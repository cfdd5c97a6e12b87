/** The manifest's roles hold on every node of a real network: readers, narrowed writers, removed members, non-members. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { converged, Net, read, until, write } from './helpers';

jest.setTimeout(150_000);

const net = new Net();
afterEach(() => net.cleanup());

test('a reader’s edits reach nobody and stay as a local copy; a writer narrowed to docs/ changes docs/ only; a non-member friend learns nothing', async () => {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  const carol = await net.node('Carol');
  const dave = await net.node('Dave');
  await net.friends(alice, bob, carol, dave);
  const folder = await net.create(alice, 'Club', { 'readme.txt': 'v1', 'docs/notes.txt': 'notes v1' });
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'readme.txt' && f.state === 'synced'), 'alice announcing');
  const a = net.root(alice, 'Club');
  const b = await net.invite(alice, folder, bob, 'writer', ['docs']);
  const c = await net.invite(alice, folder, carol, 'reader');
  const all = [{ node: alice, root: a }, { node: bob, root: b }, { node: carol, root: c }];
  await until([alice, bob, carol], () => converged(folder, all), 'first convergence');

  // Carol (reader) edits and adds: refused at her own node, kept beside as a conflict copy.
  await write(c, 'readme.txt', 'carol was here');
  await write(c, 'carol-new.txt', 'new from carol');
  await until([carol], async () => (await read(c, 'readme.txt')) === 'v1' && (await fsp.readdir(c)).some((n) => n.startsWith('readme.sync-conflict-')), 'carol’s edit put aside');
  // Bob (narrowed to docs/) writes inside and outside docs/.
  await write(b, 'docs/notes.txt', 'notes v2 by bob');
  await write(b, 'outside.txt', 'bob outside docs');
  await until([alice, bob, carol], async () => (await read(a, 'docs/notes.txt')) === 'notes v2 by bob' && (await read(c, 'docs/notes.txt')) === 'notes v2 by bob', 'bob’s docs/ edit everywhere');
  // A later change of Alice's crosses the same links: by the time it arrives, anything of Bob's or Carol's would have too.
  await write(a, 'later.txt', 'after');
  await until([alice, bob, carol], async () => (await read(b, 'later.txt')) === 'after' && (await read(c, 'later.txt')) === 'after', 'alice’s later write everywhere');
  // Carol, a reader, never pushes anything: Alice still sees her in sync (by what Alice sent her).
  await until([alice, bob, carol], async () => (await alice.service.folder(folder)).status.peers.every((p) => p.state === 'in-sync' && p.theyLackEntries === 0), 'alice seeing bob and carol in sync');
  for (const r of [a, b]) {
    expect(await read(r, 'readme.txt')).toBe('v1');
    expect(await read(r, 'carol-new.txt')).toBeUndefined();
    expect((await fsp.readdir(r)).some((n) => n.startsWith('readme.sync-conflict-'))).toBe(false);
  }
  // Bob's write outside docs/ was put aside on his node, as Carol's was on hers.
  await until([bob], async () => (await read(b, 'outside.txt')) === undefined && (await fsp.readdir(b)).some((n) => n.startsWith('outside.sync-conflict-')), 'bob’s outside write put aside');
  expect(await read(a, 'outside.txt')).toBeUndefined();
  expect(await read(c, 'outside.txt')).toBeUndefined();
  expect((await alice.service.running(folder)!.replica.versionVector()).has(carol.fingerprint)).toBe(false);

  // The panel's actions are checked against the manifest too, not only hidden.
  await expect(carol.service.editMember(folder, { kind: 'invite', fingerprint: dave.fingerprint, role: 'writer' })).rejects.toMatchObject({ code: 'NOT_ADMIN' });
  await expect(carol.service.restore(folder, 'readme.txt', 'x')).rejects.toMatchObject({ code: 'NOT_A_WRITER' });
  await expect(bob.service.leaveFolder(folder)).resolves.toBeUndefined();
  await expect(alice.service.leaveFolder(folder)).rejects.toMatchObject({ code: 'LAST_ADMIN' });

  // Dave is everyone's friend but no member: no invitation, no folder, no files.
  expect(dave.service.invitations()).toEqual([]);
  expect(await dave.service.folders()).toEqual([]);
  const status = await alice.service.folder(folder);
  expect(status.status.peers.map((p) => p.name).sort()).toEqual(['Bob', 'Carol']);
});

test('a removed member receives nothing written after the removal', async () => {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  await net.friends(alice, bob);
  const folder = await net.create(alice, 'Shared', { 'one.txt': 'before' });
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'one.txt' && f.state === 'synced'), 'alice announcing');
  const a = net.root(alice, 'Shared');
  const b = await net.invite(alice, folder, bob, 'writer');
  await until([alice, bob], async () => (await read(b, 'one.txt')) === 'before', 'bob receiving');
  const members = await alice.service.editMember(folder, { kind: 'remove', fingerprint: bob.fingerprint });
  expect(members.find((m) => m.name === 'Bob')?.state).toBe('revoked');
  const before = (await alice.service.running(folder)!.replica.versionVector()).get(alice.fingerprint)!.seq;
  await write(a, 'two.txt', 'after the removal');
  await write(a, 'one.txt', 'edited after the removal');
  await until([alice], async () => (await alice.service.running(folder)!.replica.versionVector()).get(alice.fingerprint)!.seq >= before + 2, 'alice announcing her later writes');
  // Bob's node asks again (a resync, as after a lost message): still nothing.
  for (const s of bob.service.running(folder)!.sessions.values()) await s.resync();
  await write(path.join(b), 'from-removed-bob.txt', 'bob after removal');
  const bobs = alice.service.running(folder)!.sessions.get(bob.fingerprint);
  expect(bobs?.view().member).toBe(false);
  // Alice's vector after her writes; Bob's stays at what he had before.
  await until([alice, bob], async () => (await read(b, 'two.txt')) === undefined && (await bob.service.running(folder)!.replica.versionVector()).get(alice.fingerprint)!.seq <= before, 'bob still without the later writes');
  expect(await read(b, 'one.txt')).toBe('before');
  expect(await read(a, 'from-removed-bob.txt')).toBeUndefined();
});
