import fc from 'fast-check';
import { Store } from '../../../plugin/src/store';
import { appendBatch, encodeCheckpoint, nextEntry, signCheckpoint, verifyForkEvidence, type HashedEntry } from '../../../plugin/src/log';
import { FolderReplica, type ReplicaStore } from '../../../plugin/src/replica';
import { FOLDER, Fixture, fileMeta, hostSigner, hostVerifier, put, referenceStateHash, sync, wire } from './helpers';
import { signerFor } from '../../vectors/fixtures';

const fx = new Fixture();
beforeAll(() => fx.init());
afterEach(() => fx.cleanup());

const fp = (n: 'alice' | 'bob' | 'carol' | 'dave'): string => fx.ids[n].fingerprint;

/** Alice (admin) and Bob (`bobRole`) in two stores; Bob has Alice's manifests. */
async function pair(bobRole: 'writer' | 'reader' = 'writer', bobPrefixes?: string[]) {
  const alice = await fx.create('alice', [fx.member('alice', 'admin'), fx.member('bob', bobRole, bobPrefixes), fx.member('carol', 'writer')]);
  const bob = await fx.join('bob', alice);
  return { alice, bob };
}

describe('FolderReplica', () => {
  it('Bob catches up with Alice: same vector, same state hash, equal to the log’s own FolderState', async () => {
    const { alice, bob } = await pair();
    await alice.appendLocal([fx.change('alice', put('a.txt')), fx.change('alice', put('docs/b.md')), fx.change('alice', put('docs/c.md'))]);
    await alice.appendLocal([fx.change('alice', { op: 'delete', path: 'docs/c.md' }, await alice.parentsOf('docs/c.md'))]);
    await alice.appendLocal([fx.change('alice', { op: 'move', from: 'a.txt', to: 'z/a.txt', meta: fileMeta('a.txt') }, await alice.parentsOf('a.txt'))]);
    const results = await sync(alice, bob);
    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(5);
    expect(results.flatMap((r) => r.refusals)).toEqual([]);
    expect(await bob.versionVector()).toEqual(await alice.versionVector());
    expect(bob.tip(fp('alice'))).toEqual(alice.tip());
    const h = await alice.state.stateHash();
    expect(await bob.state.stateHash()).toBe(h);
    expect(await referenceStateHash(fx.stores[1], bob)).toBe(h);
    expect((await bob.state.resolve('docs/c.md'))?.winner.live).toBe(false);
    expect((await bob.state.resolve('z/a.txt'))?.winner.live).toBe(true);
    expect((await bob.state.resolve('a.txt'))?.winner.live).toBe(false);
    // Nothing more to send either way.
    expect((await alice.missingFor(await bob.versionVector())).ranges).toEqual([]);
  });

  it('concurrent edits of one path are a conflict with the same winner on both, and a merge resolves it', async () => {
    const { alice, bob } = await pair();
    await alice.appendLocal([fx.change('alice', put('notes.txt', 'v1'))]);
    await sync(alice, bob);
    await alice.appendLocal([fx.change('alice', put('notes.txt', 'alice-v2'), await alice.parentsOf('notes.txt'))]);
    await bob.appendLocal([fx.change('bob', put('notes.txt', 'bob-v2'), await bob.parentsOf('notes.txt'))]);
    await sync(alice, bob);
    await sync(bob, alice);
    const [ra, rb] = [await alice.state.resolve('notes.txt'), await bob.state.resolve('notes.txt')];
    expect(ra?.heads).toHaveLength(2);
    expect(ra?.losers).toHaveLength(1);
    expect(rb?.winner.hash).toBe(ra?.winner.hash);
    const conflicts = [];
    for await (const c of bob.state.conflicts()) conflicts.push(c.path);
    expect(conflicts).toEqual(['notes.txt']);
    const h = await alice.state.stateHash();
    expect(await bob.state.stateHash()).toBe(h);
    expect(await referenceStateHash(fx.stores[0], alice)).toBe(h);

    // Bob merges: one entry naming both heads as parents.
    await bob.appendLocal([fx.change('bob', put('notes.txt', 'merged'), await bob.parentsOf('notes.txt'))]);
    await sync(bob, alice);
    expect((await alice.state.resolve('notes.txt'))?.heads).toHaveLength(1);
    expect(await alice.state.stateHash()).toBe(await bob.state.stateHash());
    expect(await alice.state.stateHash()).not.toBe(h);
  });

  it('a reader’s entries are refused everywhere (NOT_A_WRITER), locally and at peers', async () => {
    const { alice, bob } = await pair('reader');
    await expect(bob.appendLocal([fx.change('bob', put('x.txt'))])).rejects.toMatchObject({ code: 'WRITE_REFUSED', reason: 'NOT_A_WRITER' });
    expect(bob.tip()).toBeNull();
    expect(await bob.versionVector()).toEqual(new Map());
    // Bob signs entries himself, bypassing his replica: Alice refuses them and stores nothing.
    const forged = await appendBatch(null, [fx.change('bob', put('x.txt'))], hostSigner(fx.ids.bob));
    const r = await alice.ingest(wire(forged.entries, forged.checkpoint));
    expect(r.accepted).toBe(0);
    expect(r.refusals.map((x) => [x.reason, x.author, x.seq])).toEqual([['NOT_A_WRITER', fp('bob'), 1]]);
    expect((await alice.versionVector()).has(fp('bob'))).toBe(false);
  });

  it('a writer narrowed to docs/ may write only there; narrowing a full writer needs the seq the old grant ends at', async () => {
    const { alice, bob } = await pair('writer', ['docs']);
    await expect(bob.appendLocal([fx.change('bob', put('docs/ok.md')), fx.change('bob', put('src/no.ts'))])).rejects.toMatchObject({ code: 'WRITE_REFUSED', reason: 'OUTSIDE_PATH_GRANT' });
    expect(bob.tip()).toBeNull(); // the whole batch was refused, nothing signed or stored
    await bob.appendLocal([fx.change('bob', put('docs/ok.md'))]);
    const forged = await appendBatch(bob.tip(), [fx.change('bob', put('src/no.ts'))], hostSigner(fx.ids.bob));
    await sync(bob, alice);
    const r = await alice.ingest(wire(forged.entries, forged.checkpoint));
    expect(r.refusals.map((x) => [x.reason, x.seq])).toEqual([['OUTSIDE_PATH_GRANT', 2]]);
    expect((await alice.versionVector()).get(fp('bob'))?.seq).toBe(1);
    // Narrowing a full writer needs the seq up to which the old grant judges their entries.
    await expect(alice.editManifest({ kind: 'narrow', fingerprint: fp('carol'), pathPrefixes: ['docs'] })).rejects.toMatchObject({ code: 'BAD_CHANGE' });
  });

  it('narrowing a full writer after they wrote keeps what they wrote; later entries outside the new grant are refused', async () => {
    const { alice, bob } = await pair();
    await bob.appendLocal([fx.change('bob', put('src/a.ts'))]);
    await sync(bob, alice);
    const untilSeq = (await alice.versionVector()).get(fp('bob'))?.seq;
    expect(untilSeq).toBe(1);
    await alice.editManifest({ kind: 'narrow', fingerprint: fp('bob'), pathPrefixes: ['docs'], untilSeq });
    const r = await bob.ingest({ manifests: alice.manifestChain() });
    expect(r.manifestChange?.narrowed).toEqual([fp('bob')]);
    await expect(bob.appendLocal([fx.change('bob', put('src/b.ts'))])).rejects.toMatchObject({ code: 'WRITE_REFUSED', reason: 'OUTSIDE_PATH_GRANT' });
    const forged = await appendBatch(bob.tip(), [fx.change('bob', put('src/b.ts'))], hostSigner(fx.ids.bob));
    // Someone who joins later, under the narrowed manifest, still accepts Bob's first entry.
    const carol = await fx.join('carol', alice);
    await sync(bob, carol);
    expect((await carol.versionVector()).get(fp('bob'))?.seq).toBe(1);
    const late = await carol.ingest(wire(forged.entries, forged.checkpoint));
    expect(late.refusals.map((x) => [x.reason, x.seq])).toEqual([['OUTSIDE_PATH_GRANT', 2]]);
  });

  it('a revoked writer’s entries past the last valid seq are refused, earlier ones stay', async () => {
    const { alice, bob } = await pair();
    await bob.appendLocal([fx.change('bob', put('b1')), fx.change('bob', put('b2'))]);
    const early = await bob.appendLocal([fx.change('bob', put('b3'))]);
    // Alice revokes Bob after seq 2; Bob has not heard and writes on.
    await alice.editManifest({ kind: 'revoke', fingerprint: fp('bob'), lastValidSeq: 2 });
    const late = await bob.appendLocal([fx.change('bob', put('b4'))]);
    const carol = await fx.join('carol', alice);
    const results = await sync(bob, carol);
    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(2);
    const refused = results.flatMap((r) => r.refusals).filter((x) => x.kind === 'entry');
    expect(refused[0]).toMatchObject({ reason: 'REVOKED', author: fp('bob'), seq: 3, hash: early.entries[0].hash });
    expect(refused.every((x) => x.seq === 3 ? x.reason === 'REVOKED' : x.seq === 4)).toBe(true);
    expect(late.entries[0].entry.seq).toBe(4);
    expect((await carol.versionVector()).get(fp('bob'))?.seq).toBe(2);
    // Bob learns of the revocation: his replica refuses to write.
    const r = await bob.ingest({ manifests: alice.manifestChain() });
    expect(r.manifestChange?.cut).toEqual([{ author: fp('bob'), fromSeq: 3 }]);
    await expect(bob.appendLocal([fx.change('bob', put('b5'))])).rejects.toMatchObject({ code: 'WRITE_REFUSED', reason: 'REVOKED' });
  });

  it('a revocation that arrives after the entries it refuses removes them: the same state as where it arrived first', async () => {
    const { alice, bob } = await pair();
    await bob.appendLocal([fx.change('bob', put('b1')), fx.change('bob', put('shared.txt', 'bob-1'))]);
    await sync(bob, alice);
    await bob.appendLocal([fx.change('bob', put('b3')), fx.change('bob', put('shared.txt', 'bob-2'), await bob.parentsOf('shared.txt'))]);
    const early = await fx.join('carol', alice); // holds Bob's four entries before the revocation
    await sync(bob, early);
    expect((await early.versionVector()).get(fp('bob'))?.seq).toBe(4);
    await alice.editManifest({ kind: 'revoke', fingerprint: fp('bob'), lastValidSeq: 2 });
    const late = await fx.join('carol', alice); // gets the revocation first
    await sync(bob, late);

    const r = await early.ingest({ manifests: alice.manifestChain() });
    expect(r.cuts).toEqual([{ author: fp('bob'), fromSeq: 3, reason: 'REVOKED', detail: expect.stringContaining('revoked after seq 2'), removed: 2, paths: ['b3', 'shared.txt'], own: [] }]);
    expect(await early.versionVector()).toEqual(await late.versionVector());
    expect(await early.state.stateHash()).toBe(await late.state.stateHash());
    expect(await early.state.stateHash()).toBe(await referenceStateHash(fx.stores[fx.stores.length - 2], early));
    expect((await early.state.resolve('shared.txt'))?.heads.map((h) => h.author)).toEqual([fp('bob')]);
    expect(await early.state.resolve('b3')).toBeUndefined();
    // What was cut is refused if sent again, and the two stay equal.
    const again = await sync(bob, early);
    expect(again.reduce((n, x) => n + x.accepted, 0)).toBe(0);
    expect(again.flatMap((x) => x.refusals).filter((x) => x.kind === 'entry')[0]).toMatchObject({ reason: 'REVOKED', seq: 3 });
    expect(await early.state.stateHash()).toBe(await late.state.stateHash());
    // Bob's own node removes them too, and says which of its changes are not shared.
    const own = await bob.ingest({ manifests: alice.manifestChain() });
    expect(own.cuts.map((c) => [c.fromSeq, c.own.map((e) => e.entry.seq)])).toEqual([[3, [3, 4]]]);
    expect(await bob.state.stateHash()).toBe(await late.state.stateHash());
  });

  it('a narrowed writer’s entries outside the new grant are removed wherever they arrived first; the writer goes on inside it from the freed seq', async () => {
    const { alice, bob } = await pair();
    await bob.appendLocal([fx.change('bob', put('docs/a.md'))]);
    await sync(bob, alice);
    const untilSeq = (await alice.versionVector()).get(fp('bob'))?.seq as number;
    // Bob writes outside docs/ (seq 2) and inside it (seq 3) before he hears of the narrowing.
    const outside = await bob.appendLocal([fx.change('bob', put('src/x.ts')), fx.change('bob', put('docs/b.md'))]);
    const early = await fx.join('carol', alice);
    await sync(bob, early);
    await alice.editManifest({ kind: 'narrow', fingerprint: fp('bob'), pathPrefixes: ['docs'], untilSeq });
    const late = await fx.join('carol', alice);
    await sync(bob, late);
    expect((await late.versionVector()).get(fp('bob'))?.seq).toBe(1);

    const r = await early.ingest({ manifests: alice.manifestChain() });
    expect(r.cuts.map((c) => [c.author, c.fromSeq, c.reason, c.removed, c.paths])).toEqual([[fp('bob'), 2, 'OUTSIDE_PATH_GRANT', 2, ['docs/b.md', 'src/x.ts']]]);
    expect(await early.state.stateHash()).toBe(await late.state.stateHash());

    const own = await bob.ingest({ manifests: alice.manifestChain() });
    expect(own.cuts[0].own.map((e) => e.entry.seq)).toEqual([2, 3]);
    expect(bob.tip()?.seq).toBe(1);
    // Bob's next change inside docs/ takes seq 2 again; both Carols take it, no fork.
    await bob.appendLocal([fx.change('bob', put('docs/b.md'))]);
    for (const c of [early, late]) {
      const got = await sync(bob, c);
      expect(got.flatMap((x) => x.refusals)).toEqual([]);
      expect(got.flatMap((x) => x.forks)).toEqual([]);
      expect((await c.versionVector()).get(fp('bob'))?.seq).toBe(2);
    }
    expect(await early.state.stateHash()).toBe(await bob.state.stateHash());
    expect(await late.state.stateHash()).toBe(await bob.state.stateHash());
    // A node that has not heard yet sends the old seqs 2-3 on: they disagree with seq 2 here,
    // but the old one is refused by the manifest, so it is no fork.
    const stale = await late.ingest(wire(outside.entries, outside.checkpoint));
    expect(stale.refusals.map((x) => [x.reason, x.seq])).toEqual([['OUTSIDE_PATH_GRANT', 2], ['BROKEN_CHAIN', 3]]);
    expect(stale.forks).toEqual([]);
    expect(late.forkedFeedAt(fp('bob'))).toBeUndefined();
    expect(await late.state.stateHash()).toBe(await bob.state.stateHash());
  });

  it('a tampered entry byte is refused and nothing is stored', async () => {
    const { alice, bob } = await pair();
    const made = await alice.appendLocal([fx.change('alice', put('a.txt')), fx.change('alice', put('b.txt'))]);
    for (const [which, at] of [[0, 60], [1, 70], [1, 30]] as const) {
      const w = wire(made.entries, made.checkpoint);
      const bad = Buffer.from(w.entries[which]);
      bad[at] ^= 1;
      w.entries[which] = bad;
      const r = await bob.ingest(w);
      expect(r.accepted).toBe(0);
      expect(r.refusals.length).toBeGreaterThan(0);
      expect(await bob.versionVector()).toEqual(new Map());
    }
    expect(await fx.stores[1].entry(made.entries[0].hash)).toBeUndefined();
  });

  it('a checkpoint signed by another key is refused (BAD_SIGNATURE), and so are the entries it would cover', async () => {
    const { alice, bob } = await pair();
    const made = await alice.appendLocal([fx.change('alice', put('a.txt'))]);
    const forged = await signCheckpoint(hostSigner(fx.ids.carol), made.entries[0]);
    const r = await bob.ingest({ entries: [made.entries[0].bytes], checkpoints: [encodeCheckpoint(forged)] });
    expect(r.accepted).toBe(0);
    expect(r.refusals.map((x) => [x.kind, x.reason])).toEqual([['entry', 'UNCOVERED'], ['checkpoint', 'BAD_SIGNATURE']]);
    // Alice's own key but without the host's wrapping: not what the host would sign, refused too.
    const unwrapped = await signCheckpoint(signerFor(fx.ids.alice.privateKey), made.entries[0]);
    const r2 = await bob.ingest({ entries: [made.entries[0].bytes], checkpoints: [encodeCheckpoint(unwrapped)] });
    expect(r2.refusals.map((x) => x.reason)).toContain('BAD_SIGNATURE');
    expect(await bob.versionVector()).toEqual(new Map());
  });

  it('the same catch-up sent again (a second peer): nothing accepted or refused, state unchanged; a forked entry among the repeats is still found', async () => {
    const { alice, bob } = await pair();
    const first = await alice.appendLocal([fx.change('alice', put('a.txt')), fx.change('alice', put('b.txt')), fx.change('alice', put('c.txt'))]);
    await sync(alice, bob);
    const before = await bob.state.stateHash();
    const again = await bob.ingest(wire(first.entries, first.checkpoint));
    expect(again).toMatchObject({ accepted: 0, refusals: [], deferred: [], forks: [] });
    expect(await bob.state.stateHash()).toBe(before);
    // Another history from seq 2, sent after a repeat of seq 1: the repeat is dropped, the fork is evidence.
    const tip1 = { seq: 1, hash: first.entries[0].hash, lamport: first.entries[0].entry.lamport };
    const other = await appendBatch(tip1, [fx.change('alice', put('evil.txt'))], hostSigner(fx.ids.alice));
    const r = await bob.ingest(wire([first.entries[0], ...other.entries], other.checkpoint));
    expect(r.accepted).toBe(0);
    expect(r.forks).toHaveLength(1);
    expect(r.forks[0]).toMatchObject({ author: fp('alice'), seq: 2 });
  });

  it('a fork (two signed entries at one seq) keeps both as evidence and stops the feed', async () => {
    const { alice, bob } = await pair();
    const first = await alice.appendLocal([fx.change('alice', put('a.txt')), fx.change('alice', put('b.txt'))]);
    await sync(alice, bob);
    // Alice's key signs another history from seq 1 (a restored backup, or malice).
    const tip1 = { seq: 1, hash: first.entries[0].hash, lamport: first.entries[0].entry.lamport };
    const other = await appendBatch(tip1, [fx.change('alice', put('evil.txt'))], hostSigner(fx.ids.alice));
    const r = await bob.ingest(wire(other.entries, other.checkpoint));
    expect(r.accepted).toBe(0);
    expect(r.forks).toHaveLength(1);
    expect(r.forks[0]).toMatchObject({ author: fp('alice'), seq: 2 });
    const stored = await bob.forks();
    expect(stored).toHaveLength(1);
    expect(new Set([stored[0].hashA, stored[0].hashB])).toEqual(new Set([first.entries[1].hash, other.entries[0].hash]));
    // The stored record carries a proof anyone can check, both sides' signed chains included.
    const proof = stored[0].proof!;
    const evidence = { folder: FOLDER, author: fp('alice'), seq: 2, hashes: [stored[0].hashA, stored[0].hashB] as [string, string], entries: proof.entries, checkpoints: proof.checkpoints };
    await expect(verifyForkEvidence(evidence, fx.ids.alice.publicKeyArmored, hostVerifier)).resolves.toEqual({ ok: true });
    await expect(verifyForkEvidence({ ...evidence, checkpoints: proof.checkpoints.slice(0, 1) }, fx.ids.alice.publicKeyArmored, hostVerifier)).resolves.toMatchObject({ ok: false });
    expect(bob.forkedFeedAt(fp('alice'))).toBe(2);
    // Alice's next real entry (seq 3) is refused: the feed stopped at the fork.
    const next = await alice.appendLocal([fx.change('alice', put('c.txt'))]);
    const r2 = await bob.ingest(wire(next.entries, next.checkpoint));
    expect(r2.accepted).toBe(0);
    expect(r2.refusals.map((x) => x.reason)).toEqual(['FORK']);
    expect((await bob.versionVector()).get(fp('alice'))?.seq).toBe(2);
  });

  it("a parent's clock comes from the store in one query, or from recent commits without one: a child at or below it is refused (BAD_LAMPORT)", async () => {
    const { alice } = await pair();
    const a = await alice.appendLocal([fx.change('alice', put('p.txt', 'a1')), fx.change('alice', put('p.txt', 'a2'), [])]);
    const parent = a.entries[1];
    const carol = await fx.join('carol', alice);
    await sync(alice, carol);
    // Carol's replica reopened on her store remembers no clock: the store answers, counted here.
    const store = fx.stores[fx.stores.length - 1];
    let asked: string[][] = [];
    const counting: ReplicaStore = Object.assign(Object.create(store) as ReplicaStore, {
      lamports: (hs: readonly string[]) => {
        asked.push([...hs]);
        return store.lamports!(hs);
      },
    });
    const reopened = await FolderReplica.open({ store: counting, folder: FOLDER, self: fp('carol'), signer: hostSigner(fx.ids.carol), verifier: hostVerifier, clock: fx.clock });
    fx.replicas.push(reopened);
    // Bob's edit names Alice's entry but claims a clock no higher than it.
    const edit = async (of: HashedEntry, lamport: number) => appendBatch(null, [fx.change('bob', put('p.txt', `b${lamport}`), [{ hash: of.hash, lamport }])], hostSigner(fx.ids.bob));
    const bad = await edit(parent, 0);
    expect(bad.entries[0].entry.lamport).toBeLessThanOrEqual(parent.entry.lamport);
    let r = await reopened.ingest(wire(bad.entries, bad.checkpoint));
    expect(r.refusals.map((x) => x.reason)).toEqual(['BAD_LAMPORT']);
    expect(asked).toEqual([[parent.hash]]);

    // An entry committed through this replica is remembered: no store lookup for it as a parent.
    const next = await alice.appendLocal([fx.change('alice', put('p.txt', 'a3'), await alice.parentsOf('p.txt'))]);
    expect((await reopened.ingest(wire(next.entries, next.checkpoint))).accepted).toBe(1);
    asked = [];
    const bad2 = await edit(next.entries[0], 1);
    r = await reopened.ingest(wire(bad2.entries, bad2.checkpoint));
    expect(r.refusals.map((x) => x.reason)).toEqual(['BAD_LAMPORT']);
    const good = await edit(next.entries[0], next.entries[0].entry.lamport);
    r = await reopened.ingest(wire(good.entries, good.checkpoint));
    expect(r.accepted).toBe(1);
    expect(asked).toEqual([]);
    expect((await reopened.state.resolve('p.txt'))?.winner.hash).toBe(good.entries[0].hash);
  });

  it('an entry waiting for a parent from another feed is deferred, then accepted when the parent arrives', async () => {
    const { alice, bob } = await pair();
    const a = await alice.appendLocal([fx.change('alice', put('p.txt', 'a'))]);
    await sync(alice, bob);
    const b = await bob.appendLocal([fx.change('bob', put('p.txt', 'b'), await bob.parentsOf('p.txt'))]);
    const carol = await fx.join('carol', alice);
    const r1 = await carol.ingest(wire(b.entries, b.checkpoint));
    expect(r1.accepted).toBe(0);
    expect(r1.deferred).toEqual([{ author: fp('bob'), seq: 1, hash: b.entries[0].hash, missingParents: [a.entries[0].hash], kept: true }]);
    const r2 = await carol.ingest(wire(a.entries, a.checkpoint));
    expect(r2.accepted).toBe(2);
    expect(r2.deferred).toEqual([]);
    expect(await carol.state.stateHash()).toBe(await bob.state.stateHash());
    // Both feeds in one call, child first: retried within the call.
    const dave = await fx.join('dave', alice);
    const r3 = await dave.ingest({ entries: [b.entries[0].bytes, a.entries[0].bytes], checkpoints: [encodeCheckpoint(b.checkpoint!), encodeCheckpoint(a.checkpoint!)] });
    expect(r3).toMatchObject({ accepted: 2, deferred: [], refusals: [] });
  });

  it('an entry naming a refused parent is accepted at once, also after a restart emptied the memory of refusals', async () => {
    const { alice, bob } = await pair('reader');
    // Bob, a reader, signs an entry himself; Alice names it as a parent (as a node that took it before Bob was demoted would).
    const forged = await appendBatch(null, [fx.change('bob', put('p.txt', 'bob'))], hostSigner(fx.ids.bob));
    const child = await alice.appendLocal([fx.change('alice', put('p.txt', 'alice'), [{ hash: forged.entries[0].hash, lamport: forged.entries[0].entry.lamport }])]);
    const carol = await fx.join('carol', alice);
    const refused = await carol.ingest(wire(forged.entries, forged.checkpoint));
    expect(refused.refusals.map((r) => r.reason)).toEqual(['NOT_A_WRITER']);
    const path = fx.stores[fx.stores.length - 1].path;
    await carol.close();
    await fx.stores[fx.stores.length - 1].close();
    const store = await Store.open(path);
    fx.stores.push(store);
    const again = await FolderReplica.open({ store, folder: FOLDER, self: fp('carol'), signer: hostSigner(fx.ids.carol), verifier: hostVerifier, clock: fx.clock });
    fx.replicas.push(again);
    const r = await again.ingest(wire(child.entries, child.checkpoint));
    expect(r).toMatchObject({ accepted: 1, deferred: [], refusals: [] });
    expect(await again.state.stateHash()).toBe(await alice.state.stateHash());
    // Promoting Bob lets his entries in again: the refusal is forgotten, and the same entry is now taken.
    await alice.editManifest({ kind: 'role', fingerprint: fp('bob'), role: 'writer', untilSeq: 0 });
    await again.ingest({ manifests: alice.manifestChain() });
    expect(await store.refusedAmong(FOLDER, [forged.entries[0].hash])).toEqual(new Set());
    expect((await again.ingest(wire(forged.entries, forged.checkpoint))).accepted).toBe(1);
  });

  it('entriesFor streams batches that each end at a stored checkpoint', async () => {
    const { alice, bob } = await pair();
    for (let i = 0; i < 5; i++) await alice.appendLocal([1, 2, 3].map((k) => fx.change('alice', put(`f${i}-${k}`))));
    const batches = [];
    for await (const b of alice.entriesFor([{ author: fp('alice'), fromSeq: 4, toSeq: 15 }], { batchEntries: 4 })) batches.push(b);
    expect(batches.map((b) => b.entries.length)).toEqual([6, 6]);
    expect(batches.every((b) => b.checkpoints.length === 1)).toBe(true);
    // Bob needs 1..3 first: the range from 4 does not link to his empty feed.
    const r = await bob.ingest(batches[0]);
    expect(r.accepted).toBe(0);
    expect(r.refusals.every((x) => x.reason === 'BROKEN_CHAIN')).toBe(true);
    await sync(alice, bob);
    expect((await bob.versionVector()).get(fp('alice'))?.seq).toBe(15);
  });

  it('manifest edits: a non-admin is refused; concurrent admin edits resolve the same way and the loser is reported', async () => {
    const alice = await fx.create('alice', [fx.member('alice', 'admin'), fx.member('carol', 'admin'), fx.member('bob', 'writer')]);
    const carol = await fx.join('carol', alice);
    const bob = await fx.join('bob', alice);
    await expect(bob.editManifest({ kind: 'add', member: fx.member('dave', 'reader') })).rejects.toMatchObject({ code: 'NOT_ADMIN' });
    const va = await alice.editManifest({ kind: 'add', member: fx.member('dave', 'reader') });
    const vc = await carol.editManifest({ kind: 'role', fingerprint: fp('bob'), role: 'admin' });
    const ra = await alice.ingest({ manifests: carol.manifestChain() });
    const rc = await carol.ingest({ manifests: alice.manifestChain() });
    expect(alice.manifest().hash).toBe(carol.manifest().hash);
    const loser = alice.manifest().hash === va.hash ? vc.hash : va.hash;
    // Each node reports the loser once: the one whose own edit lost, and the one that saw it lose.
    expect(ra.overruledManifests.map((o) => o.hash)).toEqual([loser]);
    expect(rc.overruledManifests.map((o) => o.hash)).toEqual([loser]);
    expect(alice.overruledManifests().map((o) => o.hash)).toEqual([loser]);
    // Stored with its flag: a reopened store says the same.
    expect((await fx.stores[0].manifestChain(FOLDER)).find((m) => m.hash === loser)?.overruled).toBe(true);
  });

  it('reopen after close keeps the tip, the vector, the state hash and the manifest chain', async () => {
    const { alice, bob } = await pair();
    await alice.appendLocal([fx.change('alice', put('a')), fx.change('alice', put('d/b')), fx.change('alice', put('keep'))]);
    await alice.appendLocal([fx.change('alice', { op: 'delete', path: 'a' }, await alice.parentsOf('a'))]);
    await alice.appendLocal([fx.change('alice', { op: 'move', from: 'd/b', to: 'e/b', meta: fileMeta('d/b') }, await alice.parentsOf('d/b'))]);
    await alice.editManifest({ kind: 'add', member: fx.member('dave', 'reader') });
    await sync(alice, bob);
    const before = { tip: bob.tip(fp('alice')), vector: await bob.versionVector(), hash: await bob.state.stateHash(), manifest: bob.manifest().hash };
    const path = fx.stores[1].path;
    await bob.close();
    await expect(bob.versionVector()).resolves.toBeDefined(); // queries go to the store, which is still open
    await expect(bob.appendLocal([fx.change('bob', put('x'))])).rejects.toMatchObject({ code: 'CLOSED' });
    await fx.stores[1].close();
    const store = await Store.open(path);
    fx.stores.push(store);
    const again = await FolderReplica.open({ store, folder: FOLDER, self: fp('bob'), signer: hostSigner(fx.ids.bob), verifier: hostVerifier, clock: fx.clock });
    fx.replicas.push(again);
    expect({ tip: again.tip(fp('alice')), vector: await again.versionVector(), hash: await again.state.stateHash(), manifest: again.manifest().hash }).toEqual(before);
    // The deletion and the move were found again by the one scan on the first state query.
    expect(again.state.deadEntries).toBe(2);
    expect(before.hash).toBe(await referenceStateHash(store, again));
    // Bob's own feed resumes where it was, too.
    await again.appendLocal([fx.change('bob', put('x'))]);
    expect(again.tip()?.seq).toBe(1);
    await expect(FolderReplica.open({ store: fx.stores[0], folder: 'ff'.repeat(16), self: fp('alice'), signer: hostSigner(fx.ids.alice), verifier: hostVerifier, clock: fx.clock })).rejects.toMatchObject({ code: 'NO_MANIFEST' });
  });

  it('appendLocal builds the entries nextEntry would, and an aborted append stores nothing', async () => {
    const { alice } = await pair();
    const c = fx.change('alice', put('first'));
    const expected: HashedEntry = nextEntry(null, c);
    const made = await alice.appendLocal([c]);
    expect(made.entries[0].hash).toBe(expected.hash);
    const ac = new AbortController();
    ac.abort();
    await expect(alice.appendLocal([fx.change('alice', put('a'))], ac.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(alice.tip()?.seq).toBe(1);
    expect((await alice.versionVector()).get(fp('alice'))?.seq).toBe(1);
  });
  it('batches handed over back to back: the next validates while the previous commits, and sees its entries', async () => {
    const { alice, bob } = await pair();
    const made = await Promise.all([1, 2, 3].map((k) => alice.appendLocal([fx.change('alice', put(`f${k}`))])));
    expect(made.map((m) => m.entries[0].entry.seq)).toEqual([1, 2, 3]);
    const child = await alice.appendLocal([fx.change('alice', put('f1', 'again'), await alice.parentsOf('f1'))]);
    const results = await Promise.all([...made, child].map((m) => bob.ingest(wire(m.entries, m.checkpoint))));
    expect(results.map((r) => [r.accepted, r.refusals.length, r.deferred.length])).toEqual([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]]);
    expect(await bob.state.stateHash()).toBe(await alice.state.stateHash());
  });

  it('a failed commit: the batch queued behind it is refused, nothing is half stored, and the feed goes on from the store', async () => {
    const real = await fx.store();
    let failNext = false;
    let failFirst: (e: Error) => void = () => undefined;
    const store: ReplicaStore = {
      ...real,
      appendBatch: (b, o) => {
        if (!failNext) return real.appendBatch(b, o);
        failNext = false;
        return new Promise((_, reject) => (failFirst = reject));
      },
    };
    // The commit of the first batch fails while the second batch is being signed (past its start).
    let signs = 0;
    const inner = hostSigner(fx.ids.alice);
    const signer = { sign: (m: Uint8Array) => (++signs === 3 && failFirst(new Error('disk full')), inner.sign(m)) };
    const alice = await FolderReplica.create({ store, folder: FOLDER, self: fp('alice'), signer, verifier: hostVerifier, clock: fx.clock, name: 'x', members: [fx.member('alice', 'admin')] });
    fx.replicas.push(alice);
    failNext = true;
    const first = alice.appendLocal([fx.change('alice', put('a'))]);
    const second = alice.appendLocal([fx.change('alice', put('b'))]);
    await expect(first).rejects.toThrow('disk full');
    await expect(second).rejects.toMatchObject({ code: 'PREVIOUS_COMMIT_FAILED' });
    expect(await alice.versionVector()).toEqual(new Map());
    const third = await alice.appendLocal([fx.change('alice', put('c'))]);
    expect(third.entries[0].entry.seq).toBe(1);
    expect((await alice.versionVector()).get(fp('alice'))).toEqual({ seq: 1, head: third.entries[0].hash });
  });
  it('a large local batch gets a checkpoint every checkpointEvery entries, so peers catch up in bounded batches', async () => {
    const alice = await FolderReplica.create({ store: await fx.store(), folder: FOLDER, self: fp('alice'), signer: hostSigner(fx.ids.alice), verifier: hostVerifier, clock: fx.clock, name: 'x', members: [fx.member('alice', 'admin'), fx.member('bob', 'writer')], checkpointEvery: 2 });
    fx.replicas.push(alice);
    const made = await alice.appendLocal([1, 2, 3, 4, 5].map((k) => fx.change('alice', put(`f${k}`))));
    expect(made.checkpoints.map((c) => c.seq)).toEqual([2, 4, 5]);
    expect(made.checkpoint?.seq).toBe(5);
    const batches = [];
    for await (const b of alice.entriesFor([{ author: fp('alice'), fromSeq: 1, toSeq: 5 }], { batchEntries: 1 })) batches.push(b.entries.length);
    expect(batches).toEqual([2, 2, 1]);
    const bob = await fx.join('bob', alice);
    await sync(alice, bob);
    expect((await bob.versionVector()).get(fp('alice'))?.seq).toBe(5);
  });
  it('a signature refused in the middle of a batch: nothing of the batch is stored, and the feed goes on from where it was', async () => {
    const inner = hostSigner(fx.ids.alice);
    let signs = 0;
    let refuse = false;
    const signer = { sign: (m: Uint8Array) => (refuse && ++signs === 2 ? Promise.reject(new Error('host refused to sign')) : inner.sign(m)) };
    const alice = await FolderReplica.create({ store: await fx.store(), folder: FOLDER, self: fp('alice'), signer, verifier: hostVerifier, clock: fx.clock, name: 'x', members: [fx.member('alice', 'admin')], checkpointEvery: 2 });
    fx.replicas.push(alice);
    refuse = true;
    await expect(alice.appendLocal([1, 2, 3, 4, 5].map((k) => fx.change('alice', put(`f${k}`))))).rejects.toThrow('host refused to sign');
    expect(await alice.versionVector()).toEqual(new Map());
    expect(alice.tip()).toBeNull();
    const next = await alice.appendLocal([fx.change('alice', put('g'))]);
    expect(next.entries[0].entry.seq).toBe(1);
    expect((await alice.versionVector()).get(fp('alice'))).toEqual({ seq: 1, head: next.entries[0].hash });
  });
  it('manifests in the same call are applied first: a writer added by them is accepted at once', async () => {
    const { alice, bob } = await pair();
    await alice.editManifest({ kind: 'add', member: fx.member('dave', 'writer') });
    const dave = await fx.join('dave', alice);
    const made = await dave.appendLocal([fx.change('dave', put('from-dave'))]);
    // Bob still has the version without Dave; this call brings both.
    const r = await bob.ingest({ manifests: alice.manifestChain(), ...wire(made.entries, made.checkpoint) });
    expect(r).toMatchObject({ accepted: 1, refusals: [], manifestsApplied: [alice.manifest().hash] });
    expect(bob.manifest().hash).toBe(alice.manifest().hash);
    // A tampered manifest is refused and changes nothing.
    const bad = Buffer.from(alice.manifestChain()[1]);
    bad[bad.length - 5] ^= 1;
    const carol = await fx.join('carol', { manifestChain: () => alice.manifestChain().slice(0, 1) } as FolderReplica);
    const rc = await carol.ingest({ manifests: [bad] });
    expect(rc.manifestsApplied).toEqual([]);
    expect(rc.manifestRefusals.length).toBe(1);
    expect(carol.manifest().manifest.version).toBe(1);
  });
  it('editManifest: promote a reader, remove a reader; removing a writer or the last admin is refused with the acl reason', async () => {
    const alice = await fx.create('alice', [fx.member('alice', 'admin'), fx.member('bob', 'writer'), fx.member('dave', 'reader'), fx.member('carol', 'reader')]);
    const v2 = await alice.editManifest({ kind: 'role', fingerprint: fp('dave'), role: 'writer' });
    expect(v2.manifest.members.find((m) => m.fingerprint === fp('dave'))?.role).toBe('writer');
    await alice.editManifest({ kind: 'remove', fingerprint: fp('carol') });
    expect(alice.manifest().manifest.members.map((m) => m.fingerprint)).not.toContain(fp('carol'));
    await expect(alice.editManifest({ kind: 'remove', fingerprint: fp('bob') })).rejects.toMatchObject({ code: 'MANIFEST_REFUSED', reason: 'REVOKE_FIRST' });
    await expect(alice.editManifest({ kind: 'role', fingerprint: fp('alice'), role: 'writer' })).rejects.toMatchObject({ code: 'MANIFEST_REFUSED', reason: 'LAST_ADMIN' });
    await expect(alice.editManifest({ kind: 'remove', fingerprint: fp('carol') })).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER' });
    // Refused edits left nothing behind: version 3 is current and stored, nothing after it.
    expect(alice.manifest().manifest.version).toBe(3);
    expect((await fx.stores[0].manifestChain(FOLDER)).map((m) => m.version)).toEqual([1, 2, 3]);
  });
});

describe('FolderReplica: a manifest change at any point of a catch-up', () => {
  it('gives the state of a node that had it first: revocations and narrowings, delivered before, between or after the entries (property)', async () => {
    const arb = fc.record({
      paths: fc.array(fc.constantFrom('docs/a.md', 'docs/b.md', 'src/x.ts', 'src/y.ts', 'top.txt'), { minLength: 1, maxLength: 12 }),
      batch: fc.integer({ min: 1, max: 4 }),
      edit: fc.constantFrom('revoke', 'narrow', 'demote'),
      until: fc.nat(),
      at: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ paths, batch, edit, until, at }) => {
        try {
          const { alice, bob } = await pair();
          const batches: { entries: Uint8Array[]; checkpoints: Uint8Array[] }[] = [];
          for (let i = 0; i < paths.length; i += batch) {
            const changes = [];
            for (const p of paths.slice(i, i + batch)) changes.push(fx.change('bob', put(p, `${p}@${i}`), await bob.parentsOf(p)));
            // One path twice in a batch: the second names the first through the replica's heads only after it is stored.
            const made = await bob.appendLocal([...new Map(changes.map((c) => [(c.body as { path: string }).path, c])).values()]);
            batches.push(wire(made.entries, made.checkpoint));
          }
          const seqs = bob.tip()?.seq ?? 0;
          const k = until % (seqs + 1);
          const before = await fx.join('carol', alice);
          if (edit === 'revoke') await alice.editManifest({ kind: 'revoke', fingerprint: fp('bob'), lastValidSeq: k });
          else if (edit === 'narrow') await alice.editManifest({ kind: 'narrow', fingerprint: fp('bob'), pathPrefixes: ['docs'], untilSeq: k });
          else await alice.editManifest({ kind: 'role', fingerprint: fp('bob'), role: 'reader', untilSeq: k });
          const first = await fx.join('carol', alice);
          for (const b of batches) await first.ingest(b);
          const where = at % (batches.length + 1);
          for (const [i, b] of batches.entries()) {
            if (i === where) await before.ingest({ manifests: alice.manifestChain() });
            await before.ingest(b);
          }
          if (where === batches.length) await before.ingest({ manifests: alice.manifestChain() });
          expect(await before.versionVector()).toEqual(await first.versionVector());
          expect(await before.state.stateHash()).toBe(await first.state.stateHash());
          // Bob's own node, told last, too.
          await bob.ingest({ manifests: alice.manifestChain() });
          expect(await bob.versionVector()).toEqual(await first.versionVector());
          expect(await bob.state.stateHash()).toBe(await first.state.stateHash());
        } finally {
          await fx.cleanup();
        }
      }),
      { numRuns: 15 },
    );
  });
});
