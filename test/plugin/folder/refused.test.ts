import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { encodeSignedManifest, nextVersion, signManifest } from '../../../plugin/src/acl';
import { LOCAL_COPIES_REL, type FolderEvent } from '../../../plugin/src/folder';
import { hostSigner, member } from '../replica/helpers';
import { carry, Cluster, converged, holds, liveAt, until, type Node } from './helpers';

jest.setTimeout(120_000);

const cluster = new Cluster();
beforeAll(() => cluster.init());
afterEach(() => cluster.cleanup());

const write = (n: Node, p: string, data: string) => fsp.mkdir(path.dirname(path.join(n.root, p)), { recursive: true }).then(() => fsp.writeFile(path.join(n.root, p), data));
const read = (n: Node, p: string) => fsp.readFile(path.join(n.root, p), 'utf8').catch(() => undefined);
const engines = (...ns: Node[]) => ns.map((n) => n.engine);
const announced = async (n: Node) => (await n.replica.versionVector()).has(n.id.fingerprint);

/** Copies beside `p` (`stem.sync-conflict-*`), folder-relative. */
async function copiesOf(n: Node, p: string): Promise<string[]> {
  const dir = path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p);
  const stem = path.posix.basename(p).replace(/\.[^.]*$/, '');
  const names = await fsp.readdir(path.join(n.root, dir)).catch(() => [] as string[]);
  return names.filter((x) => x.startsWith(`${stem}.sync-conflict-`)).map((x) => (dir ? `${dir}/${x}` : x));
}

/** The folder:refused events of a node from now on. */
function refusals(n: Node): FolderEvent[] {
  const out: FolderEvent[] = [];
  n.engine.events.subscribe((e) => {
    if (e.type === 'folder:refused') out.push(e);
  });
  return out;
}

/** Alice (admin) and a second member with `files` made on Alice and applied on the member. */
async function withMember(who: 'bob' | 'carol', role: 'writer' | 'reader', files: Record<string, string>, prefixes?: string[]): Promise<{ alice: Node; other: Node }> {
  cluster.members = (ids) => [member(ids.alice, 'admin'), member(ids[who], role, prefixes)];
  const alice = await cluster.node('alice');
  const other = await cluster.node(who, alice);
  alice.peer = other;
  other.peer = alice;
  for (const [p, data] of Object.entries(files)) await write(alice, p, data);
  await until(engines(alice), async () => {
    for (const [p, data] of Object.entries(files)) if (!(await holds(alice, p, data))) return false;
    return true;
  }, 'alice announcing her files');
  await carry(alice, other);
  await until(engines(alice, other), () => converged(alice, other), `${who} getting alice’s files`);
  return { alice, other };
}

test('a reader’s edit and new file are kept as local copies, never announced; the folder’s version comes back and later updates reach it', async () => {
  const { alice, other: carol } = await withMember('carol', 'reader', { 'doc.txt': 'v1 from alice' });
  const refused = refusals(carol);
  await write(carol, 'doc.txt', 'carol edits locally');
  await until(engines(carol), async () => (await read(carol, 'doc.txt')) === 'v1 from alice' && (await copiesOf(carol, 'doc.txt')).length === 1, 'the edit moved aside, v1 back');
  const [copy] = await copiesOf(carol, 'doc.txt');
  expect(copy).toMatch(new RegExp(`^doc\\.sync-conflict-\\d{8}-\\d{6}-${carol.id.fingerprint.slice(0, 7)}\\.txt$`));
  expect(await read(carol, copy)).toBe('carol edits locally');
  expect(refused).toContainEqual(expect.objectContaining({ path: 'doc.txt', source: 'scan', code: 'WRITE_REFUSED', reason: 'NOT_A_WRITER', copy }));

  // A path the log does not have: only the move.
  await write(carol, 'mine.txt', 'carol’s own');
  await until(engines(carol), async () => (await copiesOf(carol, 'mine.txt')).length === 1 && !existsSync(path.join(carol.root, 'mine.txt')), 'mine.txt moved aside');
  const [mine] = await copiesOf(carol, 'mine.txt');
  expect(await read(carol, mine)).toBe('carol’s own');
  expect(carol.engine.localCopies()).toEqual([copy, mine].sort());
  expect(await announced(carol)).toBe(false);

  // Alice's next version is not blocked by the edit, and apply leaves the copies alone.
  await write(alice, 'doc.txt', 'v2 from alice, longer');
  await until(engines(alice), () => holds(alice, 'doc.txt', 'v2 from alice, longer'), 'alice announcing v2');
  await carry(alice, carol);
  await until(engines(carol), async () => (await read(carol, 'doc.txt')) === 'v2 from alice, longer', 'v2 reaching carol');
  await carol.engine.idle();
  expect(await carol.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());
  expect(await read(carol, copy)).toBe('carol edits locally');
  expect(await read(carol, mine)).toBe('carol’s own');

  // Not retried with later bursts: another refused file is reported alone.
  await write(carol, 'third.txt', 'three');
  await until(engines(carol), async () => refused.some((e) => e.type === 'folder:refused' && e.path === 'third.txt'), 'third.txt refused');
  expect(refused.filter((e) => e.type === 'folder:refused' && (e.path === 'doc.txt' || e.path === 'mine.txt'))).toHaveLength(2);

  // A restart's full rescan neither announces the copies nor copies them again.
  await carol.engine.stop();
  carol.engine = await carol.startEngine();
  await carol.engine.idle();
  expect(await announced(carol)).toBe(false);
  expect(await copiesOf(carol, 'doc.txt')).toEqual([copy]);
  const onDisk = (await fsp.readdir(carol.root)).filter((x) => x.includes('.sync-conflict-')).sort();
  expect(onDisk).toHaveLength(3);
  expect(carol.engine.localCopies()).toEqual(onDisk);
});

test('a reader’s delete and move are undone from the log; the moved file stays as a local copy', async () => {
  const files = { 'a.txt': 'alpha', 'b.txt': 'bee', 'dir/c.txt': 'sea', 'dir/sub/d.txt': 'dee' };
  const { alice, other: carol } = await withMember('carol', 'reader', files);
  const refused = refusals(carol);
  await fsp.rm(path.join(carol.root, 'a.txt'));
  await fsp.rename(path.join(carol.root, 'b.txt'), path.join(carol.root, 'b2.txt'));
  await fsp.rm(path.join(carol.root, 'dir'), { recursive: true });
  await until(
    engines(carol),
    async () => {
      for (const [p, data] of Object.entries(files)) if ((await read(carol, p)) !== data) return false;
      return (await copiesOf(carol, 'b2.txt')).length === 1 && !existsSync(path.join(carol.root, 'b2.txt'));
    },
    'the deleted and moved files back, the moved one kept as a copy',
  );
  const [copy] = await copiesOf(carol, 'b2.txt');
  expect(await read(carol, copy)).toBe('bee');
  expect(refused).toContainEqual(expect.objectContaining({ path: 'a.txt', code: 'WRITE_REFUSED', reason: 'NOT_A_WRITER' }));
  expect(refused.find((e) => e.type === 'folder:refused' && e.path === 'a.txt')).not.toHaveProperty('copy');
  expect(refused).toContainEqual(expect.objectContaining({ path: 'b2.txt', code: 'WRITE_REFUSED', copy }));
  await carol.engine.idle();
  expect(await announced(carol)).toBe(false);
  expect(await carol.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());
});

test('a writer narrowed to docs/: edits inside are shared, edits outside are kept as local copies', async () => {
  const { alice, other: bob } = await withMember('bob', 'writer', { 'top.txt': 'top v1', 'docs/readme.txt': 'readme' }, ['docs']);
  const refused = refusals(bob);
  await write(bob, 'docs/plan.txt', 'in my grant');
  await write(bob, 'top.txt', 'bob edits outside his grant');
  await write(bob, 'notes.txt', 'outside too');
  await until(
    engines(bob),
    async () =>
      (await holds(bob, 'docs/plan.txt', 'in my grant')) &&
      (await read(bob, 'top.txt')) === 'top v1' &&
      (await copiesOf(bob, 'top.txt')).length === 1 &&
      (await copiesOf(bob, 'notes.txt')).length === 1,
    'plan.txt announced, top.txt and notes.txt kept',
  );
  expect(refused).toContainEqual(expect.objectContaining({ path: 'top.txt', reason: 'OUTSIDE_PATH_GRANT', copy: (await copiesOf(bob, 'top.txt'))[0] }));
  expect(await read(bob, (await copiesOf(bob, 'top.txt'))[0])).toBe('bob edits outside his grant');
  await carry(bob, alice);
  await until(engines(alice), () => holds(alice, 'docs/plan.txt', 'in my grant'), 'alice getting plan.txt');
  expect(await read(alice, 'top.txt')).toBe('top v1');
  expect(await liveAt(alice, 'notes.txt')).toBe(false);
  expect((await copiesOf(alice, 'notes.txt')).length + (await copiesOf(alice, 'top.txt')).length).toBe(0);
});

test('a reader promoted to writer does not announce the copies it kept; its next edit is shared', async () => {
  const { alice, other: carol } = await withMember('carol', 'reader', { 'doc.txt': 'v1' });
  await write(carol, 'doc.txt', 'carol’s refused edit');
  await until(engines(carol), async () => (await copiesOf(carol, 'doc.txt')).length === 1 && (await read(carol, 'doc.txt')) === 'v1', 'the edit kept as a copy');
  const [copy] = await copiesOf(carol, 'doc.txt');
  expect(JSON.parse(await fsp.readFile(path.join(carol.root, ...LOCAL_COPIES_REL.split('/')), 'utf8')).paths).toEqual([copy]);

  const next = nextVersion(alice.replica.manifest().manifest, alice.id.fingerprint, Date.now(), { upsert: [member(cluster.ids.carol, 'writer')] });
  expect((await alice.engine.ingest({ manifests: [encodeSignedManifest(await signManifest(hostSigner(alice.id), next))] })).manifestsApplied).toHaveLength(1);
  await carry(alice, carol);
  expect(carol.replica.manifest().manifest.members.find((m) => m.fingerprint === carol.id.fingerprint)?.role).toBe('writer');
  await carol.engine.stop();
  carol.engine = await carol.startEngine();
  await carol.engine.idle();
  expect(await announced(carol)).toBe(false);
  expect(await read(carol, copy)).toBe('carol’s refused edit');

  await write(carol, 'doc.txt', 'carol’s edit as a writer');
  await until(engines(carol), () => holds(carol, 'doc.txt', 'carol’s edit as a writer'), 'carol announcing her edit');
  await carry(carol, alice);
  await until(engines(alice), () => holds(alice, 'doc.txt', 'carol’s edit as a writer'), 'alice getting it');
  expect(await liveAt(alice, copy)).toBe(false);
  expect(await copiesOf(alice, 'doc.txt')).toEqual([]);
});

test('a writer narrowed while writing outside the new grant: a node that held the change removes the file, the writer keeps it as a local copy, and writes on inside the grant', async () => {
  cluster.members = (ids) => [member(ids.alice, 'admin'), member(ids.bob, 'writer'), member(ids.carol, 'writer')];
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const carol = await cluster.node('carol', alice);
  carol.peer = bob;
  alice.peer = bob;
  await write(bob, 'src/x.ts', 'bob outside');
  await until(engines(bob), () => holds(bob, 'src/x.ts', 'bob outside'), 'bob announcing src/x.ts');
  await carry(bob, carol);
  await until(engines(carol), async () => (await read(carol, 'src/x.ts')) === 'bob outside', 'src/x.ts reaching carol');

  // Alice, who never saw it, narrows Bob to docs/ with nothing of his before.
  await alice.replica.editManifest({ kind: 'narrow', fingerprint: bob.id.fingerprint, pathPrefixes: ['docs'], untilSeq: 0 });
  const cut = await carry(alice, carol);
  expect(cut.cuts.map((c) => [c.author, c.fromSeq, c.reason])).toEqual([[bob.id.fingerprint, 1, 'OUTSIDE_PATH_GRANT']]);
  await until(engines(carol), async () => !existsSync(path.join(carol.root, 'src')), 'src/x.ts and src removed at carol');
  expect(await carol.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());

  const refused = refusals(bob);
  await carry(alice, bob);
  // The new directory goes aside whole, with the file in it.
  await until(engines(bob), async () => !existsSync(path.join(bob.root, 'src')) && (await copiesOf(bob, 'src')).length === 1, 'bob’s change moved aside');
  const [dirCopy] = await copiesOf(bob, 'src');
  const copy = `${dirCopy}/x.ts`;
  expect(await read(bob, copy)).toBe('bob outside');
  expect(refused).toContainEqual(expect.objectContaining({ path: 'src/x.ts', code: 'WRITE_REFUSED', reason: 'OUTSIDE_PATH_GRANT', copy }));
  expect(bob.engine.localCopies()).toEqual([dirCopy]);
  expect(bob.replica.tip()).toBeNull();
  await bob.engine.idle();
  expect(await bob.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());

  // Inside the grant Bob goes on, from seq 1 again; both take it without a fork.
  await write(bob, 'docs/b.md', 'bob inside');
  await until(engines(bob), () => holds(bob, 'docs/b.md', 'bob inside'), 'bob announcing docs/b.md');
  expect(bob.replica.tip()?.seq).toBe(2); // docs/ and docs/b.md, at seqs 1 and 2 again
  for (const n of [carol, alice]) {
    await carry(bob, n);
    await until(engines(n), async () => (await read(n, 'docs/b.md')) === 'bob inside', `docs/b.md reaching ${n.name}`);
    expect(await n.replica.forks()).toEqual([]);
  }
  expect(await carol.replica.state.stateHash()).toBe(await bob.replica.state.stateHash());
  expect(await alice.replica.state.stateHash()).toBe(await bob.replica.state.stateHash());
});
